"""``SqliteCheckpointer``: runs, steps and checkpoints in one SQLite file (SPEC CP1, CP7, CP10).

Layout: a ``runs`` table (one row per run), a ``steps`` table (one row per node execution) and a
``checkpoints`` table (per run and superstep: the values that superstep changed, as one JSON
object, and the run loop's state). A superstep of a single step whose outputs are exactly the
checkpoint's values keeps its checkpoint on the step's row instead (``steps.state``): one row,
one statement. So does a new run's first checkpoint when its values are just the run's inputs
and that step's outputs: the inputs are on the run's row already. A checkpoint is read back by
folding the changes of every superstep up to the one asked for (from both tables, after the
run's inputs when its earliest checkpoint is such a step row), so each superstep writes only
what it changed.

Every superstep is one transaction in WAL mode with ``synchronous=NORMAL`` (``BEGIN IMMEDIATE``
... ``COMMIT``, or a lone statement, which SQLite commits atomically by itself): a crash loses at
most the supersteps not yet committed, never half of one, and commits cost a write, not an
fsync. Values are encoded before the transaction starts, so a value that can't be stored fails
the save with nothing written.

Several processes may share one file: each waits up to ``timeout`` seconds for another's write.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from time import time
from typing import Any, Literal

from hypergraph.checkpointers import (
    Checkpoint,
    CheckpointerBase,
    ChildRun,
    FinishedRuns,
    RunRecord,
    StepRecord,
    StepRows,
    StepStatus,
    WorkflowStatus,
)
from hypergraph.checkpointers.base import duplicate_run_error, status_of
from hypergraph.checkpointers.values import Serializer, ValueCodec, dumps
from hypergraph.exceptions import CheckpointError, RunNotFoundError, WorkflowForkError
from hypergraph_sqlite import _schema
from hypergraph_sqlite._writer import Job, Writer

__all__ = ["DURABILITY_MODES", "Durability", "SqliteCheckpointer"]

Durability = Literal["sync", "async", "exit"]
DURABILITY_MODES: tuple[Durability, ...] = ("sync", "async", "exit")

_RUN_COLUMNS = (
    "id, status, graph_name, inputs, parent_run_id, forked_from, fork_superstep, retry_of, "
    "retry_index, graph_struct_hash, graph_code_hash, input_signature, config, created_at, "
    "completed_at, duration_ms, node_count, error_count, error"
)
_INSERT_RUN = f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({', '.join('?' * 19)})"
_STEP_COLUMNS = (
    "run_id, superstep, node_name, idx, status, input_versions, outputs, duration_ms, cached, "
    "decision, error, created_at, completed_at, child_run_id"
)
_INSERT_STEP = f"INSERT INTO steps (seq, {_STEP_COLUMNS}) VALUES ({', '.join('?' * 15)})"
_INSERT_PLAIN_STEP = (
    "INSERT INTO steps (seq, run_id, superstep, node_name, idx, status, input_versions, outputs, "
    "duration_ms, cached, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""A step whose optional columns are all NULL (most of them): binding fewer parameters is
measurably cheaper per row."""
_INSERT_STATE_STEP = (
    "INSERT INTO steps (seq, run_id, superstep, node_name, idx, status, input_versions, outputs, "
    "duration_ms, cached, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""The one step of a superstep that also carries the superstep's checkpoint: its outputs are
the checkpoint's values, ``state`` the loop's state. One row, one statement, one page."""
_CHILD_IDS = (
    "SELECT id FROM runs WHERE id >= ? AND id < ? AND parent_run_id = ? UNION ALL "
    f"SELECT id FROM runs WHERE parent_run_id = ? AND {_schema.FOREIGN_CHILD}"
)
"""The ids of a run's children (parameters: :func:`_child_range`): those named under it by
primary-key range, the others through the partial parent index (see ``_schema.FOREIGN_CHILD``);
on a file that has the older full index, the planner uses that one."""
_NEXT_SEQ = "SELECT coalesce(max(seq) + 1, 0) FROM steps WHERE run_id = ?"
_PUT_CHECKPOINT = (
    "INSERT OR REPLACE INTO checkpoints (run_id, superstep, delta, state) VALUES (?, ?, ?, ?)"
)
_UPDATE_STATUS = """
UPDATE runs SET
    status = :status,
    completed_at = :completed_at,
    duration_ms = CASE WHEN :active THEN duration_ms
                       ELSE coalesce(:duration_ms, (:now - created_at) * 1000) END,
    error = :error,
    node_count = (SELECT count(*) FROM steps WHERE run_id = :id AND status = 'completed'),
    error_count = (SELECT count(*) FROM steps WHERE run_id = :id AND status = 'failed')
WHERE id = :id
"""
_UPDATE_STATUS_COUNTED = """
UPDATE runs SET
    status = :status,
    completed_at = :completed_at,
    duration_ms = coalesce(:duration_ms, (:now - created_at) * 1000),
    error = :error,
    node_count = :node_count,
    error_count = :error_count
WHERE id = :id
"""
"""The final status of a run whose every step this checkpointer wrote: the counts it kept."""
_STATUS = {status: status.value for status in StepStatus}
_RUN_STATUS = {status.value: status for status in WorkflowStatus}
_RUN_EXISTS = "SELECT 1 FROM runs WHERE id = ?"
_MAX_BUFFERED = 100_000
""""exit" mode: a child run ending with this many operations buffered is written at once
rather than with its parent (memory stays bounded in a very large map)."""
_MISSING = object()
_VERSIONS_TEXT: dict[tuple[Any, Any], str] = {}
"""Input versions text by (input names, versions), shared by every checkpointer: most steps of
a graph repeat a few."""
_STATE_PARTS: dict[str, tuple[Any, str]] = {}
"""Per entry of a full loop-state record, the object last encoded and its text (see
``SqliteCheckpointer._full_state_text``); shared, so a new checkpointer starts warm."""


_json = dumps


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class SqliteCheckpointer(CheckpointerBase):
    """Checkpoints in a SQLite file (or ``":memory:"``), for SyncRunner and AsyncRunner alike.

    ``durability`` says when a superstep is written:

    - ``"sync"`` (default): committed before ``save_superstep`` returns. A child run (a
      nested graph's or a map item's) has no transactions of its own: its record is written
      with its first superstep, and its final status with the next write after it (at the
      latest when its parent ends, or when anything reads). A crash in between loses nothing
      a resume needs: a child without a record starts afresh, one still marked active
      resumes with every step it recorded;
    - ``"async"``: committed in order by a background thread; ``update_run_status`` (run end,
      pause, failure), ``flush()`` and every read wait for it;
    - ``"exit"``: kept in memory and written in one transaction when the run's status changes
      (completes, fails, pauses, stops). A child run (a map item, a nested graph) of a run
      this checkpointer created or resumed and that has not ended yet goes into that run's
      transaction when it ends (a map is one write). A crash loses the run's records, its
      children's included; nothing of them is half-written. Reads through this checkpointer
      write what is pending first, so they see everything. Every step is kept, but only the
      latest checkpoint of each such write: a run checkpointed this way is resumed, forked or
      retried from where it stopped, not from an earlier superstep.

    ``serializer="json"`` (default) stores values only when they round-trip through JSON
    exactly (see ``hypergraph.checkpointers.values``); ``"pickle"`` also stores the rest with
    pickle, and reads pickled values back (only open files you trust with it).

    ``readonly=True`` opens an existing file for inspection: it writes nothing, and values it
    can't restore here show as ``UnreadableValue`` placeholders instead of raising. ``timeout``
    is how long a write waits for another process's transaction.
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        durability: Durability = "sync",
        serializer: Serializer = "json",
        readonly: bool = False,
        timeout: float = 30.0,
    ) -> None:
        if durability not in DURABILITY_MODES:
            raise ValueError(
                f"durability={durability!r} is not one of "
                f"{', '.join(map(repr, DURABILITY_MODES))}: 'sync' commits every superstep "
                "before the next starts, 'async' commits in a background thread, 'exit' "
                "writes once when the run ends or pauses."
            )
        self.path = str(path)
        self.durability: Durability = durability
        self.serializer: Serializer = serializer
        self.readonly = readonly
        self.timeout = timeout
        self._codec = ValueCodec(serializer, lenient=readonly)
        self._conn = _schema.open_store(self.path, readonly=readonly, timeout=timeout)
        self._lock = threading.RLock()
        self._closed = False
        self._writer: Writer | None = None
        if durability == "async" and not readonly:
            self._writer = Writer(self._execute, name=f"hypergraph-checkpoint-writer:{self.path}")
        # "exit" mode: encoded rows waiting for the next status change, and per run its latest
        # checkpoint: (superstep, merged changes as encoded pieces, state)
        self._buffer: list[tuple[str, Any, bool]] = []
        self._buffered_runs: set[str] = set()
        self._pending_checkpoints: dict[str, tuple[int, dict[str, str], dict[str, Any]]] = {}
        # per active run: sequence number of its next step, and the values last saved
        self._next_seq: dict[str, int] = {}
        # per run created here: its completed and failed steps written so far (the final
        # status sets them without counting rows); dropped when it is set ACTIVE again
        self._counts: dict[str, list[int]] = {}
        # "sync"/"async": runs created here without a checkpoint yet, with their inputs and
        # the text they were recorded as (the first one may go on its step's row, see the
        # module doc)
        self._unsaved: dict[str, tuple[dict[str, Any], str]] = {}
        # "sync" mode: child runs created here whose final status is not yet set (it is held
        # for the next write, see the class doc)
        self._children: set[str] = set()
        self._last_config: tuple[dict[str, Any], str] | None = None
        # ``save_runs_sync``: the last ``FinishedRuns`` template and state, and their texts
        self._last_finished: tuple[RunRecord, dict[str, Any], list[Any], str] | None = None
        # run ids the last lookups found unrecorded (a buffered create needn't ask again)
        self._absent: dict[str, bool] = {}
        self._last_values: dict[str, dict[str, Any]] = {}
        self._versions_text = _VERSIONS_TEXT
        # "exit" mode: the insert rows of runs created since the buffer was last written (their
        # final status goes into the insert instead of an update after it)
        self._created_rows: dict[str, list[Any]] = {}
        # "exit" and "async" modes: runs created or set ACTIVE here and not ended yet, with
        # their parent (a child of an open parent ends with it, see ``update_run_status_sync``);
        # and those of them this checkpointer created, with the children it created for them:
        # no other child can be recorded (see ``_unrecorded``)
        self._open: dict[str, str | None] = {}
        self._fresh: dict[str, set[str]] = {}
        self._state_parts = _STATE_PARTS
        # write what is pending and release the file at garbage collection or interpreter exit
        self._finalizer = weakref.finalize(self, _finalize, self._shutdown_parts())

    def __repr__(self) -> str:
        return (
            f"SqliteCheckpointer({self.path!r}, durability={self.durability!r}, "
            f"serializer={self.serializer!r}{', readonly=True' if self.readonly else ''})"
        )

    def _where(self) -> str:
        return f"the checkpoint file {self.path}"

    # -- transactions -------------------------------------------------------------------------

    def _execute(self, ops: Job) -> int:
        """Run ``ops`` in one write transaction (all or nothing); the last op's row count."""
        conn = self._conn
        changed = 0
        if len(ops) > 2:
            ops = _coalesce(ops)
        with self._lock:
            if len(ops) == 1 and not ops[0][2]:
                # one statement is its own transaction: no BEGIN/COMMIT round trips. If it
                # lost a race for the write lock (SQLite does not wait when a read snapshot
                # went stale), it changed nothing: take the lock first below instead.
                try:
                    return int(conn.execute(ops[0][0], ops[0][1]).rowcount)
                except sqlite3.OperationalError as exc:
                    if conn.in_transaction or ("locked" not in str(exc) and "busy" not in str(exc)):
                        raise self._translate(exc) from None
                except BaseException as exc:
                    raise self._translate(exc) from None
            try:
                conn.execute("BEGIN IMMEDIATE")
                for sql, params, many in ops:
                    cursor = conn.executemany(sql, params) if many else conn.execute(sql, params)
                    changed = cursor.rowcount
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    # a failed rollback (the disk went away) must not hide the first error;
                    # SQLite rolls the transaction back itself when the connection closes
                    with contextlib.suppress(Exception):
                        conn.execute("ROLLBACK")
                raise self._translate(exc) from None
        return changed

    def _translate(self, exc: BaseException) -> BaseException:
        import sqlite3

        if isinstance(exc, sqlite3.IntegrityError) and "runs.id" in str(exc):
            return _DuplicateRun(
                "A run id written here was recorded meanwhile by another connection to "
                f"{self.path}; pick a new workflow_id."
            )
        if isinstance(exc, sqlite3.IntegrityError) and "steps.run_id" in str(exc):
            return CheckpointError(
                f"Two connections to {self.path} recorded steps of the same run at once; a run "
                "is written by one process at a time (resume it after the other one stopped)."
            )
        if isinstance(exc, sqlite3.Error):
            return _schema.store_error(exc, self.path, timeout=self.timeout)
        return exc

    def _write(self, ops: Job) -> None:
        """Hand ``ops`` to the durability mode: commit now, queue, or buffer."""
        if self.durability == "sync":
            if not self._buffer:
                self._execute(ops)
                return
            try:
                self._drain(ops)  # held child-run writes go in the same transaction
            except _DuplicateRun:
                # another connection recorded a held child's id meanwhile (the same workflow
                # run twice at once): that insert can never go in; the rest stays held
                with self._lock:
                    clashing = {
                        params[0] for sql, params, _ in self._buffer
                        if sql is _INSERT_RUN and self._exists(params[0])
                    }
                    self._buffer = [
                        op for op in self._buffer
                        if not (op[0] is _INSERT_RUN and op[1][0] in clashing)
                    ]
                if clashing:
                    raise duplicate_run_error(min(clashing)) from None
                raise
        elif self._writer is not None:
            self._writer.submit(ops)
        else:
            with self._lock:
                self._buffer.extend(ops)

    def _check_open(self) -> None:
        if self._closed:
            raise CheckpointError(f"{self!r} is closed; create a new one to use the file again.")
        if self.readonly:
            raise CheckpointError(
                f"{self!r} was opened with readonly=True and can't record runs; open it without "
                "readonly to write."
            )

    def flush(self) -> None:
        """Return once everything saved so far is committed."""
        if self._closed:
            return
        self._drain()

    def _drain(self, extra: Job = ()) -> int:
        """Commit queued or buffered writes; ``extra`` goes in the same transaction as the buffer.

        Returns the row count of the last op of ``extra``. Never called with the lock held: the
        writer thread needs it to finish.
        """
        if self._writer is not None:
            self._writer.wait()
        with self._lock:
            if not extra and not self._buffer and not self._pending_checkpoints:
                return 0
            ops = self._take_buffer()
            buffered = len(ops)
            ops.extend(extra)
            if not ops:
                return 0
            try:
                return self._execute(ops)
            except BaseException:
                self._restore_buffer(ops[:buffered])
                raise

    def _take_buffer(self) -> list[tuple[str, Any, bool]]:
        ops = self._buffer
        for run_id, (superstep, items, state) in self._pending_checkpoints.items():
            row = (run_id, superstep, ValueCodec.join(items), self._full_state_text(run_id, state))
            ops.append((_PUT_CHECKPOINT, row, False))
        self._buffer = []
        self._pending_checkpoints = {}
        self._buffered_runs = set()
        self._created_rows = {}
        return ops

    def _restore_buffer(self, ops: list[tuple[str, Any, bool]]) -> None:
        self._buffer = ops + self._buffer

    # -- writes -------------------------------------------------------------------------------

    def create_run_sync(self, run: RunRecord) -> None:
        """Record a new run; ``WorkflowForkError`` if its id exists."""
        if self._closed or self.readonly:
            self._check_open()
        row = self._run_row(run)
        run_id = run.id
        durability = self.durability
        if durability != "sync":
            with self._lock:
                # a lookup that just found no such run (resolving its workflow id) answers this
                absent = self._absent.pop(run_id, False) or self._unrecorded(run_id)
                if run_id in self._buffered_runs or (not absent and self._exists(run_id)):
                    raise duplicate_run_error(run_id)
                self._buffered_runs.add(run_id)
                self._open[run_id] = run.parent_run_id
                kids = self._fresh.get(run_id.rpartition("/")[0])
                if kids is not None:
                    kids.add(run_id)
                self._fresh[run_id] = set()
                if durability == "exit":
                    # buffered until the run's status changes: that status goes into this insert
                    self._buffer.append((_INSERT_RUN, row, False))
                    self._created_rows[run_id] = row
        elif run.parent_run_id is not None:
            # a child run: written with its first superstep (see the class doc); its parent's
            # record shows which children exist, so only a concurrent writer can clash
            with self._lock:
                if run_id in self._buffered_runs:
                    raise duplicate_run_error(run_id)
                self._buffered_runs.add(run_id)
                self._buffer.append((_INSERT_RUN, row, False))
                self._children.add(run_id)
        if durability == "async" or (durability == "sync" and run.parent_run_id is None):
            try:
                self._write(((_INSERT_RUN, row, False),))
            except _DuplicateRun:
                raise duplicate_run_error(run_id) from None
        self._next_seq[run_id] = 0  # a new run has no steps: no query for where they start
        self._counts[run_id] = [0, 0]
        if durability != "exit":
            self._unsaved[run_id] = (run.inputs, row[3])

    def save_superstep_sync(
        self, run_id: str, steps: Sequence[StepRecord], checkpoint: Checkpoint | None
    ) -> None:
        """Record a superstep's steps and checkpoint in one transaction (see the class doc)."""
        if self._closed or self.readonly:
            self._check_open()
        if len(steps) == 1 and checkpoint is not None and self.durability != "exit":
            if steps.__class__ is StepRows:
                row: tuple[Any, ...] | None = steps.rows[0]  # type: ignore[attr-defined]
            else:
                step = steps[0]
                row = None if step.completed_at is not None else StepRows.row_of(step)
            if (
                row is not None and checkpoint.superstep == row[0]
                and row[9] is None and row[10] is None and row[12] is None
                and (checkpoint.values is row[4] or self._inputs_and(run_id, row[4], checkpoint))
            ):
                self._save_one_row(run_id, row, checkpoint)
                return
        codec = self._codec
        cache: dict[int, str] = {}
        plain: list[tuple[Any, ...]] = []  # completed steps with none of the optional columns
        rows: list[tuple[Any, ...]] = []
        seq = self._next_seq.get(run_id)
        if seq is None:
            seq = self._first_seq(run_id)
        encode = codec.encode_map
        versions_text = codec.encode_versions
        outputs = ""
        done = failed = 0
        if steps.__class__ is StepRows:
            seq, done, failed = self._step_rows(run_id, steps.rows, seq, plain, rows, cache)  # type: ignore[attr-defined]
            steps = ()
        for step in steps:
            status = step.status
            if status is StepStatus.COMPLETED:
                done += 1
            elif status is StepStatus.FAILED:
                failed += 1
            versions = step.input_versions
            outputs = encode(step.values, run_id=run_id, node_name=step.node_name, fragments=cache)
            if (
                step.decision is None and step.error is None and step.child_run_id is None
                and step.completed_at is None
            ):
                plain.append((
                    seq, run_id, step.superstep, step.node_name, step.index, _STATUS[status],
                    versions_text(versions) if versions else "{}",
                    outputs, step.duration_ms, 1 if step.cached else 0,
                    step.created_at.timestamp(),
                ))
            else:
                rows.append((
                    seq, run_id, step.superstep, step.node_name, step.index, _STATUS[status],
                    _json(versions) if versions else "{}",
                    outputs, step.duration_ms, 1 if step.cached else 0,
                    None if step.decision is None else _json(step.decision),
                    step.error,
                    step.created_at.timestamp(),
                    None if step.completed_at is None else step.completed_at.timestamp(),
                    step.child_run_id,
                ))
            seq += 1
        self._next_seq[run_id] = seq
        ops: list[tuple[str, Any, bool]] = []
        if len(plain) == 1:
            ops.append((_INSERT_PLAIN_STEP, plain[0], False))
        elif plain:
            ops.append((_INSERT_PLAIN_STEP, plain, True))
        if rows:
            ops.append((_INSERT_STEP, rows, True))
        counts = self._counts.get(run_id)
        if counts is not None:
            counts = [counts[0] + done, counts[1] + failed]  # kept once the write went through
        if checkpoint is None or checkpoint.superstep is None:
            if ops:
                self._write(ops)
                if counts is not None:
                    self._counts[run_id] = counts
            return
        values = checkpoint.values
        changed = self._changed(run_id, values)
        if self._unsaved:
            self._unsaved.pop(run_id, None)
        if self.durability == "exit":
            # Only the run's latest checkpoint is kept: the changes of its supersteps merged,
            # and its latest state, encoded once when the buffer is written.
            items = codec.encode_items(changed, run_id=run_id, node_name=None, fragments=cache)
            with self._lock:
                self._buffer.extend(ops)
                pending = self._pending_checkpoints.get(run_id)
                if pending is not None:
                    pending[1].update(items)
                    items = pending[1]
                self._pending_checkpoints[run_id] = (checkpoint.superstep, items, checkpoint.state)
                if counts is not None:
                    self._counts[run_id] = counts
            return
        state = self._loop_state_text(run_id, checkpoint.state)
        # (a superstep of one step that one row can hold took ``_save_one_row`` above)
        delta = encode(changed, run_id=run_id, node_name=None, fragments=cache)
        ops.append((_PUT_CHECKPOINT, (run_id, checkpoint.superstep, delta, state), False))
        self._write(ops)
        if counts is not None:
            self._counts[run_id] = counts

    def save_runs_sync(self, runs: FinishedRuns) -> None:
        """Record runs that started and completed here (a map's items, ``durability="exit"``):
        their rows built straight from ``runs``' columns, written with their parent's
        transaction (or at once if it isn't open here). Nothing is kept if one fails to encode."""
        if self._closed or self.readonly:
            self._check_open()
        if self.durability != "exit" or not runs.runs:
            super().save_runs_sync(runs)
            return
        last = self._last_finished
        if last is not None and last[0] is runs.template and last[1] is runs.state:
            template, state = last[2], last[3]
        else:  # the runs of one map share both: made once (and kept, so ids can't be reused)
            template = self._run_row(runs.template)
            template[1] = WorkflowStatus.COMPLETED.value
            state = self._full_state_text(runs.template.parent_run_id or "", runs.state)
            self._last_finished = (runs.template, runs.state, template, state)
        encode = self._codec.encode_map
        cache: dict[int, str] = {}
        superstep = runs.superstep
        run_rows: list[list[Any]] = []
        plain: list[tuple[Any, ...]] = []
        other: list[tuple[Any, ...]] = []
        checkpoints: list[tuple[Any, ...]] = []
        for run_id, inputs, signature, created_at, completed_at, steps, values in runs.runs:
            row = template[:]
            row[0] = run_id
            row[3] = encode(inputs, run_id=run_id, node_name=None)
            row[11] = signature
            row[13] = created_at
            row[14] = completed_at
            row[15] = (completed_at - created_at) * 1000.0
            _, row[16], row[17] = self._step_rows(run_id, steps, 0, plain, other, cache)
            run_rows.append(row)
            checkpoints.append((
                run_id, superstep, encode(values, run_id=run_id, node_name=None, fragments=cache),
                state,
            ))
        ops: list[tuple[str, Any, bool]] = [(_INSERT_RUN, run_rows, True)]
        if plain:
            ops.append((_INSERT_PLAIN_STEP, plain, True))
        if other:
            ops.append((_INSERT_STEP, other, True))
        ops.append((_PUT_CHECKPOINT, checkpoints, True))
        parent = runs.template.parent_run_id
        with self._lock:
            buffered = self._buffered_runs
            absent = self._absent
            for row in run_rows:
                run_id = row[0]
                # as ``create_run_sync`` checks: ids under a parent created here need no query
                surely_new = absent.pop(run_id, False) or self._unrecorded(run_id)
                if run_id in buffered or (not surely_new and self._exists(run_id)):
                    raise duplicate_run_error(run_id)
            kids = self._fresh.get(parent) if parent is not None else None
            for row in run_rows:
                buffered.add(row[0])
                if kids is not None:
                    kids.add(row[0])
            if parent in self._open and len(self._buffer) < _MAX_BUFFERED:
                self._buffer.extend(ops)  # written with the parent, when it ends
                return
        self._drain(ops)

    def _step_rows(
        self,
        run_id: str,
        steps: list[tuple[Any, ...]],
        seq: int,
        plain: list[tuple[Any, ...]],
        rows: list[tuple[Any, ...]],
        cache: dict[int, str],
    ) -> tuple[int, int, int]:
        """The rows of ``StepRows`` steps (see ``hypergraph.checkpointers.StepRows``), appended
        to ``plain`` and ``rows`` as ``save_superstep_sync`` builds them from ``StepRecord``s;
        returns the next sequence number and how many completed and failed."""
        encode = self._codec.encode_map
        known = self._versions_text
        completed = StepStatus.COMPLETED
        done = failed = 0
        for (
            superstep, node_name, index, status, values, names, seen, duration_ms, cached,
            decision, error, created_at, child_run_id,
        ) in steps:
            if status is completed:
                done += 1
            elif status is StepStatus.FAILED:
                failed += 1
            if seen:
                versions = known.get((names, seen)) or self._versions_text_of(names, seen)
            else:
                versions = "{}"
            outputs = encode(values, run_id=run_id, node_name=node_name, fragments=cache)
            if decision is None and error is None and child_run_id is None:
                plain.append((
                    seq, run_id, superstep, node_name, index, _STATUS[status], versions,
                    outputs, duration_ms, 1 if cached else 0, created_at,
                ))
            else:
                rows.append((
                    seq, run_id, superstep, node_name, index, _STATUS[status], versions,
                    outputs, duration_ms, 1 if cached else 0,
                    None if decision is None else _json(decision), error, created_at, None,
                    child_run_id,
                ))
            seq += 1
        return seq, done, failed

    def _versions_text_of(self, names: tuple[str, ...], seen: tuple[int, ...]) -> str:
        """The ``input_versions`` text of a step that read ``seen`` of ``names``. Most steps of
        a graph repeat a few, so their texts are kept by names and versions (callers look in
        ``_versions_text`` first and come here on a miss)."""
        known = self._versions_text
        text = known.get((names, seen))
        if text is None:
            if len(known) > 4096:
                known.clear()
            text = known[(names, seen)] = self._codec.encode_versions(
                dict(zip(names, seen, strict=False))
            )
        return text

    def _save_one_row(self, run_id: str, row: tuple[Any, ...], checkpoint: Checkpoint) -> None:
        """A superstep of one step (a ``StepRows`` row) whose outputs are the checkpoint's
        values, or with the run's inputs its first checkpoint's (``_inputs_and``): one row holds
        both (``state`` is the loop's state)."""
        seq = self._next_seq.get(run_id)
        if seq is None:
            seq = self._first_seq(run_id)
        superstep, node_name, index, status, values, names, seen = row[:7]
        versions = self._versions_text_of(names, seen) if seen else "{}"
        outputs = self._codec.encode_map(values, run_id=run_id, node_name=node_name)
        self._write(((_INSERT_STATE_STEP, (
            seq, run_id, superstep, node_name, index, _STATUS[status], versions, outputs,
            row[7], 1 if row[8] else 0, row[11], self._loop_state_text(run_id, checkpoint.state),
        ), False),))
        self._next_seq[run_id] = seq + 1
        self._last_values[run_id] = checkpoint.values
        if self._unsaved:
            self._unsaved.pop(run_id, None)
        counts = self._counts.get(run_id)
        if counts is not None:
            if status is StepStatus.COMPLETED:
                counts[0] += 1
            elif status is StepStatus.FAILED:
                counts[1] += 1

    def _inputs_and(self, run_id: str, outputs: dict[str, Any], checkpoint: Checkpoint) -> bool:
        """Whether ``checkpoint`` is the first of a run created here and its values are exactly
        the run's inputs and ``outputs`` (the very objects): then its step's row can hold it, and
        a read folds the inputs in first. An input a node changed in place must be stored as it
        is now, so the inputs must also still encode as recorded."""
        found = self._unsaved.get(run_id)
        if found is None:
            return False
        inputs, recorded = found
        values = checkpoint.values
        if len(values) != len(inputs) + len(outputs):
            return False
        missing = _MISSING
        for key, value in values.items():
            if outputs.get(key, missing) is not value and inputs.get(key, missing) is not value:
                return False
        return self._codec.encode_map(inputs, run_id=run_id, node_name=None) == recorded

    def _changed(self, run_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """The entries of ``values`` that are not the very objects saved last time for the run.

        A loop may pass a superstep's changes or all of a run's values: either way only what
        changed is encoded. The previous dict is kept (not just ids) so ids can't be reused.
        """
        previous = self._last_values.get(run_id)
        self._last_values[run_id] = values
        if previous is None or not values:
            return values
        missing = _MISSING
        return {k: v for k, v in values.items() if previous.get(k, missing) is not v}

    def _first_seq(self, run_id: str) -> int:
        """Where this process continues numbering ``run_id``'s steps (steps are keyed by it)."""
        import sqlite3

        with self._lock:
            try:
                return int(self._conn.execute(_NEXT_SEQ, (run_id,)).fetchone()[0])
            except sqlite3.Error as exc:
                raise _schema.store_error(exc, self.path, timeout=self.timeout) from None

    def _loop_state_text(self, run_id: str, state: dict[str, Any]) -> str:
        """A checkpoint's loop state as stored: a full record (it has the plan's fingerprint)
        entry by entry, a chained delta as one JSON object."""
        if "fingerprint" in state:
            return self._full_state_text(run_id, state)
        return self._state_text(run_id, state)

    def _full_state_text(self, run_id: str, state: dict[str, Any]) -> str:
        """``_state_text`` of a full loop-state record (a run's first or final state), entry by
        entry: an entry that is the very object encoded last time (runs of one graph share
        what didn't change, see ``hypergraph.runtime``'s recorder) reuses its text."""
        known = self._state_parts
        key_text = self._codec.key_text
        parts = []
        try:
            for key, value in state.items():
                found = known.get(key)
                if found is not None and found[0] is value:
                    parts.append(found[1])
                    continue
                name = key_text(key)
                kind = value.__class__
                if kind is dict or kind is list:
                    if not value:
                        parts.append(name + ("{}" if kind is dict else "[]"))
                        continue
                    text = name + _json(value)
                    known[key] = (value, text)  # kept alive here, so its id can't be reused
                elif kind is int:
                    text = name + int.__repr__(value)
                elif value is None:
                    text = name + "null"
                else:
                    text = name + _json(value)
                parts.append(text)
        except (TypeError, ValueError):
            return self._state_text(run_id, state)  # raises the error naming the run
        return "{" + ",".join(parts) + "}"

    @staticmethod
    def _state_text(run_id: str, state: dict[str, Any], what: str = "run loop's state") -> str:
        try:
            return _json(state)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(
                f"The {what} for run {run_id!r} is not JSON-safe ({exc}): it must hold only "
                "JSON types (dicts with string keys, lists, strings, numbers, booleans, None)."
            ) from None

    def update_run_status_sync(
        self,
        run_id: str,
        status: WorkflowStatus,
        *,
        error: str | None = None,
        duration_ms: float | None = None,
    ) -> None:
        """Set a run's status; with any status but ACTIVE, everything pending is committed first."""
        if self._closed or self.readonly:
            self._check_open()
        if status.__class__ is not WorkflowStatus:
            status = status_of(status)
        now = time()
        active = status is WorkflowStatus.ACTIVE
        counts = self._counts.pop(run_id, None)
        defer = False
        if not active:
            self._next_seq.pop(run_id, None)
            self._last_values.pop(run_id, None)
            if self._unsaved:
                self._unsaved.pop(run_id, None)
            if self._open:
                self._fresh.pop(run_id, None)
                parent = self._open.pop(run_id, _MISSING)
                # "exit": a child run (map item, nested graph) of a run still open here ends
                # with it, in its transaction (written once when the run ends, SPEC CP1)
                defer = (
                    parent in self._open and self.durability == "exit"
                    and len(self._buffer) < _MAX_BUFFERED
                )
            if counts is not None:
                insert = self._created_rows.pop(run_id, None)
                if insert is not None:
                    if defer:
                        _set_final(insert, status, now, duration_ms, counts, error)
                        return
                    self._end_buffered(insert, status, now, duration_ms, counts, error)
                    return
        params = {
            "id": run_id,
            "status": status.value,
            "completed_at": None if active else now,
            "active": active,
            "duration_ms": duration_ms,
            "now": now,
            "error": None if active else error,
        }
        sql = _UPDATE_STATUS
        if not active:
            if counts is not None:
                sql = _UPDATE_STATUS_COUNTED
                params["node_count"], params["error_count"] = counts
            if defer:
                # recorded (created or set ACTIVE here), so the update finds its row
                with self._lock:
                    self._buffer.append((sql, params, False))
                return
            if run_id in self._children:
                # "sync": a child run created here: its end rides along with the next write
                with self._lock:
                    self._children.discard(run_id)
                    self._buffer.append((sql, params, False))
                return
        elif self.durability != "sync":
            self._open[run_id] = run_id.rpartition("/")[0] or None
        if not self._drain(((sql, params, False),)):
            raise RunNotFoundError(run_id, self._where())

    def _end_buffered(
        self,
        insert: list[Any],
        status: WorkflowStatus,
        now: float,
        duration_ms: float | None,
        counts: list[int],
        error: str | None,
    ) -> None:
        """The final status of a run whose insert is still buffered ("exit" mode): written into
        that insert (the columns ``_UPDATE_STATUS_COUNTED`` sets), then the buffer, in one
        transaction with one statement fewer. If the write fails the insert is as it was."""
        before = insert[:]
        _set_final(insert, status, now, duration_ms, counts, error)
        try:
            self._drain()
        except BaseException:
            insert[:] = before
            raise

    def _create_derived_run(self, run: RunRecord, checkpoint: Checkpoint) -> None:
        self._check_open()
        ops: list[tuple[str, Any, bool]] = [(_INSERT_RUN, self._run_row(run), False)]
        if checkpoint.superstep is not None:
            delta = self._codec.encode_map(checkpoint.values, run_id=run.id, node_name=None)
            state = self._state_text(run.id, checkpoint.state)
            ops.append((_PUT_CHECKPOINT, (run.id, checkpoint.superstep, delta, state), False))
        try:
            self._drain(ops)
        except _DuplicateRun:
            raise duplicate_run_error(run.id) from None

    def _config_text(self, run: RunRecord) -> str:
        """``run.config`` as JSON; the runs of one graph share one config object, encoded once."""
        config = run.config
        last = self._last_config
        if last is not None and last[0] is config:
            return last[1]
        text = self._state_text(run.id, config, "config")
        self._last_config = (config, text)
        return text

    def _run_row(self, run: RunRecord) -> list[Any]:
        """The insert row of ``run`` (a list: "exit" mode writes the final status into it)."""
        status = run.status
        return [
            run.id,
            (status if status.__class__ is WorkflowStatus else status_of(status)).value,
            run.graph_name,
            self._codec.encode_map(run.inputs, run_id=run.id, node_name=None),
            run.parent_run_id,
            run.forked_from,
            run.fork_superstep,
            run.retry_of,
            run.retry_index,
            run.graph_struct_hash,
            run.graph_code_hash,
            run.input_signature,
            self._config_text(run),
            run.created_at.timestamp(),
            _ts(run.completed_at),
            run.duration_ms,
            run.node_count,
            run.error_count,
            run.error,
        ]

    # -- reads --------------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self._closed:
            raise CheckpointError(f"{self!r} is closed; create a new one to read the file.")
        import sqlite3

        if not self.readonly:
            self._drain()
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _schema.store_error(exc, self.path, timeout=self.timeout) from None

    def _unrecorded(self, run_id: str) -> bool:
        """Whether ``run_id`` is surely not recorded, without asking the file: it names a child
        (``<parent>/<name>``, CP8, CP9) of a run this checkpointer created and has not ended,
        and is not one of the children it created for it. Ids under a parent are reserved for
        its children, and none could be recorded before the parent was. (If another process
        recorded one meanwhile anyway, writing it here fails with ``WorkflowForkError``.)"""
        parent, slash, _ = run_id.rpartition("/")
        if not slash:
            return False
        kids = self._fresh.get(parent)
        return kids is not None and run_id not in kids

    def _exists(self, run_id: str) -> bool:
        with self._lock:
            return self._conn.execute(_RUN_EXISTS, (run_id,)).fetchone() is not None

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run record, or ``None`` when no such run is recorded."""
        if self._fresh and self._unrecorded(run_id):
            return None  # nothing to write first, nothing to read
        rows = self._query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        if not rows:
            if self.durability != "sync":
                if len(self._absent) > 64:
                    self._absent.clear()
                self._absent[run_id] = True
            return None
        return self._run_from_row(rows[0])

    def steps(self, run_id: str, *, superstep: int | None = None) -> list[StepRecord]:
        """The run's steps in execution order (up to ``superstep`` if given)."""
        sql = f"SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = ?"
        params: list[Any] = [run_id]
        if superstep is not None:
            sql += " AND superstep <= ?"
            params.append(superstep)
        rows = self._query(sql + " ORDER BY seq", params)
        if not rows and self.get_run(run_id) is None:
            raise RunNotFoundError(run_id, self._where())
        return [self._step_from_row(row) for row in rows]

    def checkpoint(self, run_id: str, *, superstep: int | None = None) -> Checkpoint:
        """The run's checkpoint after ``superstep`` (default: the latest)."""
        found = self._query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        if not found:
            raise RunNotFoundError(run_id, self._where())
        run = self._run_from_row(found[0])
        upto = "" if superstep is None else " AND superstep <= ?2"
        sql = (
            f"SELECT superstep, delta, state, 0 FROM checkpoints WHERE run_id = ?1{upto} UNION ALL "
            f"SELECT superstep, outputs, state, 1 FROM steps WHERE run_id = ?1 AND state IS NOT "
            f"NULL{upto} ORDER BY superstep"
        )
        params: list[Any] = [run_id] if superstep is None else [run_id, superstep]
        rows = self._query(sql, params)
        values = self._folded(run_id, found[0][3], [(delta, on_step) for _, delta, _, on_step in rows])
        last, state_text = (rows[-1][0], rows[-1][2]) if rows else (None, "{}")
        return Checkpoint(run_id, last, values, self._load_json(state_text, run_id), run.inputs)

    def _folded(self, run_id: str, inputs: str, changes: list[tuple[str, int]]) -> dict[str, Any]:
        """A run's values: its stored changes (text, on a step row?) in superstep order, after
        its ``inputs`` text when its earliest checkpoint is on a step row (that row holds only
        the step's outputs, see the module doc). Decoded as one JSON object (a later key wins,
        as folding them one by one would): one decode, objects of the caller's own."""
        pieces = [inputs[1:-1]] if changes and changes[0][1] and inputs != "{}" else []
        pieces.extend(delta[1:-1] for delta, _ in changes if delta != "{}")
        if not pieces:
            return {}
        return self._codec.decode_map("{" + ",".join(pieces) + "}", run_id=run_id)

    def checkpoint_states(self, run_id: str, *, after: int, before: int) -> list[dict[str, Any]]:
        """The loop states of ``run_id``'s checkpoints strictly between two supersteps, in order
        (one query: what a resume folds into the full record a delta builds on)."""
        rows = self._query(
            "SELECT superstep, state FROM checkpoints WHERE run_id = ?1 AND superstep > ?2 AND "
            "superstep < ?3 UNION ALL SELECT superstep, state FROM steps WHERE run_id = ?1 AND "
            "state IS NOT NULL AND superstep > ?2 AND superstep < ?3 ORDER BY superstep",
            (run_id, after, before),
        )
        return [self._load_json(state, run_id) for _, state in rows]

    def runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        parent: str | None = None,
        top_level: bool = False,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Recorded runs, oldest first; ``parent=id`` lists every child of ``id``, unpaged."""
        clauses: list[str] = []
        params: list[Any] = []
        if status is not None:
            clauses.append("status = ?")
            params.append(status_of(status).value)
        if graph_name is not None:
            clauses.append("graph_name = ?")
            params.append(graph_name)
        if parent is not None:
            clauses.append(f"id IN ({_CHILD_IDS})")
            params.extend(_child_range(parent))
        if top_level:
            clauses.append("parent_run_id IS NULL")
        sql = f"SELECT {_RUN_COLUMNS} FROM runs"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at, rowid"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return self._runs_of(self._query(sql, params))

    def _runs_of(self, rows: list[Any]) -> list[RunRecord]:
        configs: dict[str, Any] = {}  # the runs of one graph record the same config
        return [self._run_from_row(row, configs) for row in rows]

    def children(self, parent_id: str) -> list[tuple[RunRecord, dict[str, Any]]]:
        """Every child run of ``parent_id`` with its latest values: two queries, not one per child."""
        listed = self._child_rows(_RUN_COLUMNS, parent_id)
        runs = self._runs_of(listed)
        values = self._children_values(parent_id, {row[0]: row[3] for row in listed})
        return [(run, values[run.id]) for run in runs]

    def child_runs(self, parent_id: str) -> list[ChildRun]:
        """:meth:`children` as ``ChildRun``s, from the four columns a re-run ``map`` needs of
        each child's run row (a whole ``RunRecord`` per child cost most of the read)."""
        listed = self._child_rows("id, status, input_signature, inputs", parent_id)
        values = self._children_values(parent_id, {row[0]: row[3] for row in listed})
        return [
            ChildRun(run_id, self._status(status, run_id), signature, values[run_id])
            for run_id, status, signature, _ in listed
        ]

    def _child_rows(self, columns: str, parent_id: str) -> list[Any]:
        """``columns`` of every child run of ``parent_id``, oldest first."""
        return self._query(
            f"SELECT {columns} FROM runs WHERE id IN ({_CHILD_IDS}) ORDER BY created_at, rowid",
            _child_range(parent_id),
        )

    def _children_values(self, parent_id: str, inputs: dict[str, str]) -> dict[str, dict[str, Any]]:
        """The latest values of the children whose stored inputs are ``inputs`` (by id, as
        stored: decoded with their changes); ``{}`` for a child that saved no checkpoint."""
        values: dict[str, dict[str, Any]] = {run_id: {} for run_id in inputs}
        rows = self._query(
            f"SELECT run_id, superstep, delta, 0 FROM checkpoints WHERE run_id IN ({_CHILD_IDS}) "
            f"UNION ALL SELECT run_id, superstep, outputs, 1 FROM steps WHERE run_id IN "
            f"({_CHILD_IDS}) AND state IS NOT NULL ORDER BY 1, 2",
            _child_range(parent_id) * 2,
        )
        changes: dict[str, list[tuple[str, int]]] = {}
        for run_id, _, delta, on_step in rows:
            changes.setdefault(run_id, []).append((delta, on_step))
        for run_id, found in changes.items():
            values[run_id] = self._folded(run_id, inputs[run_id], found)
        return values

    def child_counts(self) -> dict[str, int]:
        """How many child runs (map items, nested graphs) each parent run has."""
        rows = self._query(
            "SELECT parent_run_id, count(*) FROM runs WHERE parent_run_id IS NOT NULL "
            "GROUP BY parent_run_id"
        )
        return {parent: count for parent, count in rows}

    def _derived_runs(self, run_id: str) -> list[RunRecord]:
        rows = self._query(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE forked_from = ? OR retry_of = ? "
            "ORDER BY created_at, rowid",
            (run_id, run_id),
        )
        return [self._run_from_row(row) for row in rows]

    def _load_json(self, text: str, run_id: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            raise _schema.store_error(
                _Malformed(f"run {run_id!r} holds invalid JSON"), self.path
            ) from None

    def _status(self, text: str, run_id: str) -> WorkflowStatus:
        """A stored run status; one no release writes is a malformed record."""
        status = _RUN_STATUS.get(text)  # every status there is
        if status is None:
            raise _schema.store_error(
                _Malformed(f"run {run_id!r} has an invalid record (status {text!r})"), self.path
            )
        return status

    def _run_from_row(
        self, row: Sequence[Any], configs: dict[str, Any] | None = None
    ) -> RunRecord:
        """A run's record; ``configs`` (config text -> decoded) lets the records of one listing
        share one decoded config, as the records a run loop writes do (it is read-only)."""
        run_id = row[0]
        config = None if configs is None else configs.get(row[12])
        if config is None:
            config = self._load_json(row[12], run_id)
            if configs is not None:
                configs[row[12]] = config
        try:
            return RunRecord(
                id=run_id,
                status=self._status(row[1], run_id),
                graph_name=row[2],
                inputs=self._codec.decode_map(row[3], run_id=run_id),
                parent_run_id=row[4],
                forked_from=row[5],
                fork_superstep=row[6],
                retry_of=row[7],
                retry_index=row[8],
                graph_struct_hash=row[9],
                graph_code_hash=row[10],
                input_signature=row[11],
                config=config,
                created_at=_dt(row[13]) or datetime.fromtimestamp(0, UTC),
                completed_at=_dt(row[14]),
                duration_ms=row[15],
                node_count=row[16],
                error_count=row[17],
                error=row[18],
            )
        except (ValueError, TypeError) as exc:
            raise _schema.store_error(
                _Malformed(f"run {run_id!r} has an invalid record ({exc})"), self.path
            ) from None

    def _step_from_row(self, row: Sequence[Any]) -> StepRecord:
        run_id, node_name = row[0], row[2]
        try:
            return StepRecord(
                run_id=run_id,
                superstep=row[1],
                node_name=node_name,
                index=row[3],
                status=StepStatus(row[4]),
                input_versions=json.loads(row[5]),
                values=self._codec.decode_map(row[6], run_id=run_id, node_name=node_name),
                duration_ms=row[7],
                cached=bool(row[8]),
                decision=None if row[9] is None else json.loads(row[9]),
                error=row[10],
                created_at=_dt(row[11]) or datetime.fromtimestamp(0, UTC),
                completed_at=_dt(row[12]),
                child_run_id=row[13],
            )
        except (ValueError, TypeError) as exc:
            raise _schema.store_error(
                _Malformed(f"a step of node {node_name!r} in run {run_id!r} is invalid ({exc})"),
                self.path,
            ) from None

    # -- lifetime -----------------------------------------------------------------------------

    def _shutdown_parts(self) -> _Parts:
        return _Parts(self)

    def _close(self) -> None:
        if self._closed:
            return
        try:
            if not self.readonly:
                self._drain()
        finally:
            self._closed = True
            self._finalizer.detach()
            if self._writer is not None:
                self._writer.stop()
            self._conn.close()


def _child_range(parent_id: str) -> tuple[str, str, str, str]:
    """``_CHILD_IDS``'s parameters: the key range of ids ``<parent id>/...`` (``"0"`` is the
    character after ``"/"``), and the parent's id for both parts."""
    return parent_id + "/", parent_id + "0", parent_id, parent_id


def _set_final(
    insert: list[Any],
    status: WorkflowStatus,
    now: float,
    duration_ms: float | None,
    counts: list[int],
    error: str | None,
) -> None:
    """Write a run's final status into its buffered insert row (what the update would set)."""
    insert[1] = status.value
    insert[14] = now
    insert[15] = (now - insert[13]) * 1000 if duration_ms is None else duration_ms
    insert[16], insert[17] = counts
    insert[18] = error


def _coalesce(ops: Job) -> list[tuple[str, Any, bool]]:
    """The inserts of ``ops`` grouped by statement, each group one ``executemany`` (buffered
    writes and group commits), then the status updates in their order.

    Inserts go to distinct keys (a run, a run's step numbers, a run's superstep), so their
    order doesn't matter, only the order of inserts into one key (kept: grouping is stable).
    Updates come last: the runs they update and the steps they count are inserted by then;
    each stays on its own, its row count says whether the run exists.
    """
    groups: dict[str, list[Any]] = {}
    updates: list[tuple[str, Any, bool]] = []
    for sql, params, many in ops:
        if sql is _UPDATE_STATUS or sql is _UPDATE_STATUS_COUNTED:
            updates.append((sql, params, many))
            continue
        rows = groups.get(sql)
        if rows is None:
            rows = groups[sql] = []
        if many:
            rows.extend(params)
        else:
            rows.append(params)
    merged: list[tuple[str, Any, bool]] = [
        (sql, rows, True) if len(rows) > 1 else (sql, rows[0], False)  # one row: no iterator
        for sql, rows in groups.items()
    ]
    merged.extend(updates)
    return merged


class _DuplicateRun(WorkflowForkError):
    """Internal: an insert hit a run id that exists (turned into the message naming it)."""


class _Malformed(Exception):
    """Internal: a row that SQLite returned but hypergraph can't read ("malformed")."""

    def __str__(self) -> str:
        return f"database disk image is malformed: {self.args[0]}"


class _Parts:
    """What the finalizer needs to write pending rows without keeping the checkpointer alive."""

    def __init__(self, owner: SqliteCheckpointer) -> None:
        self.owner_ref = weakref.ref(owner)
        self.conn = owner._conn


def _finalize(parts: _Parts) -> None:
    owner = parts.owner_ref()
    if owner is not None and not owner._closed:
        owner._close()
        return
    parts.conn.close()
