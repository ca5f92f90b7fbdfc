"""What a checkpointer stores: run records, step records, checkpoints and lineage trees (SPEC CP7).

All are frozen attrs values, serialized through ``hypergraph.serde.make_converter()``. User values
(``RunRecord.inputs``, ``StepRecord.values``, ``Checkpoint.values``) are whatever the graph
computed; ``Checkpoint.state`` is the run loop's JSON-safe bookkeeping, which checkpointers store
without looking inside.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import attrs

from hypergraph.checkpointers import _display

__all__ = [
    "Checkpoint",
    "ChildRun",
    "FinishedRuns",
    "LineageNode",
    "RunRecord",
    "StepRecord",
    "StepRows",
    "StepStatus",
    "WorkflowStatus",
    "child_runs_of",
    "new_workflow_id",
    "utc_now",
]


class WorkflowStatus(str, Enum):
    """Where a recorded run stands; compares equal to its string value (``status == "paused"``)."""

    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return f"WorkflowStatus.{self.name}"


class StepStatus(str, Enum):
    """How one node execution ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"

    def __str__(self) -> str:
        return f"StepStatus.{self.name}"


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (what every record's timestamps use)."""
    return datetime.now(UTC)


def new_workflow_id() -> str:
    """A fresh workflow id ``run-YYYYMMDD-<6 hex>`` (SPEC CP3's auto id)."""
    return f"run-{time.strftime('%Y%m%d', time.gmtime())}-{os.urandom(3).hex()}"


@attrs.frozen(repr=False)
class RunRecord:
    """One recorded run (a workflow): its status, graph, inputs and lineage.

    ``parent_run_id`` links a map item (``<id>/3``) or a nested graph's run (``<id>/<node>``) to
    the run that started it. ``forked_from``/``fork_superstep`` and ``retry_of``/``retry_index``
    record where a fork or a retry came from. ``config`` holds JSON-safe extras the runner wants
    kept with the run (scope, options); ``input_signature`` lets a re-run ``map`` recognise an
    item it already completed (SPEC CP8). ``created_at`` is when the run started (a child's
    record is written at its first commit but dated at its start), ``duration_ms`` runs from
    there to its final status.
    """

    id: str
    status: WorkflowStatus = WorkflowStatus.ACTIVE
    graph_name: str | None = None
    inputs: dict[str, Any] = attrs.field(factory=dict)
    parent_run_id: str | None = None
    forked_from: str | None = None
    fork_superstep: int | None = None
    retry_of: str | None = None
    retry_index: int | None = None
    graph_struct_hash: str | None = None
    graph_code_hash: str | None = None
    input_signature: str | None = None
    config: dict[str, Any] = attrs.field(factory=dict)
    created_at: datetime = attrs.field(factory=utc_now)
    completed_at: datetime | None = None
    duration_ms: float | None = None
    node_count: int = 0
    error_count: int = 0
    error: str | None = None

    def __repr__(self) -> str:
        parts = [f"id={self.id!r}", f"status={self.status.value}"]
        if self.graph_name is not None:
            parts.append(f"graph={self.graph_name!r}")
        parts.append(f"steps={self.node_count}")
        if self.error_count:
            parts.append(f"errors={self.error_count}")
        for name in ("parent_run_id", "forked_from", "retry_of"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        parts.append(f"created={_display.timestamp(self.created_at)}")
        if self.duration_ms is not None:
            parts.append(f"duration={_display.duration(self.duration_ms)}")
        return f"RunRecord({', '.join(parts)})"

    def _repr_html_(self) -> str:
        return _display.record_html("Run", _display.run_fields(self))


@attrs.frozen(repr=False)
class StepRecord:
    """One node execution in one superstep of a run (SPEC CP7); failed steps are recorded too.

    ``index`` is the step's position in its run (0, 1, 2, ... in execution order).
    ``input_versions`` maps each input the node read to the version it saw. ``decision`` is a
    gate's choice, JSON-safe (target names, ``"END"``, or ``None``). ``child_run_id`` names the
    run a nested graph node started.
    """

    run_id: str
    superstep: int
    node_name: str
    index: int
    status: StepStatus = StepStatus.COMPLETED
    values: dict[str, Any] = attrs.field(factory=dict)
    input_versions: dict[str, int] = attrs.field(factory=dict)
    duration_ms: float = 0.0
    cached: bool = False
    decision: str | list[str] | None = None
    error: str | None = None
    created_at: datetime = attrs.field(factory=utc_now)
    completed_at: datetime | None = None
    child_run_id: str | None = None

    def __repr__(self) -> str:
        parts = [
            f"run={self.run_id!r}",
            f"superstep={self.superstep}",
            f"node={self.node_name!r}",
            f"status={self.status.value}",
            f"duration={_display.duration(self.duration_ms)}",
        ]
        if self.cached:
            parts.append("cached")
        if self.values:
            parts.append(f"values={_display.preview_map(self.values)}")
        if self.decision is not None:
            parts.append(f"decision={self.decision!r}")
        if self.error is not None:
            parts.append(f"error={_display.shorten(self.error)!r}")
        if self.child_run_id is not None:
            parts.append(f"child={self.child_run_id!r}")
        return f"StepRecord({', '.join(parts)})"

    def _repr_html_(self) -> str:
        return _display.record_html("Step", _display.step_fields(self))


class StepRows(Sequence[StepRecord]):
    """The step records of one save as plain tuples, made into ``StepRecord`` only when read.

    A run recorded when it ends (``durability="exit"``) saves all its steps at once; building a
    ``StepRecord`` and a ``datetime`` per step costs more than a backend needs to write a row.
    A backend that knows this type reads ``rows`` directly; any other simply iterates it and
    gets ordinary ``StepRecord`` objects.

    Each row is ``(superstep, node_name, index, status, values, input_names, versions_seen,
    duration_ms, cached, decision, error, created_at, child_run_id)``: ``input_versions`` is
    ``dict(zip(input_names, versions_seen))`` (empty when ``versions_seen`` is empty or None),
    ``created_at`` a POSIX timestamp, ``completed_at`` always None.
    """

    __slots__ = ("rows", "run_id")

    def __init__(self, run_id: str, rows: list[tuple[Any, ...]]) -> None:
        self.run_id = run_id
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._record(row) for row in self.rows[index]]
        return self._record(self.rows[index])

    def __iter__(self) -> Iterator[StepRecord]:
        return map(self._record, self.rows)

    def __repr__(self) -> str:
        return f"StepRows({self.run_id!r}, {len(self.rows)} steps)"

    @staticmethod
    def row_of(step: StepRecord) -> tuple[Any, ...]:
        """``step`` as a row (its ``completed_at`` is dropped: rows have none)."""
        versions = step.input_versions
        return (
            step.superstep, step.node_name, step.index, step.status, step.values,
            tuple(versions), tuple(versions.values()), step.duration_ms, step.cached,
            step.decision, step.error, step.created_at.timestamp(), step.child_run_id,
        )

    def _record(self, row: tuple[Any, ...]) -> StepRecord:
        (superstep, node_name, index, status, values, names, seen, duration_ms, cached,
         decision, error, created_at, child_run_id) = row
        return StepRecord(
            self.run_id, superstep, node_name, index, status, values,
            dict(zip(names, seen, strict=False)) if seen else {}, duration_ms, cached, decision,
            error, datetime.fromtimestamp(created_at, UTC), None, child_run_id,
        )


class FinishedRuns(Sequence[tuple[RunRecord, StepRows, "Checkpoint"]]):
    """Runs that started and completed in this process, handed to a checkpointer together.

    With ``durability="exit"`` the compiled items of a map are handed over this way as each
    ends; building a ``RunRecord``, a ``Checkpoint`` and their ``datetime``s per item costs more
    than a backend needs to write the rows. A backend that knows this type (``save_runs_sync``/``save_runs``) reads the columns
    directly; any other iterates it and gets, per run, its record (ACTIVE, as ``create_run``
    takes it), its steps and its last checkpoint, to write as create, save, then COMPLETED.

    ``template`` holds what the runs share (graph, parent, hashes, config). Each entry of
    ``runs`` is ``(run_id, inputs, input_signature, created_at, completed_at, steps, values)``:
    POSIX timestamps, ``steps`` as ``StepRows`` rows, ``values`` the run's final values. Their
    last checkpoints share ``superstep`` and the loop ``state`` (read-only).
    """

    __slots__ = ("runs", "state", "superstep", "template")

    def __init__(
        self,
        template: RunRecord,
        runs: list[tuple[Any, ...]],
        superstep: int,
        state: dict[str, Any],
    ) -> None:
        self.template = template
        self.runs = runs
        self.superstep = superstep
        self.state = state

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._written(run) for run in self.runs[index]]
        return self._written(self.runs[index])

    def __iter__(self) -> Iterator[tuple[RunRecord, StepRows, Checkpoint]]:
        return map(self._written, self.runs)

    def __repr__(self) -> str:
        return f"FinishedRuns({self.template.parent_run_id!r}, {len(self.runs)} runs)"

    def _written(self, run: tuple[Any, ...]) -> tuple[RunRecord, StepRows, Checkpoint]:
        run_id, inputs, signature, created_at, _, rows, values = run
        record = attrs.evolve(
            self.template, id=run_id, inputs=inputs, input_signature=signature,
            created_at=datetime.fromtimestamp(created_at, UTC),
        )
        checkpoint = Checkpoint(run_id, self.superstep, values, self.state, inputs)
        return record, StepRows(run_id, rows), checkpoint


