"""Entry point of hypergraph-daft: registers DaftRunner with the hypergraph registry.

Registering imports neither daft nor ray: the runner module is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypergraph.plugins import hookimpl
from hypergraph.runners.capabilities import RunnerCapabilities

DAFT_CAPABILITIES = RunnerCapabilities(
    supports_cycles=False,
    supports_gates=False,
    supports_interrupts=False,
    supports_async_nodes=True,
    supports_distributed=True,
    returns_coroutine=False,
)


@hookimpl
def hypergraph_register_runners(register: Callable[..., Any]) -> None:
    register("DaftRunner", "hypergraph_daft.runner:DaftRunner", capabilities=DAFT_CAPABILITIES)
