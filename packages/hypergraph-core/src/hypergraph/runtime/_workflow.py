"""Workflows: which stored run a call continues, and how its supersteps are written (SPEC CP3-CP9).

Three pieces, shared by every persisting runner (SyncRunner, AsyncRunner, a durable runner):

- ``resolve_workflow`` / ``resolve_workflow_async`` apply the ``workflow_id`` rules of CP3 in
  order and return a ``WorkflowStart``: the run id, what kind of start it is (new, resume, fork,
  retry), the ``RunSnapshot`` to continue from and the nodes to re-run because their code
  changed (★). Both are thin shells around one generator, ``resolve_steps``, which asks for the
  reads it needs (``("get_run", id)``, ``("checkpoint", id)``) and does no I/O itself.
- ``checkpoint_of`` / ``snapshot_of`` turn a ``RunSnapshot`` into a stored ``Checkpoint`` and
  back.
- ``WorkflowRecorder`` turns the loop's ``Committed`` effects into step records and checkpoints
  (one ``save_superstep`` per superstep), creates child runs for nested graphs
  (``<parent>/<node>``) and map items (``<id>/<i>``), and sets each run's final status. Its
  methods return write operations; ``apply_sync``/``apply_async`` perform them, so the same
  recorder serves a blocking and an awaiting driver.

Nothing here runs unless a runner has a checkpointer.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import datetime
from time import perf_counter, time
from typing import TYPE_CHECKING, Any

import attrs

from hypergraph.checkpointers.records import (
    Checkpoint,
    RunRecord,
    StepRecord,
    StepRows,
    StepStatus,
    WorkflowStatus,
    new_workflow_id,
    utc_now,
)
from hypergraph.checkpointers.values import dumps
from hypergraph.engine.engine import _changed
from hypergraph.engine.state import SEED
from hypergraph.exceptions import (
    GraphChangedError,
    InputOverrideRequiresForkError,
    RunNotFoundError,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
)
from hypergraph.nodes.gates import END
from hypergraph.plan import GRAPH
from hypergraph.results import MapResult, RunResult, RunStatus
from hypergraph.runners._checks import check_graph_argument
from hypergraph.runners._options import partition_values
from hypergraph.runners._support import check_lineage_options, decision_label
from hypergraph.runtime._snapshot import (
    PlanFingerprint,
    RunSnapshot,
    _done_regions,
    _region_keys,
    fingerprint,
    named_decisions,
)
from hypergraph.runtime._tasks import Committed, NodeTask, Steps, TaskOutcome

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = [
    "MapStart",
    "WorkflowRecorder",
    "WorkflowStart",
    "base_of",
    "base_reads",
    "check_force_resume",
    "checkpoint_of",
    "child_reads",
    "definition_hashes",
    "input_signature",
    "plan_map",
    "plan_map_async",
    "read_async",
    "read_sync",
    "resolve_steps",
    "resolve_workflow",
    "resolve_workflow_async",
    "snapshot_of",
]

RESUMABLE = frozenset(
    {WorkflowStatus.ACTIVE, WorkflowStatus.PAUSED, WorkflowStatus.FAILED, WorkflowStatus.STOPPED}
)
CODE_CHANGED = "code changed"


@attrs.frozen
class WorkflowStart:
    """Where a persisted run starts: the outcome of the ``workflow_id`` rules (CP3).

    ``kind`` is ``"new"``, ``"resume"``, ``"fork"`` or ``"retry"``. ``snapshot`` is the state to
    continue from (``None``: start from the inputs); ``inputs`` are stored inputs the caller's
    values are laid over (a resume or fork whose source never finished a superstep). ``record``
    is the run to create (``None`` for a resume, which sets the stored run ACTIVE again);
    ``rerun`` maps nodes that run again despite having completed to the reason (★: their code
    changed, or they are downstream of one that did).
    """

    workflow_id: str
    kind: str
    snapshot: RunSnapshot | None = None
    inputs: dict[str, Any] = attrs.field(factory=dict)
    record: RunRecord | None = None
    rerun: dict[str, str] = attrs.field(factory=dict)
    step_count: int = 0
    # a resume under other node code than the run record names: its checkpoints say which
    record_hashes: bool = False


# ---------------------------------------------------------------------------- hashes
def definition_hashes(graph: Graph) -> dict[str, str]:
    """Each node's ``definition_hash`` by name: what ★ compares on resume."""
    return {name: node.definition_hash for name, node in graph._nodes.items()}


_CONFIGS: dict[int, tuple[Any, dict[str, Any]]] = {}


def _record_config(graph: Graph) -> dict[str, Any]:
    """The config every run of ``graph`` records, built once per graph (one object, so a
    checkpointer can keep its encoded text); treat it as read-only."""
    found = _CONFIGS.get(id(graph))
    if found is not None and found[0] is graph:
        return found[1]
    config = {"definition_hashes": definition_hashes(graph)}
    if len(_CONFIGS) > 256:
        _CONFIGS.clear()
    _CONFIGS[id(graph)] = (graph, config)
    return config


def _new_record(graph: Graph, run_id: str, inputs: dict[str, Any], **extra: Any) -> RunRecord:
    return RunRecord(
        id=run_id,
        graph_name=graph.name,
        inputs=inputs,
        graph_struct_hash=graph.structural_hash,
        graph_code_hash=graph.code_hash,
        config=_record_config(graph),
        **extra,
    )


