"""Checkpointers: where runs record their steps so they can resume, fork and retry.

Implementations are registered by plugins (``SqliteCheckpointer`` comes from ``hypergraph-sqlite``)
and imported on first access: ``from hypergraph.checkpointers import SqliteCheckpointer``.
"""

from hypergraph.plugins import lazy_exports as _lazy_exports

__all__: list[str] = []

__getattr__, __dir__ = _lazy_exports(__name__, globals())
