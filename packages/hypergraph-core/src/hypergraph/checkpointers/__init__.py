"""Checkpointers: where runs record their steps so they can resume, fork and retry (SPEC CP).

This module holds the concepts every checkpointer shares: the record types, the ``Checkpointer``
(async) and ``SyncCheckpointer`` protocols, the ``CheckpointerBase`` helper for backends and the
value codec. Implementations are registered by plugins and imported on first access:

- ``InMemoryCheckpointer``: core's embedded default, no dependency, nothing on disk;
- ``SqliteCheckpointer``: a SQLite file, from ``hypergraph-sqlite``
  (``from hypergraph.checkpointers import SqliteCheckpointer``).
"""

from typing import TYPE_CHECKING

from hypergraph.checkpointers.base import CheckpointerBase
from hypergraph.checkpointers.protocol import (
    Checkpointer,
    SyncCheckpointer,
    require_checkpointer,
)
from hypergraph.checkpointers.records import (
    Checkpoint,
    ChildRun,
    FinishedRuns,
    LineageNode,
    RunRecord,
    StepRecord,
    StepRows,
    StepStatus,
    WorkflowStatus,
    new_workflow_id,
)
from hypergraph.plugins import lazy_exports as _lazy_exports

# Typed for checkers; resolved lazily through the plugin registry at run time.
if TYPE_CHECKING: from hypergraph_sqlite.checkpointer import SqliteCheckpointer as SqliteCheckpointer  # noqa: E701, I001

__all__ = [
    "Checkpoint",
    "Checkpointer",
    "CheckpointerBase",
    "ChildRun",
    "FinishedRuns",
    "LineageNode",
    "RunRecord",
    "StepRecord",
    "StepRows",
    "StepStatus",
    "SyncCheckpointer",
    "WorkflowStatus",
    "new_workflow_id",
    "require_checkpointer",
]

__getattr__, __dir__ = _lazy_exports(__name__, globals())
