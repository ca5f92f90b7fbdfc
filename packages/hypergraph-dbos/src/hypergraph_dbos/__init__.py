"""hypergraph-dbos: durable runs on DBOS Transact (``from hypergraph import DBOSAsyncRunner``).

Importing this package is cheap; DBOS loads, and the one generic workflow is registered with it,
when ``DBOSAsyncRunner`` or ``durable_sleep`` is first used.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypergraph_dbos.runner import DBOSAsyncRunner
    from hypergraph_dbos.sleep import durable_sleep

__all__ = ["DBOSAsyncRunner", "durable_sleep"]


def __getattr__(name: str) -> Any:
    if name == "DBOSAsyncRunner":
        from hypergraph_dbos.runner import DBOSAsyncRunner

        return DBOSAsyncRunner
    if name == "durable_sleep":
        from hypergraph_dbos.sleep import durable_sleep

        return durable_sleep
    raise AttributeError(f"module 'hypergraph_dbos' has no attribute {name!r}")