@attrs.frozen(repr=False)
class Checkpoint:
    """A run's state after one superstep: enough to continue, fork or retry from there.

    ``values`` are the user values at that point, ``state`` the run loop's JSON-safe bookkeeping
    (versions, gate decisions, counters) and ``inputs`` the run's stored inputs. ``superstep`` is
    ``None`` for a run that has not finished a superstep yet (start it from its inputs).

    When *saving* a superstep, ``values`` may hold only what that superstep changed or all the
    run's values (a checkpointer stores only entries that are not the very objects it saved
    last time); reads return the values accumulated up to the superstep asked for.
    """

    run_id: str
    superstep: int | None
    values: dict[str, Any] = attrs.field(factory=dict)
    state: dict[str, Any] = attrs.field(factory=dict)
    inputs: dict[str, Any] = attrs.field(factory=dict)

    def __repr__(self) -> str:
        return (
            f"Checkpoint(run={self.run_id!r}, superstep={self.superstep}, "
            f"values={_display.preview_map(self.values)}, state keys={sorted(self.state)!r})"
        )

    def _repr_html_(self) -> str:
        return _display.record_html("Checkpoint", _display.checkpoint_fields(self))


@attrs.frozen(repr=False)
class ChildRun:
    """What a re-run ``map`` needs of one recorded child run (SPEC CP8): whether it completed,
    the signature of the inputs it ran with, and its latest values. ``child_runs(parent)``
    lists them without building a whole ``RunRecord`` per child."""

    id: str
    status: WorkflowStatus
    input_signature: str | None
    values: dict[str, Any]

    def __repr__(self) -> str:
        return (
            f"ChildRun(run={self.id!r}, status={self.status.value}, "
            f"values={_display.preview_map(self.values)})"
        )

    def _repr_html_(self) -> str:
        return _display.record_html("Child run", _display.child_fields(self))


