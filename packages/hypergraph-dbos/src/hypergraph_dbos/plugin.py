"""Entry point of hypergraph-dbos: registers DBOSAsyncRunner with the hypergraph registry.

Registering imports nothing heavy: DBOS (about a second to import) loads on first use of the
runner, never when plugins are listed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from hypergraph.plugins import hookimpl
from hypergraph_async.plugin import ASYNC_CAPABILITIES

__all__ = ["DBOS_CAPABILITIES", "hypergraph_register_runners"]

DBOS_CAPABILITIES = dataclasses.replace(ASYNC_CAPABILITIES, supports_durable_execution=True)
"""AsyncRunner's capabilities plus durable execution (SPEC DB1)."""


@hookimpl
def hypergraph_register_runners(register: Callable[..., Any]) -> None:
    """Register ``DBOSAsyncRunner`` in ``hypergraph``."""
    register(
        "DBOSAsyncRunner", "hypergraph_dbos.runner:DBOSAsyncRunner", capabilities=DBOS_CAPABILITIES
    )
