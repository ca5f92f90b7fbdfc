"""hypergraph-sqlite: persistent storage for hypergraph (``DiskCache``, ``SqliteCheckpointer``).

Use its names through hypergraph (``from hypergraph import DiskCache``). This ``__init__`` stays
empty on purpose: hypergraph imports ``hypergraph_sqlite.plugin`` to *register* the names, which
imports this file first, and registering must not import the implementations.
"""

__all__: list[str] = []