def code_changes(
    graph: Graph,
    stored: RunRecord,
    snap: RunSnapshot | None,
    recorded: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """★: completed nodes whose code changed since ``stored`` ran, plus everything downstream.

    ``recorded`` are the node hashes its checkpoint names (a resume that re-ran changed code
    records the code it ran with there); else the hashes of the run record are compared.
    Returns ``{node: reason}``; empty when nothing that ran has changed (or nothing ran yet).
    """
    if snap is None:
        return {}
    old = recorded if recorded is not None else stored.config.get("definition_hashes")
    if not isinstance(old, dict):
        return {}
    ran = {name for name, count in snap.executions.items() if count}
    now = definition_hashes(graph)
    changed = sorted(name for name in ran if name in old and old[name] != now.get(name))
    if not changed:
        return {}
    reasons = dict.fromkeys(changed, CODE_CHANGED)
    consumers: dict[str, list[str]] = {}
    for name, node in graph._nodes.items():
        for param in node.inputs:
            consumers.setdefault(param, []).append(name)
    todo = list(changed)
    while todo:
        name = todo.pop()
        node = graph._nodes[name]
        outputs = tuple(node.outputs) + tuple(getattr(node, "targets", ()) or ())
        for output in outputs:
            for consumer in consumers.get(output, ()):
                if consumer not in reasons and consumer in ran:
                    reasons[consumer] = f"downstream of {name!r}"
                    todo.append(consumer)
    return reasons


# ---------------------------------------------------------------------------- snapshots
def _fingerprint_state(fp: PlanFingerprint) -> dict[str, Any]:
    return {
        "structural_hash": fp.structural_hash,
        "bound": list(fp.bound),
        "selected": None if fp.selected is None else list(fp.selected),
        "entrypoints": list(fp.entrypoints),
    }


def _snapshot_state(snap: RunSnapshot) -> dict[str, Any]:
    """The loop's bookkeeping of ``snap`` (everything but values and inputs), JSON-safe."""
    return {
        "fingerprint": _fingerprint_state(snap.fingerprint),
        "superstep": snap.superstep,
        "versions": snap.versions,
        "writers": snap.writers,
        "consumed": snap.consumed,
        "executions": snap.executions,
        "decisions": snap.decisions,
        "ended": list(snap.ended),
        "cut_off": list(snap.cut_off),
        "iterations": snap.iterations,
        "done": list(snap.done),
        "failed": list(snap.failed),
        "paused": snap.paused,
        "answers": snap.answers,
        "scoped": snap.scoped,
        "nested_answers": snap.nested_answers,
        "children": {
            name: {**_snapshot_state(child), "values": child.values, "inputs": child.inputs}
            for name, child in snap.children.items()
        },
    }


def checkpoint_of(
    run_id: str, superstep: int | None, snap: RunSnapshot, values: dict[str, Any] | None = None
) -> Checkpoint:
    """A stored ``Checkpoint`` of ``snap``; ``values`` may be only what the superstep changed."""
    return Checkpoint(
        run_id,
        superstep,
        snap.values if values is None else values,
        _snapshot_state(snap),
        snap.inputs,
    )


def _row_of(step: StepRecord) -> tuple[Any, ...]:
    """``step`` as a ``StepRows`` row (a superstep the journal did not cover)."""
    versions = step.input_versions
    return (
        step.superstep, step.node_name, step.index, step.status, step.values,
        tuple(versions), tuple(versions.values()), step.duration_ms, step.cached,
        step.decision, step.error, step.created_at.timestamp(), step.child_run_id,
    )


def _final_checkpoint(run_id: str, loop: Any) -> Checkpoint:
    """``checkpoint_of(run_id, last superstep, loop.snapshot())``, built from the loop's state
    directly (no ``RunSnapshot`` in between): what an ``"exit"`` run stores when it ends.

    The containers most runs leave empty (decisions, answers, children, ...) are only walked
    when they hold something."""
    engine = loop.engine
    state = loop._materialized()
    plan = engine.plan
    names = _node_names(plan)
    parts = _parts_of(plan)
    # most runs of a graph end with the same bookkeeping: reuse the last run's (read-only)
    # objects when their source is equal, so a checkpointer may reuse their encoded text too
    if parts[1] != state.consumed:
        consumed: dict[str, dict[str, int]] = {}
        for np, seen in zip(plan.nodes, state.consumed, strict=True):
            if seen is not None:
                consumed[np.name] = dict(zip(np.inputs, seen, strict=True))
        parts[1], parts[2] = list(state.consumed), consumed
    writers = state.writers
    if parts[3] != writers:
        parts[3] = dict(writers)
        parts[4] = {k: (None if w == SEED else names[w]) for k, w in writers.items()}
    if parts[5] != state.exec_count:
        parts[5] = list(state.exec_count)
        parts[6] = {names[i]: n for i, n in enumerate(state.exec_count) if n}
    if parts[7] != state.versions:
        parts[7] = dict(state.versions)
        parts[8] = dict(state.versions)
    decisions, ended = named_decisions(state.decisions, names)
    keys = _region_keys(plan) if state.iterations else None
    children = state.children
    record = {
        "fingerprint": _fingerprint_of(loop.graph),
        "superstep": state.superstep,
        "versions": parts[8],
        "writers": parts[4],
        "consumed": parts[2],
        "executions": parts[6],
        "decisions": decisions,
        "ended": ended,
        "cut_off": sorted(names[g] for g in state.cut_off) if state.cut_off else [],
        "iterations": {keys[c]: n for c, n in state.iterations.items()} if keys else {},
        "done": _done_keys(engine, state, plan),
        "failed": [names[i] for i in sorted(state.failed)] if state.failed else [],
        "paused": state.paused,
        "answers": dict(state.answers),
        "scoped": {k: dict(v) for k, v in state.scoped.items()} if state.scoped else {},
        "nested_answers": (
            {k: dict(v) for k, v in state.nested_answers.items()} if state.nested_answers else {}
        ),
        "children": {
            name: {**_snapshot_state(child), "values": child.values, "inputs": child.inputs}
            for name, child in children.items()
        } if children else {},
    }
    return Checkpoint(run_id, state.superstep - 1, dict(state.values), record, dict(state.provided))


def _done_keys(engine: Any, state: Any, plan: Any) -> list[str]:
    """The region keys of ``_done_regions``; a static schedule whose every node ran: all of
    them (the common end of a run), without a pass over the components, as the plan's own
    list (shared: read-only)."""
    keys = _region_keys(plan)
    if engine.schedule is not None and state.scheduled and 0 not in state.exec_count:
        return keys
    return [keys[c] for c in _done_regions(engine, state)]


_FINGERPRINTS: dict[int, tuple[Any, dict[str, Any]]] = {}


def _fingerprint_of(graph: Graph) -> dict[str, Any]:
    """``_fingerprint_state(fingerprint(graph))``, built once per graph (shared: read-only)."""
    found = _FINGERPRINTS.get(id(graph))
    if found is None or found[0] is not graph:
        if len(_FINGERPRINTS) > 256:
            _FINGERPRINTS.clear()
        found = _FINGERPRINTS[id(graph)] = (graph, _fingerprint_state(fingerprint(graph)))
    return found[1]


_PARTS: dict[int, list[Any]] = {}


def _parts_of(plan: Any) -> list[Any]:
    """Per plan, the last final state's shared parts and what they were built from:
    ``[plan, consumed source, consumed, writers source, writers, executions source,
    executions, versions source, versions]``."""
    found = _PARTS.get(id(plan))
    if found is None or found[0] is not plan:
        if len(_PARTS) > 256:
            _PARTS.clear()
        found = _PARTS[id(plan)] = [plan, None, None, None, None, None, None, None, None]
    return found


def _snapshot_from_state(
    state: Mapping[str, Any], values: dict[str, Any], inputs: dict[str, Any]
) -> RunSnapshot:
    fp = state["fingerprint"]
    selected = fp.get("selected")
    return RunSnapshot(
        fingerprint=PlanFingerprint(
            structural_hash=fp["structural_hash"],
            bound=tuple(fp.get("bound", ())),
            selected=None if selected is None else tuple(selected),
            entrypoints=tuple(fp.get("entrypoints", ())),
        ),
        superstep=state.get("superstep", 0),
        values=dict(values),
        versions=dict(state.get("versions", {})),
        writers=dict(state.get("writers", {})),
        consumed={k: dict(v) for k, v in state.get("consumed", {}).items()},
        executions=dict(state.get("executions", {})),
        decisions={k: list(v) for k, v in state.get("decisions", {}).items()},
        ended=tuple(state.get("ended", ())),
        cut_off=tuple(state.get("cut_off", ())),
        iterations=dict(state.get("iterations", {})),
        done=tuple(state.get("done", ())),
        failed=tuple(state.get("failed", ())),
        paused=state.get("paused"),
        inputs=dict(inputs),
        answers=dict(state.get("answers", {})),
        scoped={k: dict(v) for k, v in state.get("scoped", {}).items()},
        nested_answers={k: dict(v) for k, v in state.get("nested_answers", {}).items()},
        children={
            name: _snapshot_from_state(child, child.get("values", {}), child.get("inputs", {}))
            for name, child in state.get("children", {}).items()
        },
    )


def base_of(checkpoint: Checkpoint | None) -> tuple[str, int] | None:
    """``(run id, superstep)`` of the full state a delta-encoded checkpoint builds on, or None.

    Long runs record the loop's bookkeeping in full only every ``FULL_STATE_EVERY`` supersteps;
    the checkpoints in between hold what changed since then (and name that base).
    """
    if checkpoint is None:
        return None
    base = checkpoint.state.get("base")
    if base is None:
        return None
    return str(base[0]), int(base[1])


def snapshot_of(checkpoint: Checkpoint, base: Checkpoint | None = None) -> RunSnapshot | None:
    """The ``RunSnapshot`` a stored checkpoint holds; ``None`` before its first superstep.

    ``base`` is the checkpoint named by :func:`base_of` when the state is delta-encoded.
    """
    state = checkpoint.state
    if checkpoint.superstep is None:
        return None
    if "base" in state:
        if base is None or "fingerprint" not in base.state:
            return None
        state = _apply_delta(base.state, state)
    if "fingerprint" not in state:
        return None
    return _snapshot_from_state(state, checkpoint.values, checkpoint.inputs)


_SMALL_DEFAULTS: dict[str, Any] = {
    "decisions": {}, "ended": [], "cut_off": [], "failed": [], "paused": None, "answers": {},
    "scoped": {}, "nested_answers": {}, "children": {}, "iterations": {},
}
"""The bookkeeping a chained delta records whole, and only when not empty (absent: this)."""


def _expand(delta: Mapping[str, Any]) -> dict[str, Any]:
    """A chained delta of one node (``node``, ``seen``, ``runs``) in the general form."""
    node = delta["node"]
    out = {k: v for k, v in delta.items() if k not in ("node", "seen", "runs")}
    if "writers" not in out:
        out["writers"] = dict.fromkeys(delta.get("versions", {}), node)
    out["consumed"] = {node: delta.get("seen")}
    out["executions"] = {node: delta.get("runs", 0)}
    return out


def _apply_delta(full: Mapping[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    state = dict(full)
    if "chain" in delta:
        state.update(_SMALL_DEFAULTS)
        if "node" in delta:
            delta = _expand(delta)
    for key in ("versions", "writers", "executions"):
        merged = dict(full.get(key, {}))
        merged.update(delta.get(key, {}))
        state[key] = merged
    consumed = dict(full.get("consumed", {}))
    for name, seen in delta.get("consumed", {}).items():
        if seen is None:
            consumed.pop(name, None)
        else:
            consumed[name] = seen
    state["consumed"] = consumed
    state["done"] = [*full.get("done", ()), *delta.get("done_added", ())]
    for key, value in delta.items():
        if key not in _DELTA_KEYS:
            state[key] = value
    return state


_DELTA_KEYS = frozenset(
    {"base", "chain", "versions", "writers", "executions", "consumed", "done_added", "node",
     "seen", "runs"}
)


def _fold(full: Checkpoint, rows: list[dict[str, Any]]) -> Checkpoint:
    """``full`` with the chained deltas ``rows`` (the supersteps after it, in order) applied."""
    state: Mapping[str, Any] = full.state
    for row in rows:
        state = _apply_delta(state, row)
    return attrs.evolve(full, state=dict(state))


def base_reads(stored: Checkpoint | None) -> Generator[Read, Any, Checkpoint | None]:
    """The reads that rebuild the state a delta checkpoint ``stored`` builds on (or None).

    The full record named by :func:`base_of`, with the chained deltas of the supersteps between
    it and ``stored`` folded in: pass the result to :func:`snapshot_of` as ``base``.
    """
    base = base_of(stored)
    if base is None or stored is None:
        return None
    full: Checkpoint | None = yield ("checkpoint_at", base[0], base[1])
    if full is None or "chain" not in stored.state or stored.superstep is None:
        return full
    if stored.superstep - base[1] <= 1:
        return full
    rows: list[dict[str, Any]] = yield ("states", base[0], base[1], stored.superstep)
    return _fold(full, rows)


_NAMES: dict[int, tuple[Any, list[str]]] = {}


def _node_names(plan: Any) -> list[str]:
    """Node names by plan index, built once per plan (a delta is written every superstep)."""
    found = _NAMES.get(id(plan))
    if found is not None and found[0] is plan:
        return found[1]
    names = [np.name for np in plan.nodes]
    if len(_NAMES) > 256:
        _NAMES.clear()
    _NAMES[id(plan)] = (plan, names)
    return names


FULL_STATE_EVERY = 64
"""Supersteps between two full records of the run loop's bookkeeping; the records in between
are chained deltas (each holds what its superstep changed), folded on read."""


def _newly_done(slot: _Slot, engine: Any, state: Any, tasks: Sequence[NodeTask]) -> list[int]:
    """Regions (component indices) completed since the slot's last record, in order.

    Only components runnable after that record, and the successors of those that completed,
    can have completed since (regions never reopen within a run): no scan of the whole plan.
    """
    done = slot.done
    components = engine.plan.components
    if engine.schedule is not None and state.scheduled:
        exec_count = state.exec_count
        new = {
            c for c in (task.plan.component for task in tasks)
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


def _forced(snap: RunSnapshot, graph: Graph) -> RunSnapshot:
    """``force_resume=True``: keep what still names the graph's nodes, adopt its fingerprint."""
    names = set(graph._nodes)
    return attrs.evolve(
        snap,
        fingerprint=fingerprint(graph),
        consumed={k: v for k, v in snap.consumed.items() if k in names},
        executions={k: v for k, v in snap.executions.items() if k in names},
        writers={k: w for k, w in snap.writers.items() if w is None or w in names},
        decisions={
            k: [t for t in v if t in names] for k, v in snap.decisions.items() if k in names
        },
        ended=tuple(g for g in snap.ended if g in names),
        cut_off=tuple(g for g in snap.cut_off if g in names),
        done=(),
        iterations={},
        failed=tuple(n for n in snap.failed if n in names),
        children={k: v for k, v in snap.children.items() if k in names},
    )


# ---------------------------------------------------------------------------- CP3
def check_force_resume(force_resume: bool) -> None:
    """``force_resume=True`` only means something to a runner with a checkpointer (CP4)."""
    if force_resume:
        raise ValueError(
            "force_resume=True skips the structure check of a recorded workflow, but this "
            "runner has no checkpointer; create it with checkpointer=... (or drop force_resume)."
        )


Read = tuple[Any, ...]
"""A read a workflow generator asks for: ``("get_run", id)``, ``("checkpoint", id)``,
``("checkpoint_at", id, superstep)``, ``("states", id, after, before)`` (the states of the
checkpoints in between, in order), ``("steps", id)`` (answer: how many) or ``("children", id)``.
``read_sync``/``read_async`` answer them from a checkpointer."""


def resolve_steps(
    graph: Graph,
    given: Mapping[str, Any],
    *,
    workflow_id: str | None = None,
    checkpoint: RunSnapshot | None = None,
    override_workflow: bool = False,
    fork_from: str | None = None,
    retry_from: str | None = None,
    force_resume: bool = False,
) -> Generator[Read, Any, WorkflowStart]:
    """The CP3 rules as a generator of reads (see ``Read``); returns the ``WorkflowStart``.

    It performs no I/O, so any runner can answer the reads its own way: ``resolve_workflow``
    (blocking checkpointer), ``resolve_workflow_async`` (awaitable one), or a durable runner
    inside its own workflow step. ``given`` is the caller's values (``values`` plus keyword
    inputs); values identical to the stored inputs are not an override (R2-5).
    """
    check_graph_argument(graph, "run")
    check_lineage_options(workflow_id, None, None, None)
    if fork_from is not None and retry_from is not None:
        raise ValueError(
            f"fork_from={fork_from!r} and retry_from={retry_from!r} were both given; a run "
            "starts from one source: pass only one of them."
        )
    if checkpoint is not None and (fork_from is not None or retry_from is not None):
        raise ValueError(
            "checkpoint= and fork_from=/retry_from= both name where a run starts; pass one."
        )
    source_id = fork_from if fork_from is not None else retry_from
    if source_id is not None:
        source: RunRecord | None = yield ("get_run", source_id)
        if source is None:
            raise RunNotFoundError(source_id)
        return (
            yield from _derive(
                graph, given, source, workflow_id, retry=retry_from is not None,
                force_resume=force_resume,
            )
        )
    if workflow_id is None:
        return WorkflowStart(new_workflow_id(), "new", checkpoint)
    existing: RunRecord | None = yield ("get_run", workflow_id)
    if existing is None:
        return WorkflowStart(workflow_id, "new", checkpoint)
    if checkpoint is not None:
        raise WorkflowForkError(
            f"Workflow {workflow_id!r} is already recorded, so checkpoint= cannot start it "
            f"afresh. Pass a new workflow_id to fork from that checkpoint, or drop checkpoint= "
            f"to resume {workflow_id!r}."
        )
    if override_workflow:
        return (
            yield from _derive(
                graph, given, existing, None, retry=False, force_resume=force_resume
            )
        )
    # strict resume
    parts = partition_values(graph, dict(given))
    overrides = sorted(
        name for name, value in parts.provided.items()
        if name not in existing.inputs or _changed(existing.inputs[name], value)
    )
    if overrides:
        listed = ", ".join(map(repr, overrides))
        raise InputOverrideRequiresForkError(
            f"Workflow {workflow_id!r} is recorded with other values for {listed}. A resume "
            f"takes only interrupt answers (or the stored values unchanged). To run with new "
            f"values, fork: run(..., fork_from={workflow_id!r}) or override_workflow=True."
        )
    if existing.status is WorkflowStatus.COMPLETED:
        raise WorkflowAlreadyCompletedError(
            f"Workflow {workflow_id!r} already completed; completed runs are terminal. Read its "
            f"values with checkpointer.values({workflow_id!r}), or fork it: "
            f"run(..., fork_from={workflow_id!r}) or override_workflow=True."
        )
    _check_structure(graph, existing, force_resume)
    stored: Checkpoint = yield ("checkpoint", workflow_id)
    snap, hashes = yield from _load(stored)
    if snap is not None and force_resume:
        snap = _forced(snap, graph)
    count: int = yield ("steps", workflow_id)
    return WorkflowStart(
        workflow_id, "resume", snap, dict(existing.inputs) if snap is None else {},
        None, code_changes(graph, existing, snap, hashes), count,
        record_hashes=existing.graph_code_hash != graph.code_hash,
    )


def _load(
    stored: Checkpoint,
) -> Generator[Any, Any, tuple[RunSnapshot | None, dict[str, str] | None]]:
    """The snapshot of ``stored`` (reading the full state it builds on when it is a delta) and
    the node hashes its full record names, if any (see ``recorded_hashes``)."""
    full = yield from base_reads(stored)
    return snapshot_of(stored, full), recorded_hashes(stored, full)


def recorded_hashes(stored: Checkpoint, base: Checkpoint | None) -> dict[str, str] | None:
    """The node hashes a run's checkpoint names: a resume that re-ran changed code stores the
    hashes it ran with in its full records, so a later resume compares against those (not the
    run record's, which keep the code the run started with). None: compare with the record."""
    state = stored.state
    if "base" in state:
        state = base.state if base is not None else {}
    found = state.get("definition_hashes")
    return found if isinstance(found, dict) else None


def _derive(
    graph: Graph,
    given: Mapping[str, Any],
    source: RunRecord,
    workflow_id: str | None,
    *,
    retry: bool,
    force_resume: bool,
) -> Generator[Read, Any, WorkflowStart]:
    """A fork or retry of ``source``: a new run starting from its latest checkpoint."""
    if retry:
        new_id = workflow_id or new_workflow_id()
    else:
        new_id = workflow_id or f"{source.id}-fork-{os.urandom(3).hex()}"
    taken = yield ("get_run", new_id)
    if taken is not None:
        raise WorkflowForkError(
            f"Cannot fork {source.id!r} into {new_id!r}: a run with that id is already "
            "recorded. Pick another workflow_id, or omit it for a generated one."
        )
    _check_structure(graph, source, force_resume, what="fork")
    stored: Checkpoint = yield ("checkpoint", source.id)
    snap, hashes = yield from _load(stored)
    if snap is not None and force_resume:
        snap = _forced(snap, graph)
    lineage: dict[str, Any]
    if retry:
        lineage = {"retry_of": source.id, "retry_index": (source.retry_index or 0) + 1}
    else:
        lineage = {"forked_from": source.id, "fork_superstep": stored.superstep}
    kind = "retry" if retry else "fork"
    inputs = dict(source.inputs) if snap is None else {}
    # the record's inputs are set by the recorder once the values are partitioned
    return WorkflowStart(
        new_id, kind, snap, inputs, _new_record(graph, new_id, {}, **lineage),
        code_changes(graph, source, snap, hashes),
    )


def _check_structure(
    graph: Graph, stored: RunRecord, force_resume: bool, what: str = "resume"
) -> None:
    if force_resume or stored.graph_struct_hash in (None, graph.structural_hash):
        return
    raise GraphChangedError(
        f"Workflow {stored.id!r} was recorded with a graph of another structure (nodes, ports, "
        f"edges or gate targets changed), so it cannot {what} into {graph.name or 'this graph'!r}. "
        f"Run it under a new workflow_id, or pass force_resume=True to keep what still matches."
    )


def resolve_workflow(
    checkpointer: Any, graph: Graph, given: Mapping[str, Any], **options: Any
) -> WorkflowStart:
    """``resolve_steps`` with a ``SyncCheckpointer`` answering its reads."""
    return _answer_sync(checkpointer, resolve_steps(graph, given, **options))  # type: ignore[no-any-return]


def _answer_sync(checkpointer: Any, steps: Generator[Any, Any, Any]) -> Any:
    """Drive a read generator with the blocking read API."""
    answer: Any = None
    try:
        while True:
            request = steps.send(answer)
            kind, run_id = request[0], request[1]
            if kind == "get_run":
                answer = checkpointer.get_run(run_id)
            elif kind == "checkpoint":
                answer = checkpointer.checkpoint(run_id)
            elif kind == "checkpoint_at":
                answer = checkpointer.checkpoint(run_id, superstep=request[2])
            elif kind == "children":
                answer = checkpointer.children(run_id)
            elif kind == "states":
                answer = _states_sync(checkpointer, run_id, request[2], request[3])
            else:
                answer = len(checkpointer.steps(run_id))
    except StopIteration as stop:
        return stop.value


def _states_sync(checkpointer: Any, run_id: str, after: int, before: int) -> list[dict[str, Any]]:
    """The states of ``run_id``'s checkpoints after ``after`` and before ``before``, in order."""
    read = getattr(checkpointer, "checkpoint_states", None)
    if read is not None:
        return read(run_id, after=after, before=before)  # type: ignore[no-any-return]
    return [checkpointer.checkpoint(run_id, superstep=s).state for s in range(after + 1, before)]


async def _answer_async(checkpointer: Any, steps: Generator[Any, Any, Any]) -> Any:
    """Drive a read generator with the awaitable read API."""
    answer: Any = None
    try:
        while True:
            request = steps.send(answer)
            kind, run_id = request[0], request[1]
            if kind == "get_run":
                answer = await checkpointer.get_run_async(run_id)
            elif kind == "checkpoint":
                answer = await checkpointer.get_checkpoint(run_id)
            elif kind == "checkpoint_at":
                answer = await checkpointer.get_checkpoint(run_id, superstep=request[2])
            elif kind == "children":
                answer = await checkpointer.get_children(run_id)
            elif kind == "states":
                read = getattr(checkpointer, "get_checkpoint_states", None)
                if read is not None:
                    answer = await read(run_id, after=request[2], before=request[3])
                else:
                    answer = [
                        (await checkpointer.get_checkpoint(run_id, superstep=s)).state
                        for s in range(request[2] + 1, request[3])
                    ]
            else:
                answer = len(await checkpointer.get_steps(run_id))
    except StopIteration as stop:
        return stop.value


def child_reads(run_id: str) -> Generator[Any, Any, tuple[Any, Any, Any, int]]:
    """The reads a nested graph's restore needs: record, checkpoint, its base, step count."""
    record = yield ("get_run", run_id)
    if record is None:
        return None, None, None, 0
    stored = yield ("checkpoint", run_id)
    full = yield from base_reads(stored)
    count = yield ("steps", run_id)
    return record, stored, full, count


def read_sync(checkpointer: Any, steps: Generator[Any, Any, Any]) -> Any:
    """Answer a read generator (``resolve_steps``, ``child_reads``) with the blocking API."""
    return _answer_sync(checkpointer, steps)


async def read_async(checkpointer: Any, steps: Generator[Any, Any, Any]) -> Any:
    """Answer a read generator with the awaitable API."""
    return await _answer_async(checkpointer, steps)


async def resolve_workflow_async(
    checkpointer: Any, graph: Graph, given: Mapping[str, Any], **options: Any
) -> WorkflowStart:
    """``resolve_steps`` with an async ``Checkpointer`` answering its reads."""
    return await _answer_async(checkpointer, resolve_steps(graph, given, **options))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- CP8
def input_signature(graph: Graph, values: Mapping[str, Any]) -> str:
    """A map item's identity: its values (JSON, else pickle, else repr) and the graph's code."""
    try:
        text = dumps(sorted(values.items()))
    except (TypeError, ValueError):
        try:
            text = pickle.dumps(sorted(values.items()), protocol=5).hex()
        except Exception:
            text = repr(sorted(values.items()))
    digest = hashlib.blake2b(digest_size=16)
    digest.update(graph.code_hash.encode())
    digest.update(text.encode())
    return digest.hexdigest()


@attrs.frozen
class MapStart:
    """What a re-run ``map(..., workflow_id=)`` keeps: restored results and resumable items."""

    workflow_id: str
    exists: bool
    restored: dict[int, RunResult]
    resumed: dict[int, RunSnapshot]
    # item index -> (child run id, already recorded?, input signature)
    items: dict[int, tuple[str, bool, str]]


def _map_steps(
    graph: Graph, items: list[dict[str, Any]], workflow_id: str
) -> Generator[tuple[str, str], Any, MapStart]:
    parent = yield ("get_run", workflow_id)
    children: list[tuple[RunRecord, dict[str, Any]]] = []
    if parent is not None:
        children = yield ("children", workflow_id)
    by_signature: dict[str, tuple[RunRecord, dict[str, Any]]] = {}
    taken = set()
    for record, values in children:
        taken.add(record.id)
        sig = record.input_signature
        if sig is None:
            continue
        known = by_signature.get(sig)
        if known is None or record.status is WorkflowStatus.COMPLETED:
            by_signature[sig] = (record, values)
    from hypergraph.engine import engine_for

    plan = engine_for(graph).plan
    names = plan.selected if plan.selected is not None else plan.output_names
    restored: dict[int, RunResult] = {}
    resumed: dict[int, RunSnapshot] = {}
    planned: dict[int, tuple[str, bool, str]] = {}
    used: set[str] = set()
    for index, item in enumerate(items):
        sig = input_signature(graph, item)
        match = by_signature.get(sig)
        if match is not None and match[0].id not in used:
            record, values = match
            used.add(record.id)
            if record.status is WorkflowStatus.COMPLETED:
                restored[index] = RunResult(
                    {name: values[name] for name in names if name in values},
                    RunStatus.COMPLETED, record.id, graph_name=graph.name,
                    workflow_id=workflow_id, restored=True,
                )
                continue
            stored = yield ("checkpoint", record.id)
            snap, _ = yield from _load(stored)
            if snap is not None and snap.fingerprint == fingerprint(graph):
                resumed[index] = snap
            planned[index] = (record.id, True, sig)
            continue
        child_id = f"{workflow_id}/{index}"
        if child_id in taken or child_id in used:
            child_id = f"{workflow_id}/{index}.{sig[:8]}"
        exists = child_id in taken
        used.add(child_id)
        planned[index] = (child_id, exists, sig)
    return MapStart(workflow_id, parent is not None, restored, resumed, planned)


def plan_map(checkpointer: Any, graph: Graph, items: list[dict[str, Any]], workflow_id: str) -> MapStart:
    """CP8 with a ``SyncCheckpointer``: match ``items`` against the children of ``workflow_id``."""
    return _answer_sync(checkpointer, _map_steps(graph, items, workflow_id))  # type: ignore[no-any-return]


async def plan_map_async(
    checkpointer: Any, graph: Graph, items: list[dict[str, Any]], workflow_id: str
) -> MapStart:
    """``plan_map`` with an async ``Checkpointer``."""
    return await _answer_async(checkpointer, _map_steps(graph, items, workflow_id))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- recording
Op = tuple[Any, ...]
"""A write: ``("create", RunRecord)``, ``("active", id)``, ``("save", id, steps, checkpoint)``,
``("status", id, WorkflowStatus, error)``."""


_MISSING = object()


class _Slot:
    """One run being recorded: a top-level run, a nested graph's run or a map item."""

    __slots__ = (
        "base", "created", "done", "exists", "graph", "hashes", "inputs", "last", "loop",
        "next_index", "open", "parent_id", "pending", "run_id", "saved", "signature",
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
            record = _new_record(self.graph, start.workflow_id, dict(inputs))
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
        for index, (child_id, exists, sig) in start.items.items():
            self.slots[(str(index),)] = _Slot(
                child_id, wid, self.graph, exists=exists, signature=sig
            )
        if start.exists:
            return [("active", wid)]
        record = _new_record(self.graph, wid, {})
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
        if record.status in RESUMABLE and stored is not None:
            snap = snapshot_of(stored, base)
            if snap is not None and snap.paused is None and snap.fingerprint == fingerprint(graph):
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
        snap = snapshot_of(stored, base)
        if snap is None or snap.paused is not None or snap.fingerprint != fingerprint(graph):
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
            inputs = loop.state.provided if loop is not None and loop.state is not None else {}
        graph = slot.graph
        if graph is not None:
            record = _new_record(
                graph, slot.run_id, dict(inputs), parent_run_id=slot.parent_id,
                input_signature=slot.signature,
            )
        else:
            record = RunRecord(
                id=slot.run_id, inputs=dict(inputs), parent_run_id=slot.parent_id,
                input_signature=slot.signature,
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
        durations = effect.durations
        if durations is None:
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
        run_id = slot.run_id
        superstep = effect.superstep
        if (
            loop is not None and slot.base is not None
            and superstep - slot.base < FULL_STATE_EVERY and not loop.state.children
        ):
            ops.append(("save", run_id, steps, self._chained(slot, effect, loop, delta)))
            return ops
        snap = effect.snapshot()
        full = checkpoint_of(run_id, superstep, snap, delta if slot.saved else None)
        if slot.hashes is not None:
            full.state["definition_hashes"] = slot.hashes
        slot.saved = True
        if loop is not None:
            slot.base = superstep
            slot.done = set(_done_regions(loop.engine, loop.state))
            slot.open = list(loop.state.runnable)
        ops.append(("save", run_id, steps, full))
        return ops

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
        self, slot: _Slot, effect: Committed, loop: Any, delta: dict[str, Any]
    ) -> Checkpoint:
        """What this superstep changed in the loop's bookkeeping (a chained delta).

        It names the slot's last full record (``base``); a read folds the deltas of every
        superstep since then into it (``base_reads``). Maps keyed by node or output hold only
        this superstep's entries; the small rest is recorded whole, and only when not empty.
        """
        engine = loop.engine
        state = loop.state
        plan = engine.plan
        names = _node_names(plan)
        record: dict[str, Any] = {
            "superstep": state.superstep, "base": [slot.run_id, slot.base], "chain": 1,
        }
        tasks = effect.tasks
        consumed = state.consumed
        exec_count = state.exec_count
        versions = state.versions
        writers = state.writers
        if len(tasks) == 1:
            # one node: its name once; the outputs it wrote name it as their writer
            np = tasks[0].plan
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
            for task in tasks:
                np = task.plan
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
        added = _newly_done(slot, engine, state, effect.tasks)
        if added:
            keys = _region_keys(plan)
            record["done_added"] = [keys[c] for c in added]
        return Checkpoint(slot.run_id, effect.superstep, delta, record, state.provided)

    # -- ending ---------------------------------------------------------------------------
    def ended(self, path: tuple[str, ...], result: Any, error: BaseException | None = None) -> list[Op]:
        """The writes that close the run at ``path``: its last checkpoint (exit mode), its status."""
        slot = self.slots.get(path)
        if slot is None:
            return []
        ops: list[Op] = []
        if not slot.created:
            if not slot.pending:
                return []
            self._open(path, ops, slot.loop)
        if slot.pending:
            ops.append(self._deferred(slot))
        if error is not None:
            stopped = not isinstance(error, Exception)
            status = WorkflowStatus.STOPPED if stopped else WorkflowStatus.FAILED
            ops.append(("status", slot.run_id, status, f"{type(error).__name__}: {error}"))
            return ops
        if isinstance(result, MapResult):
            run_status = result.status
            text = None
        else:
            run_status = result.status
            text = None if result.error is None else f"{type(result.error).__name__}: {result.error}"
        ops.append(("status", slot.run_id, WorkflowStatus(run_status.value), text))
        return ops

    def journal(self, loop: Any) -> list[Any] | None:
        """``durability="exit"``: the list ``loop`` appends its plain calls to (see
        ``RunLoop._inline_journaled``); the records are built from it when the run ends."""
        if not self.defer:
            return None
        slot = self._slot(loop.info.identity.path)
        slot.loop = loop
        return slot.pending

    def _deferred(self, slot: _Slot) -> Op:
        """``durability="exit"``: every step the run kept, and its checkpoint, as one write.

        The steps go out as ``StepRows`` (plain tuples; a backend that knows them writes rows
        without a ``StepRecord`` per step), the checkpoint's state is built straight from the
        loop's state.
        """
        rows: list[tuple[Any, ...]] = []
        scratch: dict[str, Any] = {}
        run_id = slot.run_id
        clock = time() - perf_counter()  # journal times are perf_counter readings
        index = slot.next_index
        append = rows.append
        completed = StepStatus.COMPLETED
        failed = StepStatus.FAILED
        for entry in slot.pending:
            if len(entry) == 4:
                slot.next_index = index
                for step in self._steps(slot, *entry, scratch, True):
                    append(_row_of(step))
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
        slot.pending = []
        loop = slot.loop
        last = slot.last
        slot.last = None
        final = None
        if loop is not None and loop.state is not None:
            final = _final_checkpoint(run_id, loop)
        elif last is not None:
            final = checkpoint_of(run_id, last.superstep, last.snapshot())
        if final is not None and slot.hashes is not None:
            final.state["definition_hashes"] = slot.hashes
        return ("save", run_id, StepRows(run_id, rows), final)

    def item_ended(self, identity: Any, index: int, result: Any) -> list[Op]:
        """The writes that close map item ``index`` of the map at ``identity``."""
        if result is None or getattr(result, "restored", False):
            return []
        path = (*identity.path, str(index)) if identity is not None else (str(index),)
        return self.ended(path, result)

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
            else:
                await cp.update_run_status(op[1], op[2], error=op[3])

