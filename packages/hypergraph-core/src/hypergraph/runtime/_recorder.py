"""``WorkflowRecorder``: a run loop's committed supersteps as step records and checkpoints.

A superstep reaches it as a ``Committed`` effect (tasks and their results), or, when the loop
called plain nodes itself, as entries of the loop's journal (``Journaled`` after each
superstep). One ``save_superstep`` per superstep (or, with ``durability="exit"``, one write
when the run ends); child runs for nested graphs (``<parent>/<node>``) and map items (``<id>/<i>``); each
run's final status. Its methods return write operations and ``apply_sync``/``apply_async``
perform them, so one recorder serves a blocking and an awaiting driver (SPEC CP1, CP8, CP9).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from time import perf_counter, time
from typing import TYPE_CHECKING, Any

import attrs

from hypergraph.checkpointers.base import CheckpointerBase, save_each, save_each_sync
from hypergraph.checkpointers.records import (
    Checkpoint,
    FinishedRuns,
    RunRecord,
    StepRecord,
    StepRows,
    StepStatus,
    WorkflowStatus,
    utc_now,
)
from hypergraph.engine.engine import _changed
from hypergraph.engine.state import SEED
from hypergraph.nodes.gates import END
from hypergraph.plan import GRAPH
from hypergraph.results import RunResult, RunStatus
from hypergraph.runners._support import decision_label
from hypergraph.runtime._checkpoint_state import (
    checkpoint_of,
    final_checkpoint,
    node_names,
    snapshot_of,
)
from hypergraph.runtime._snapshot import (
    RunSnapshot,
    _done_regions,
    _region_keys,
    fingerprint,
    named_decisions,
)
from hypergraph.runtime._tasks import Committed, Journaled, NodeTask, Steps, TaskOutcome
from hypergraph.runtime._workflow import (
    RESUMABLE,
    MapStart,
    WorkflowStart,
    code_changes,
    definition_hashes,
    new_record,
    recorded_hashes,
)

if TYPE_CHECKING:
    from hypergraph.graph import Graph


__all__ = ["WorkflowRecorder"]

Op = tuple[Any, ...]
"""A write: ``("create", RunRecord)``, ``("active", id)``, ``("save", id, steps, checkpoint)``,
``("status", id, WorkflowStatus, error)``."""


_MISSING = object()


FULL_STATE_EVERY = 64
"""Supersteps between two full records of the run loop's bookkeeping; the records in between
are chained deltas (each holds what its superstep changed), folded on read."""


def _newly_done(slot: _Slot, engine: Any, state: Any, plans: Sequence[Any]) -> list[int]:
    """Regions (component indices) completed since the slot's last record, in order.

    Only components runnable after that record, and the successors of those that completed,
    can have completed since (regions never reopen within a run): no scan of the whole plan.
    """
    done = slot.done
    components = engine.plan.components
    if engine.schedule is not None and state.scheduled:
        exec_count = state.exec_count
        if len(plans) == 1:
            c = plans[0].component
            if c in done or not exec_count[components[c].nodes[0]]:
                return []
            done.add(c)
            return [c]
        new = {
            c for c in (np.component for np in plans)
            if c not in done and exec_count[components[c].nodes[0]]
        }
    else:
        pending = state.pending_preds
        runnable = state.runnable
        new = set()
        todo = list(slot.open)
        while todo:
            c = todo.pop()
            if c in done or c in new or pending[c] or c in runnable:
                continue
            new.add(c)
            todo.extend(components[c].succ)
        slot.open = list(runnable)
    if not new:
        return []
    done.update(new)
    return sorted(new)


# the awaitable writes ``apply_async`` makes
_AWAITED = ("create_run", "save_superstep", "update_run_status", "save_runs")

# a result's status as its run record's (a dict: ``WorkflowStatus(status.value)`` per run is slow)
_RECORDED_STATUS = {status: WorkflowStatus(status.value) for status in RunStatus}


class _Slot:
    """One run being recorded: a top-level run, a nested graph's run or a map item."""

    __slots__ = (
        "base", "created", "done", "exists", "graph", "hashes", "inputs", "last", "loop",
        "next_index", "open", "parent_id", "pending", "run_id", "saved", "signature", "started",
    )

    def __init__(
        self,
        run_id: str,
        parent_id: str | None,
        graph: Graph | None,
        *,
        exists: bool = False,
        inputs: dict[str, Any] | None = None,
        signature: str | None = None,
        next_index: int = 0,
    ) -> None:
        self.run_id = run_id
        self.parent_id = parent_id
        self.graph = graph
        self.exists = exists
        self.created = False
        self.inputs = inputs
        self.signature = signature
        self.next_index = next_index
        # when a child run (map item, nested graph) began: its record's created_at, written at
        # its first commit, so that its duration counts its first superstep too
        self.started: datetime | None = None
        self.saved = False  # wrote a checkpoint in this process (later ones carry only changes)
        self.last: Committed | None = None
        # "exit" durability: what the run did, kept until it ends
        # (journal entries of the loop's plain calls, or the tuples ``committed`` keeps)
        self.pending: list[tuple[Any, ...]] = []
        self.loop: Any = None
        # node hashes this process runs under, when the run record names older code (★): put
        # into its full records so a later resume compares against the code that ran last
        self.hashes: dict[str, str] | None = None
        # chained deltas: the superstep of the last full record, the regions done so far and
        # the components runnable after the last recorded superstep
        self.base: int | None = None
        self.done: set[int] = set()
        self.open: list[int] = []