def child_runs_of(children: Sequence[tuple[RunRecord, dict[str, Any]]]) -> list[ChildRun]:
    """``children(parent)``'s answer as ``ChildRun``s: how a backend without a narrower read
    answers ``child_runs``."""
    return [ChildRun(run.id, run.status, run.input_signature, values) for run, values in children]


@attrs.frozen(repr=False)
class LineageNode:
    """A run and the runs forked or retried from it: what ``checkpointer.lineage(id)`` returns."""

    run: RunRecord
    children: tuple[LineageNode, ...] = ()

    @property
    def relation(self) -> str:
        """``"retry"``, ``"fork"`` or ``"root"``: how this run came from its parent in the tree."""
        if self.run.retry_of is not None:
            return "retry"
        if self.run.forked_from is not None:
            return "fork"
        return "root"

    def walk(self) -> Iterator[LineageNode]:
        """This node, then every descendant, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def ids(self) -> list[str]:
        """Every run id in the tree, depth first."""
        return [node.run.id for node in self.walk()]

    def render(self) -> str:
        """The tree as indented text, one run per line."""
        return "\n".join(_display.tree_lines(self))

    def __repr__(self) -> str:
        return f"LineageNode({self.run.id!r}, runs={len(self.ids())})\n{self.render()}"

    def _repr_html_(self) -> str:
        return _display.tree_html(self)
