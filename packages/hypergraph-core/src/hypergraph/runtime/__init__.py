"""The run loop every runner shares, and the seam a runner plugs into.

A run is a generator (``RunLoop.run_steps()``, ``MapLoop.steps()``) that yields events and
effects and returns the result; it performs no I/O. A runner is a *driver* that performs those
effects: ``SyncDriver`` in order in this thread, AsyncRunner's with ``await`` and ``gather``,
a thread pool, a durable engine. Most runners only choose an ``Executor`` (how one superstep's
``NodeTask``s run) or override ``invoke`` (how one node is called).

``snapshot``/``restore`` turn run state into a name-keyed ``RunSnapshot`` and back, so a run can
be persisted after any superstep and continued in another process. ``RunIdentity`` and
``NodeTask.task_id`` name runs and node executions deterministically.

With a checkpointer, ``resolve_steps`` (or ``resolve_workflow``/``resolve_workflow_async``)
applies the ``workflow_id`` rules of SPEC CP3 and returns a ``WorkflowStart`` (id, snapshot to
continue from, nodes to re-run after a code change); a ``WorkflowRecorder`` behind a persisting
driver (``PersistingSyncDriver``, AsyncRunner's ``PersistingAsyncDriver``) writes every committed
superstep, child run and final status. A durable runner uses the same pieces.

See the README's "Architecture" section for a walk-through and a diagram.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hypergraph.engine.execution import join_chunks, map_outputs
from hypergraph.events._emitter import Emitter
from hypergraph.plan import NodeKind
from hypergraph.runners._context import RunInfo as RunContext
from hypergraph.runners._context import make_emitter, nested_processors
from hypergraph.runners._graph_node import NestedProcessor
from hypergraph.runners._map import expand_items, normalize_map_over
from hypergraph.runners._options import PartitionedValues
from hypergraph.runners._support import (
    MAP_OPTIONS,
    RUN_OPTIONS,
    UNSET,
    prepare_map,
    prepare_run,
    prepare_values,
    refuse_unread_options,
    run_result,
)
from hypergraph.runners.nesting import call_from_async, call_from_sync
from hypergraph.runtime._driver import (
    DriverTraits,
    Executor,
    SequentialExecutor,
    SyncDriver,
    drain,
    drive,
)
from hypergraph.runtime._identity import RunIdentity, task_id
from hypergraph.runtime._loop import MapLoop, RunLoop, child_call, child_steps
from hypergraph.runtime._snapshot import (
    PlanFingerprint,
    RunSnapshot,
    check_compatible,
    fingerprint,
    restore,
    snapshot,
)
from hypergraph.runtime._tasks import (
    CacheGet,
    CacheSet,
    Committed,
    Effect,
    ExecuteBatch,
    ExecuteItems,
    GatherLeaves,
    Invoke,
    Journaled,
    NodeTask,
    RunChild,
    Steps,
    TaskOutcome,
    Tick,
)

# The checkpointing half (workflow rules, state encoding, the recorder, persisting drivers) is
# imported on first use: a run without a checkpointer never needs it, and importing it would
# add the checkpointer records and codecs to every ``import hypergraph``.
_LAZY = {
    "base_of": "_checkpoint_state",
    "checkpoint_of": "_checkpoint_state",
    "snapshot_of": "_checkpoint_state",
    "PersistingSyncDriver": "_persisting",
    "Write": "_persisting",
    "recorded_items": "_persisting",
    "WorkflowRecorder": "_recorder",
    "MapStart": "_workflow",
    "WorkflowStart": "_workflow",
    "check_force_resume": "_workflow",
    "child_reads": "_workflow",
    "definition_hashes": "_workflow",
    "input_signature": "_workflow",
    "plan_map": "_workflow",
    "plan_map_async": "_workflow",
    "read_async": "_workflow",
    "read_sync": "_workflow",
    "resolve_steps": "_workflow",
    "resolve_workflow": "_workflow",
    "resolve_workflow_async": "_workflow",
}

if TYPE_CHECKING:
    from hypergraph.runtime._checkpoint_state import base_of, checkpoint_of, snapshot_of
    from hypergraph.runtime._persisting import PersistingSyncDriver, Write, recorded_items
    from hypergraph.runtime._recorder import WorkflowRecorder
    from hypergraph.runtime._workflow import (
        MapStart,
        WorkflowStart,
        check_force_resume,
        child_reads,
        definition_hashes,
        input_signature,
        plan_map,
        plan_map_async,
        read_async,
        read_sync,
        resolve_steps,
        resolve_workflow,
        resolve_workflow_async,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    # the loop
    "RunLoop",
    "MapLoop",
    "Steps",
    # tasks, outcomes, effects
    "NodeTask",
    "TaskOutcome",
    "Effect",
    "ExecuteBatch",
    "ExecuteItems",
    "GatherLeaves",
    "Invoke",
    "CacheGet",
    "CacheSet",
    "Committed",
    "Journaled",
    "RunChild",
    "Tick",
    # drivers and executors
    "DriverTraits",
    "SyncDriver",
    "Executor",
    "SequentialExecutor",
    "drive",
    "drain",
    # identity
    "RunIdentity",
    "RunContext",
    "task_id",
    # restorable state
    "RunSnapshot",
    "PlanFingerprint",
    "snapshot",
    "restore",
    "fingerprint",
    "check_compatible",
    # workflows and checkpointers (SPEC CP3-CP9)
    "WorkflowStart",
    "MapStart",
    "WorkflowRecorder",
    "PersistingSyncDriver",
    "Write",
    "recorded_items",
    "resolve_steps",
    "resolve_workflow",
    "resolve_workflow_async",
    "plan_map",
    "plan_map_async",
    "check_force_resume",
    "checkpoint_of",
    "snapshot_of",
    "base_of",
    "child_reads",
    "read_sync",
    "read_async",
    "definition_hashes",
    "input_signature",
    # what a runner needs around the loop
    "RUN_OPTIONS",
    "MAP_OPTIONS",
    "UNSET",
    "prepare_run",
    "prepare_map",
    "prepare_values",
    "PartitionedValues",
    "refuse_unread_options",
    "expand_items",
    "normalize_map_over",
    "run_result",
    "make_emitter",
    "nested_processors",
    "NestedProcessor",
    "Emitter",
    "NodeKind",
    "join_chunks",
    "map_outputs",
    # nested graphs (SPEC R14)
    "child_steps",
    "child_call",
    "call_from_sync",
    "call_from_async",
]