def _continuable(
    graph: Graph, stored: Checkpoint | None, base: Checkpoint | None
) -> RunSnapshot | None:
    """The snapshot a recorded nested run continues from: stored, not paused, and taken of
    this graph's plan (else the child starts afresh)."""
    snap = None if stored is None else snapshot_of(stored, base)
    if snap is None or snap.paused is not None or snap.fingerprint != fingerprint(graph):
        return None
    return snap


def _with_hashes(state: dict[str, Any], slot: _Slot) -> dict[str, Any]:
    """``state`` naming the node hashes the slot's run runs under, if it records them (★).
    A new dict: a full state may be shared between runs (``final_checkpoint``)."""
    if slot.hashes is None:
        return state
    return {**state, "definition_hashes": slot.hashes}


def _item_path(identity: Any, index: int) -> tuple[str, ...]:
    """The slot path of item ``index`` of the map at ``identity`` (None: the top-level map)."""
    return (*identity.path, str(index)) if identity is not None else (str(index),)


class _ChildPlan:
    """How a nested graph node's run starts: afresh, from its stored checkpoint, or restored."""

    __slots__ = ("record_hashes", "rerun", "restored", "snapshot")

    def __init__(
        self,
        snapshot: RunSnapshot | None = None,
        restored: Any = None,
        rerun: dict[str, str] | None = None,
        record_hashes: bool = False,
    ) -> None:
        self.snapshot = snapshot
        self.restored = restored
        # ★ nodes of the continued run that execute again, and why
        self.rerun = rerun
        # the continued run runs other code than its record names: its checkpoints say which
        self.record_hashes = record_hashes


