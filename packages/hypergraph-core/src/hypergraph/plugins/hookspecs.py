"""The hooks a hypergraph plugin may implement, and the markers bound to the ``hypergraph`` project.

Every hook here is a *discovery* hook: it runs once, when the registry first loads, and tells the
kernel which public names exist and where they live. Nothing in a run's hot loop calls a hook.

The ``register`` callbacks take the public export name and a ``"module:attr"`` target string.
Registering never imports the target; the kernel imports it on first use
(``from hypergraph import AsyncRunner``). Runners also pass ``capabilities=RunnerCapabilities(...)``
so ``python -m hypergraph plugins`` can show them without importing the runner.
"""

from __future__ import annotations

from typing import Any

import pluggy

__all__ = [
    "hookimpl",
    "hookspec",
    "hypergraph_configure_converter",
    "hypergraph_register_cache_backends",
    "hypergraph_register_checkpointers",
    "hypergraph_register_event_processors",
    "hypergraph_register_runners",
]

PROJECT_NAME = "hypergraph"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def hypergraph_register_runners(register: Any) -> None:
    """Call ``register(name, "module:attr", capabilities=RunnerCapabilities(...))`` per runner."""


@hookspec
def hypergraph_register_cache_backends(register: Any) -> None:
    """Call ``register(name, "module:attr")`` for each cache backend exported from ``hypergraph``."""


@hookspec
def hypergraph_register_checkpointers(register: Any) -> None:
    """Call ``register(name, "module:attr")`` per checkpointer in ``hypergraph.checkpointers``."""


@hookspec
def hypergraph_register_event_processors(register: Any) -> None:
    """Call ``register(name, "module:attr")`` per event processor in ``hypergraph.events``."""


@hookspec
def hypergraph_configure_converter(converter: Any) -> None:
    """Register cattrs structure/unstructure hooks for the plugin's own types on ``converter``."""
