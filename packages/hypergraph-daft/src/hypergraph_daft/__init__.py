"""hypergraph-daft: the DaftRunner plugin (import it as ``from hypergraph import DaftRunner``).

Kept import-free so that loading the entry point (``hypergraph_daft.plugin``) never imports daft.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypergraph_daft.runner import DaftRunner

__all__ = ["DaftRunner"]


def __getattr__(name: str) -> Any:
    if name == "DaftRunner":
        from hypergraph_daft.runner import DaftRunner

        return DaftRunner
    raise AttributeError(f"module 'hypergraph_daft' has no attribute {name!r}")