class WorkflowRecorder:
    """Writes one top-level ``run()`` or ``map()`` and every run under it to a checkpointer.

    ``durability="exit"`` checkpointers get the step records of every superstep and one
    checkpoint per run when it ends (no snapshot is taken in between); the others get a
    checkpoint after every superstep.
    """

    def __init__(self, checkpointer: Any, graph: Graph, workflow_id: str) -> None:
        self.checkpointer = checkpointer
        self.graph = graph
        self.workflow_id = workflow_id
        self.defer = getattr(checkpointer, "durability", None) == "exit"
        self.slots: dict[tuple[str, ...], _Slot] = {}
        self.durations: dict[int, float] = {}
        self.started = perf_counter()
        # a top-level map whose items are all new runs: its compiled items may be written as
        # ``FinishedRuns`` ("exit" durability, see ``items_ended``), which share ``template``
        self.fresh_items = False
        self.template: RunRecord | None = None

    # -- starting -------------------------------------------------------------------------
    def begin(self, start: WorkflowStart, inputs: dict[str, Any]) -> list[Op]:
        """The writes that open the top-level run described by ``start``."""
        slot = _Slot(
            start.workflow_id, None, self.graph, exists=start.kind == "resume",
            next_index=start.step_count,
        )
        self.slots[()] = slot
        slot.created = True
        if start.record_hashes:
            slot.hashes = definition_hashes(self.graph)
        if start.kind == "resume":
            return [("active", start.workflow_id)]
        if start.record is None:
            record = new_record(self.graph, start.workflow_id, dict(inputs))
        else:
            record = attrs.evolve(start.record, inputs=dict(inputs))
        ops: list[Op] = [("create", record)]
        if start.snapshot is not None and start.kind in ("fork", "retry"):
            # the fork's starting point, so a crash before its first superstep still resumes it
            snap = start.snapshot
            ops.append(("save", record.id, (), checkpoint_of(record.id, snap.superstep - 1, snap)))
            slot.saved = True
        return ops

    def begin_map(self, start: MapStart, names: tuple[str, ...], count: int) -> list[Op]:
        """The writes that open a top-level map run and register its items' child ids."""
        wid = start.workflow_id
        slot = _Slot(wid, None, self.graph, exists=start.exists)
        slot.created = True
        self.slots[()] = slot
        fresh = True
        for index, (child_id, exists, sig) in start.items.items():
            self.slots[(str(index),)] = _Slot(
                child_id, wid, self.graph, exists=exists, signature=sig
            )
            fresh = fresh and not exists
        self.fresh_items = fresh
        if start.exists:
            return [("active", wid)]
        record = new_record(self.graph, wid, {})
        record = attrs.evolve(record, config={**record.config, "map_over": list(names), "items": count})
        return [("create", record)]

    def _slot(self, path: tuple[str, ...]) -> _Slot:
        slot = self.slots.get(path)
        if slot is None:
            parent = self._slot(path[:-1])
            slot = self.slots[path] = _Slot(f"{parent.run_id}/{path[-1]}", parent.run_id, None)
        return slot

    def child_id(self, task: NodeTask) -> str:
        """The run id of the nested graph ``task`` starts: ``<parent>/<node>`` (CP9).

        Later visits of the same node in one run (a loop) get ``<parent>/<node>@<visit>``.
        """
        parent = self._slot(task.identity.path)
        suffix = "" if task.visit == 1 else f"@{task.visit}"
        return f"{parent.run_id}/{task.plan.name}{suffix}"

    def child_plan(
        self,
        task: NodeTask,
        values: dict[str, Any] | None,
        record: RunRecord | None,
        stored: Checkpoint | None,
        step_count: int,
        base: Checkpoint | None = None,
    ) -> _ChildPlan:
        """Register the nested run of ``task``; restore it when it is recorded with these inputs.

        A recorded child that completed with the same inputs and code returns its stored outputs
        without running (the parent died before committing the superstep that ran it); one that
        failed or stopped continues from its checkpoint.
        """
        path = (*task.identity.path, task.plan.name)
        for key in [k for k in self.slots if k[: len(path)] == path]:
            del self.slots[key]
        gn = task.plan.node
        graph = gn.graph
        parent = self._slot(task.identity.path)
        run_id = self.child_id(task)
        slot = self.slots[path] = _Slot(
            run_id, parent.run_id, graph, exists=record is not None,
            inputs=dict(values) if values is not None else None, next_index=step_count,
        )
        slot.started = utc_now()
        if record is None or gn.map_config is not None or values is None:
            return _ChildPlan()
        if record.graph_struct_hash != graph.structural_hash:
            return _ChildPlan()
        if any(_changed(record.inputs.get(k, _MISSING), v) for k, v in values.items()):
            return _ChildPlan()
        if record.graph_code_hash != graph.code_hash:
            changed = self._changed_child(graph, record, stored, base)
            if changed.record_hashes:
                slot.hashes = definition_hashes(graph)
            return changed
        if record.status is WorkflowStatus.COMPLETED and stored is not None:
            from hypergraph.engine import engine_for

            plan = engine_for(graph).plan
            names = plan.selected if plan.selected is not None else plan.output_names
            found = stored.values
            slot.created = True
            return _ChildPlan(restored=RunResult(
                {n: found[n] for n in names if n in found}, RunStatus.COMPLETED, run_id,
                graph_name=graph.name, workflow_id=self.workflow_id, restored=True,
            ))
        if record.status in RESUMABLE:
            snap = _continuable(graph, stored, base)
            if snap is not None:
                return _ChildPlan(snapshot=snap)
        return _ChildPlan()

    @staticmethod
    def _changed_child(
        graph: Graph, record: RunRecord, stored: Checkpoint | None, base: Checkpoint | None
    ) -> _ChildPlan:
        """★ inside a nested graph: code in it changed since its run was recorded (same
        structure, same inputs). The recorded run continues from its checkpoint, completed or
        not, re-running exactly its changed nodes and what they feed (``code_changes``)."""
        if stored is None or record.status not in RESUMABLE | {WorkflowStatus.COMPLETED}:
            return _ChildPlan()
        snap = _continuable(graph, stored, base)
        if snap is None:
            return _ChildPlan()
        rerun = code_changes(graph, record, snap, recorded_hashes(stored, base))
        return _ChildPlan(snapshot=snap, rerun=rerun, record_hashes=True)

    # -- supersteps -----------------------------------------------------------------------
    def timed(
        self, run_task: Callable[[NodeTask], Steps[TaskOutcome]]
    ) -> Callable[[NodeTask], Steps[TaskOutcome]]:
        """``run_task`` measuring each task's duration for its step record."""
        durations = self.durations

        def run(task: NodeTask) -> Steps[TaskOutcome]:
            start = perf_counter()
            try:
                return (yield from run_task(task))
            finally:
                durations[id(task)] = (perf_counter() - start) * 1000.0

        return run

    def _open(self, path: tuple[str, ...], ops: list[Op], loop: Any = None) -> _Slot:
        """The slot at ``path``, its record (and its ancestors') created on first use."""
        slot = self._slot(path)
        if slot.created:
            return slot
        if path:
            self._open(path[:-1], ops)
        slot.created = True
        if slot.exists:
            ops.append(("active", slot.run_id))
            return slot
        inputs = slot.inputs
        if inputs is None:
            if loop is None:
                inputs = {}
            else:  # a compiled run may end without a state (``RunLoop.ended``)
                inputs = loop.parts.provided if loop.state is None else loop.state.provided
        graph = slot.graph
        created = slot.started if slot.started is not None else utc_now()
        if graph is not None:
            record = new_record(
                graph, slot.run_id, dict(inputs), parent_run_id=slot.parent_id,
                input_signature=slot.signature, created_at=created,
            )
        else:
            record = RunRecord(
                id=slot.run_id, inputs=dict(inputs), parent_run_id=slot.parent_id,
                input_signature=slot.signature, created_at=created,
            )
        ops.append(("create", record))
        return slot

    def committed(self, effect: Committed) -> list[Op]:
        """The writes of one committed superstep: its step records and its checkpoint.

        With ``durability="exit"`` nothing is built here: the superstep is kept by reference
        and its records are made once, when the run ends (``ended``).
        """
        ops: list[Op] = []
        slot = self.slots.get(effect.identity.path)
        if slot is None or not slot.created:
            slot = self._open(effect.identity.path, ops, effect.loop)
        popped = self.durations.pop
        durations = [popped(id(task), 0.0) for task in effect.tasks]
        loop = effect.loop
        consumed = loop.state.consumed if loop is not None else None
        if self.defer:
            seen = None if consumed is None else [consumed[t.plan.index] for t in effect.tasks]
            slot.pending.append((effect, durations, utc_now(), seen))
            slot.last = effect
            if loop is not None:
                slot.loop = loop
            return ops
        delta: dict[str, Any] = {}
        steps = self._steps(slot, effect, durations, utc_now(), consumed, delta)
        if len(steps) == 1 and delta:
            delta = steps[0].values  # the same entries: a checkpointer may reuse their text
        plans = [task.plan for task in effect.tasks]
        checkpoint = self._checkpoint(slot, plans, effect.superstep, loop, delta, effect.snapshot)
        ops.append(("save", slot.run_id, steps, checkpoint))
        return ops

    def _checkpoint(
        self,
        slot: _Slot,
        plans: Sequence[Any],
        superstep: int,
        loop: Any,
        delta: dict[str, Any],
        snapshot: Callable[[], RunSnapshot] | None = None,
    ) -> Checkpoint:
        """A committed superstep's checkpoint: the chained delta of the loop's bookkeeping, or a
        full record (the slot's first, every ``FULL_STATE_EVERY`` supersteps, and while nested
        runs are paused), built from ``snapshot()`` or else straight from the loop's state."""
        if (
            loop is not None and slot.base is not None
            and superstep - slot.base < FULL_STATE_EVERY and not loop.state.children
        ):
            return self._chained(slot, plans, superstep, loop, delta)
        run_id = slot.run_id
        if snapshot is not None:
            whole = checkpoint_of(run_id, superstep, snapshot())
        else:
            whole = final_checkpoint(run_id, loop)
        values = delta if slot.saved else whole.values
        slot.saved = True
        if loop is not None:
            slot.base = superstep
            slot.done = set(_done_regions(loop.engine, loop.state))
            slot.open = list(loop.state.runnable)
        return Checkpoint(run_id, superstep, values, _with_hashes(whole.state, slot), whole.inputs)

    def _steps(
        self,
        slot: _Slot,
        effect: Committed,
        durations: Sequence[float],
        when: datetime,
        consumed: Sequence[Any] | None,
        delta: dict[str, Any],
        by_task: bool = False,
    ) -> list[StepRecord]:
        """The step records of one superstep; ``delta`` collects the values it wrote.

        ``consumed`` is the loop's per-node input versions (per task when ``by_task``): what a
        completed step read, for its ``input_versions``.
        """
        run_id = slot.run_id
        superstep = effect.superstep
        steps = []
        index = slot.next_index
        for i, (task, result) in enumerate(zip(effect.tasks, effect.results, strict=False)):
            np = task.plan
            child = self.child_id(task) if np.kind is GRAPH else None
            if result.__class__ is TaskOutcome and result.pause is None:
                outputs = result.outputs
                delta.update(outputs)
                decision = None
                if np.gate_plan is not None and result.decision is not None:
                    label = decision_label(np, result.decision)
                    decision = "END" if label is END else label
                seen = None
                if consumed is not None:
                    seen = consumed[i] if by_task else consumed[np.index]
                steps.append(StepRecord(
                    run_id, superstep, np.name, index, StepStatus.COMPLETED, outputs,
                    {} if not seen else dict(zip(np.inputs, seen, strict=False)),
                    durations[i], result.cached, decision, None, when, None, child,
                ))
            elif isinstance(result, BaseException):
                steps.append(StepRecord(
                    run_id, superstep, np.name, index, StepStatus.FAILED,
                    duration_ms=durations[i], error=f"{type(result).__name__}: {result}",
                    created_at=when, child_run_id=child,
                ))
            else:
                steps.append(StepRecord(
                    run_id, superstep, np.name, index, StepStatus.PAUSED,
                    duration_ms=durations[i], created_at=when, child_run_id=child,
                ))
            index += 1
        slot.next_index = index
        return steps

    def _chained(
        self, slot: _Slot, plans: Sequence[Any], superstep: int, loop: Any, delta: dict[str, Any]
    ) -> Checkpoint:
        """What this superstep changed in the loop's bookkeeping (a chained delta).

        It names the slot's last full record (``base``); a read folds the deltas of every
        superstep since then into it (``base_reads``). Maps keyed by node or output hold only
        this superstep's entries; the small rest is recorded whole, and only when not empty.
        """
        engine = loop.engine
        state = loop.state
        plan = engine.plan
        names = node_names(plan)
        record: dict[str, Any] = {
            "superstep": state.superstep, "base": [slot.run_id, slot.base], "chain": 1,
        }
        consumed = state.consumed
        exec_count = state.exec_count
        versions = state.versions
        writers = state.writers
        if len(plans) == 1:
            # one node: its name once; the outputs it wrote name it as their writer
            np = plans[0]
            i = np.index
            seen = consumed[i]
            record["node"] = names[i]
            record["seen"] = None if seen is None else dict(zip(np.inputs, seen, strict=True))
            record["runs"] = exec_count[i]
            if delta:
                record["versions"] = {k: versions[k] for k in delta if k in versions}
                if any(writers.get(k) != i for k in delta):
                    record["writers"] = {
                        k: (None if writers[k] == SEED else names[writers[k]])
                        for k in delta if k in writers
                    }
        else:
            if delta:
                record["versions"] = {k: versions[k] for k in delta if k in versions}
                record["writers"] = {
                    k: (None if writers[k] == SEED else names[writers[k]])
                    for k in delta if k in writers
                }
            seen_by: dict[str, Any] = {}
            executions: dict[str, int] = {}
            for np in plans:
                i = np.index
                seen = consumed[i]
                name = names[i]
                seen_by[name] = None if seen is None else dict(zip(np.inputs, seen, strict=True))
                executions[name] = exec_count[i]
            record["consumed"] = seen_by
            record["executions"] = executions
        if state.decisions:
            decisions, ended = named_decisions(state.decisions, names)
            if decisions:
                record["decisions"] = decisions
            if ended:
                record["ended"] = ended
        if state.cut_off:
            record["cut_off"] = sorted(names[g] for g in state.cut_off)
        if state.failed:
            record["failed"] = [names[i] for i in sorted(state.failed)]
        if state.paused is not None:
            record["paused"] = state.paused
        if state.answers:
            record["answers"] = dict(state.answers)
        if state.scoped:
            record["scoped"] = {k: dict(v) for k, v in state.scoped.items()}
        if state.nested_answers:
            record["nested_answers"] = {k: dict(v) for k, v in state.nested_answers.items()}
        if state.iterations:
            keys = _region_keys(plan)
            record["iterations"] = {keys[c]: n for c, n in state.iterations.items()}
        added = _newly_done(slot, engine, state, plans)
        if added:
            keys = _region_keys(plan)
            record["done_added"] = [keys[c] for c in added]
        return Checkpoint(slot.run_id, superstep, delta, record, state.provided)

    # -- ending ---------------------------------------------------------------------------
    def ended(self, path: tuple[str, ...], result: Any, error: BaseException | None = None) -> list[Op]:
        """The writes that close the run at ``path``: its last checkpoint (exit mode), its status."""
        slot = self.slots.get(path)
        if slot is None:
            return []
        ops: list[Op] = []
        if not slot.created:
            # a recorded run resumed with nothing left to run still gets its final status
            if not slot.pending and not slot.exists:
                return []
            self._open(path, ops, slot.loop)
        if slot.pending:
            ops.append(self._deferred(slot))
        if error is not None:
            stopped = not isinstance(error, Exception)
            status = WorkflowStatus.STOPPED if stopped else WorkflowStatus.FAILED
            ops.append(("status", slot.run_id, status, f"{type(error).__name__}: {error}"))
            return ops
        failure = getattr(result, "error", None)  # a RunResult's; a MapResult has none
        text = None if failure is None else f"{type(failure).__name__}: {failure}"
        ops.append(("status", slot.run_id, _RECORDED_STATUS[result.status], text))
        return ops

    def journal(self, loop: Any) -> tuple[list[Any], Journaled | None]:
        """The list ``loop`` appends its plain calls to (see ``RunLoop._inline_journaled``), and
        what it yields after each journaled superstep to have it recorded (``flushed``); None
        in "exit" mode, where the journal is recorded when the run ends."""
        path = loop.info.path
        slot = self._slot(path)
        slot.loop = loop
        return slot.pending, None if self.defer else Journaled(loop, (path, slot))

    def flushed(self, effect: Journaled) -> list[Op]:
        """The writes of the superstep ``effect.loop`` just journaled: its steps as ``StepRows``
        and its checkpoint, as ``committed`` writes them (a chained delta between full records)."""
        loop = effect.loop
        path, slot = effect.data
        ops: list[Op] = []
        if not slot.created:
            self._open(path, ops, loop)
        entries = slot.pending
        if not entries:
            return ops
        rows = self._journal_rows(slot, entries)
        if len(entries) == 1:
            outcome = entries[0][2]
            # one step: the checkpoint's values are its outputs, the very dict (one row)
            delta: dict[str, Any] = outcome[1] if outcome.__class__ is tuple else {}
        else:
            delta = {}
            for entry in entries:
                if entry[2].__class__ is tuple:
                    delta.update(entry[2][1])
        superstep = entries[0][0]
        plans = [entry[1] for entry in entries]
        entries.clear()  # the loop keeps appending to this very list
        checkpoint = self._checkpoint(slot, plans, superstep, loop, delta)
        ops.append(("save", slot.run_id, StepRows(slot.run_id, rows), checkpoint))
        return ops

    def _deferred(self, slot: _Slot) -> Op:
        """``durability="exit"``: every step the run kept, and its checkpoint, as one write.

        The steps go out as ``StepRows`` (plain tuples; a backend that knows them writes rows
        without a ``StepRecord`` per step), the checkpoint's state is built straight from the
        loop's state.
        """
        run_id = slot.run_id
        rows = self._journal_rows(slot, slot.pending)
        slot.pending = []
        loop = slot.loop
        last = slot.last
        slot.last = None
        final = None
        if loop is not None and (loop.state is not None or loop.ended is not None):
            final = final_checkpoint(run_id, loop)
        elif last is not None:
            final = checkpoint_of(run_id, last.superstep, last.snapshot())
        if final is not None and slot.hashes is not None:
            final = attrs.evolve(final, state=_with_hashes(final.state, slot))
        return ("save", run_id, StepRows(run_id, rows), final)

    def _journal_rows(self, slot: _Slot, entries: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``StepRows`` rows of journal entries (and of supersteps "exit" mode kept whole)."""
        rows: list[tuple[Any, ...]] = []
        scratch: dict[str, Any] = {}
        clock = time() - perf_counter()  # journal times are perf_counter readings
        index = slot.next_index
        append = rows.append
        completed = StepStatus.COMPLETED
        failed = StepStatus.FAILED
        for entry in entries:
            if len(entry) == 4:
                slot.next_index = index
                for step in self._steps(slot, *entry, scratch, True):
                    append(StepRows.row_of(step))
                index = slot.next_index
                continue
            superstep, np, outcome, start, end, seen = entry
            if outcome.__class__ is tuple:
                decision = None
                if outcome[2] is not None:
                    label = decision_label(np, outcome[2])
                    decision = "END" if label is END else label
                append((
                    superstep, np.name, index, completed, outcome[1], np.inputs, seen,
                    (end - start) * 1000.0, False, decision, None, clock + start, None,
                ))
            else:
                append((
                    superstep, np.name, index, failed, {}, (), None, (end - start) * 1000.0,
                    False, None, f"{type(outcome).__name__}: {outcome}", clock + start, None,
                ))
            index += 1
        slot.next_index = index
        return rows

    def item_started(self, identity: Any, index: int) -> None:
        """Date map item ``index``'s run now (its record is written at its first commit)."""
        self._slot(_item_path(identity, index)).started = utc_now()

    def item_ended(self, identity: Any, index: int, result: Any) -> list[Op]:
        """The writes that close map item ``index`` of the map at ``identity``."""
        if result is None or getattr(result, "restored", False):
            return []
        return self.ended(_item_path(identity, index), result)

    def records_items(self, identity: Any) -> bool:
        """Whether the compiled items of the map at ``identity`` may be handed over as
        ``FinishedRuns`` (``items_ended``): "exit" durability, the top-level map, no item it
        plans recorded before (the loop itself leaves restored and continued items out)."""
        return self.defer and self.fresh_items and (identity is None or not identity.path)

    def item_writer(self, *, blocking: bool) -> Callable[[Any], None] | None:
        """What writes the items of a ``TimedItems`` as each ends, so reads through the
        checkpointer see them as with the generic loop: on the blocking path for a blocking
        driver, or for an async one when the checkpointer's awaitable writes are
        ``CheckpointerBase``'s (they call the blocking ones). None: written once they all ran."""
        if not blocking:
            cp = self.checkpointer
            kind = type(cp)
            if not isinstance(cp, CheckpointerBase) or any(
                getattr(kind, name) is not getattr(CheckpointerBase, name) for name in _AWAITED
            ):
                return None
        return self.write_items_sync

    def write_items_sync(self, timed: Any) -> None:
        """Write what the items of ``timed`` did since the last call, on the blocking path."""
        self.apply_sync(self.items_ended(timed))

    def items_ended(self, timed: Any) -> list[Op]:
        """The writes of the items a ``TimedItems`` ran since the last call: those that ended
        as the plan's runs end as one ``FinishedRuns``, the others (failed, or the first of
        their input names) from their own run loops, as ``item_ended`` writes them."""
        ops: list[Op] = []
        clock = time() - perf_counter()  # item and call times are perf_counter readings
        for index, started, result in timed.others:
            path = (str(index),)
            self._slot(path).started = datetime.fromtimestamp(clock + started, UTC)
            ops.extend(self.ended(path, result))
        timed.others = []
        if timed.ran:
            ops.append(("runs", self._finished(timed, clock)))
        return ops

    def _finished(self, timed: Any, clock: float) -> FinishedRuns:
        """The items in ``timed.ran`` as ``FinishedRuns``: their steps the rows
        ``_journal_rows`` makes of the journal ``RunLoop._run_timed`` keeps, their checkpoints
        what ``final_checkpoint`` builds from the plan's ``CompiledEnd``."""
        journal_into = timed.compiled.journal_into
        ran = timed.ran
        timed.ran = []
        end = timed.end
        seen = end.seen
        items = timed.loop.items
        slots = self.slots
        runs: list[tuple[Any, ...]] = []
        for index, started, record, times in ran:
            slot = slots[(str(index),)]
            provided = items[index]
            values = dict(provided)
            entries: list[Any] = []
            journal_into(entries, values, record, times, seen)
            runs.append((
                slot.run_id, dict(provided), slot.signature, clock + started,
                clock + times[-1], self._journal_rows(slot, entries), values,
            ))
        template = self.template
        if template is None:  # one per map: a checkpointer may keep what it made of it
            template = new_record(self.graph, "", {}, parent_run_id=self.workflow_id)
            self.template = template
        return FinishedRuns(template, runs, end.superstep - 1, end.state)

    # -- performing writes ----------------------------------------------------------------
    def apply_sync(self, ops: list[Op]) -> None:
        """Perform ``ops`` on the blocking path."""
        cp = self.checkpointer
        for op in ops:
            kind = op[0]
            if kind == "save":
                cp.save_superstep_sync(op[1], op[2], op[3])
            elif kind == "create":
                cp.create_run_sync(op[1])
            elif kind == "active":
                cp.update_run_status_sync(op[1], WorkflowStatus.ACTIVE)
            elif kind == "runs":
                save = getattr(cp, "save_runs_sync", None)
                if save is not None:
                    save(op[1])
                else:  # a protocol-only backend: run by run
                    save_each_sync(cp, op[1])
            else:
                cp.update_run_status_sync(op[1], op[2], error=op[3])

    async def apply_async(self, ops: list[Op]) -> None:
        """Perform ``ops`` on the awaitable path."""
        cp = self.checkpointer
        for op in ops:
            kind = op[0]
            if kind == "save":
                await cp.save_superstep(op[1], op[2], op[3])
            elif kind == "create":
                await cp.create_run(op[1])
            elif kind == "active":
                await cp.update_run_status(op[1], WorkflowStatus.ACTIVE)
            elif kind == "runs":
                save = getattr(cp, "save_runs", None)
                if save is not None:
                    await save(op[1])
                else:
                    await save_each(cp, op[1])
            else:
                await cp.update_run_status(op[1], op[2], error=op[3])
