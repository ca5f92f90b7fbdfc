"""Import DBOS once, turning its absence into the install hint users need (SPEC PL, issue 9)."""

from __future__ import annotations

from hypergraph.exceptions import MissingPluginError

try:
    import dbos
    from dbos._core import WorkflowHandleAsyncTask
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without dbos
    raise MissingPluginError("DBOSAsyncRunner", "hypergraph-dbos", "dbos") from exc

__all__ = ["WorkflowHandleAsyncTask", "dbos"]
