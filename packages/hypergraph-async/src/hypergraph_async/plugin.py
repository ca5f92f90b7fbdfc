"""Entry point of hypergraph-async: registers AsyncRunner with the hypergraph registry.

Registering imports nothing heavy: the runner module is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypergraph.plugins import hookimpl
from hypergraph.runners.capabilities import RunnerCapabilities

ASYNC_CAPABILITIES = RunnerCapabilities(
    supports_async_nodes=True,
    supports_interrupts=True,
    supports_streaming=True,
    returns_coroutine=True,
)


@hookimpl
def hypergraph_register_runners(register: Callable[..., Any]) -> None:
    register("AsyncRunner", "hypergraph_async.runner:AsyncRunner", capabilities=ASYNC_CAPABILITIES)
