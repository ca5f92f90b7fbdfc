"""The module named by this distribution's ``hypergraph`` entry point.

It only tells hypergraph which names exist and where they live; ``DiskCache`` and
``SqliteCheckpointer`` are imported when a user first asks for them
(``from hypergraph import DiskCache``, ``from hypergraph.checkpointers import SqliteCheckpointer``).
"""

from __future__ import annotations

from collections.abc import Callable

from hypergraph.plugins import hookimpl

__all__ = ["hypergraph_register_cache_backends", "hypergraph_register_checkpointers"]


@hookimpl
def hypergraph_register_cache_backends(register: Callable[..., None]) -> None:
    """Register ``DiskCache``, the persistent, signed cache backend."""
    register("DiskCache", "hypergraph_sqlite.disk_cache:DiskCache")


@hookimpl
def hypergraph_register_checkpointers(register: Callable[..., None]) -> None:
    """Register ``SqliteCheckpointer``, runs and checkpoints in a SQLite file."""
    register("SqliteCheckpointer", "hypergraph_sqlite.checkpointer:SqliteCheckpointer")
