"""The module named by this distribution's ``hypergraph`` entry point.

It only tells hypergraph which names exist and where they live; ``DiskCache`` is imported when a
user first asks for it (``from hypergraph import DiskCache``).
"""

from __future__ import annotations

from collections.abc import Callable

from hypergraph.plugins import hookimpl

__all__ = ["hypergraph_register_cache_backends"]


@hookimpl
def hypergraph_register_cache_backends(register: Callable[..., None]) -> None:
    """Register ``DiskCache``, the persistent, signed cache backend."""
    register("DiskCache", "hypergraph_sqlite.disk_cache:DiskCache")
