"""Core's own plugin: registers the implementations that ship inside ``hypergraph-core``.

Core's built-ins go through the same ``hypergraph`` entry-point group and hooks as any third-party
plugin (``[project.entry-points.hypergraph] core = "hypergraph._builtin_plugin"``), so the kernel
has no back door. Like every plugin module it only names targets; it imports none of them.

It registers ``SyncRunner``, ``InMemoryCache`` (and its ``MemoryCache`` alias),
``InMemoryCheckpointer`` and ``RichProgressProcessor`` (which needs the ``progress`` extra).
"""

from __future__ import annotations

from collections.abc import Callable

from hypergraph.plugins import hookimpl
from hypergraph.runners.capabilities import RunnerCapabilities

__all__ = [
    "hypergraph_register_cache_backends",
    "hypergraph_register_checkpointers",
    "hypergraph_register_event_processors",
    "hypergraph_register_runners",
]


@hookimpl
def hypergraph_register_runners(register: Callable[..., None]) -> None:
    """Register ``SyncRunner``, whose capabilities are all the defaults."""
    register("SyncRunner", "hypergraph.runners.sync:SyncRunner", capabilities=RunnerCapabilities())


@hookimpl
def hypergraph_register_cache_backends(register: Callable[..., None]) -> None:
    """Register ``InMemoryCache`` and its alias ``MemoryCache``."""
    register("InMemoryCache", "hypergraph.cache.memory:InMemoryCache")
    register("MemoryCache", "hypergraph.cache.memory:MemoryCache")


@hookimpl
def hypergraph_register_checkpointers(register: Callable[..., None]) -> None:
    """Register ``InMemoryCheckpointer``, the embedded default checkpointer."""
    register("InMemoryCheckpointer", "hypergraph.checkpointers.memory:InMemoryCheckpointer")


@hookimpl
def hypergraph_register_event_processors(register: Callable[..., None]) -> None:
    """Register ``RichProgressProcessor``; importing it needs ``rich`` (the ``progress`` extra)."""
    register("RichProgressProcessor", "hypergraph.events.rich_progress:RichProgressProcessor")
