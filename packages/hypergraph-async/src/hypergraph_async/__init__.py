"""hypergraph-async: the AsyncRunner plugin (import it as ``from hypergraph import AsyncRunner``).

Kept import-free so that loading the entry point (``hypergraph_async.plugin``) stays light.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypergraph_async.runner import AsyncRunner
    from hypergraph_async.stream import RunIterator

__all__ = ["AsyncRunner", "RunIterator"]


def __getattr__(name: str) -> Any:
    if name == "AsyncRunner":
        from hypergraph_async.runner import AsyncRunner

        return AsyncRunner
    if name == "RunIterator":
        from hypergraph_async.stream import RunIterator

        return RunIterator
    raise AttributeError(f"module 'hypergraph_async' has no attribute {name!r}")
