"""Workflows: which stored run a call continues (SPEC CP3-CP6, CP8).

``resolve_workflow`` / ``resolve_workflow_async`` apply the ``workflow_id`` rules of CP3 in
order and return a ``WorkflowStart``: the run id, what kind of start it is (new, resume, fork,
retry), the ``RunSnapshot`` to continue from and the nodes to re-run because their code changed
(★). Both are thin shells around one generator, ``resolve_steps``, which asks for the reads it
needs (``Read``) and does no I/O itself. ``plan_map`` does the same for a map's child runs.
How state is stored lives in ``_checkpoint_state``, how supersteps are written in
``_recorder``. Nothing here runs unless a runner has a checkpointer.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from hypergraph.checkpointers.records import (
    Checkpoint,
    ChildRun,
    RunRecord,
    WorkflowStatus,
    child_runs_of,
    new_workflow_id,
)
from hypergraph.checkpointers.values import dumps
from hypergraph.engine.engine import _changed
from hypergraph.exceptions import (
    GraphChangedError,
    InputOverrideRequiresForkError,
    RunNotFoundError,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
)
from hypergraph.results import RunResult, RunStatus
from hypergraph.runners._checks import check_graph_argument
from hypergraph.runners._options import partition_values
from hypergraph.runners._support import check_lineage_options
from hypergraph.runtime._checkpoint_state import Read, base_reads, snapshot_of
from hypergraph.runtime._snapshot import (
    RunSnapshot,
    fingerprint,
)

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = [
    "MapStart",
    "WorkflowStart",
    "check_force_resume",
    "child_reads",
    "code_changes",
    "definition_hashes",
    "input_signature",
    "new_record",
    "plan_map",
    "plan_map_async",
    "read_async",
    "read_sync",
    "recorded_hashes",
    "resolve_steps",
    "resolve_workflow",
    "resolve_workflow_async",
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


def new_record(graph: Graph, run_id: str, inputs: dict[str, Any], **extra: Any) -> RunRecord:
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


# ---------------------------------------------------------------------------- CP3
def check_force_resume(force_resume: bool) -> None:
    """``force_resume=True`` only means something to a runner with a checkpointer (CP4)."""
    if force_resume:
        raise ValueError(
            "force_resume=True skips the structure check of a recorded workflow, but this "
            "runner has no checkpointer; create it with checkpointer=... (or drop force_resume)."
        )


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
        new_id, kind, snap, inputs, new_record(graph, new_id, {}, **lineage),
        code_changes(graph, source, snap, hashes),
    )


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
                answer = _child_runs_sync(checkpointer, run_id)
            elif kind == "states":
                answer = _states_sync(checkpointer, run_id, request[2], request[3])
            else:
                answer = len(checkpointer.steps(run_id))
    except StopIteration as stop:
        return stop.value


def _child_runs_sync(checkpointer: Any, run_id: str) -> list[ChildRun]:
    """``run_id``'s children as ``ChildRun``s: a backend's ``child_runs`` if it has one (it
    builds no ``RunRecord``s), else from the protocol's ``children``."""
    read = getattr(checkpointer, "child_runs", None)
    if read is not None:
        return read(run_id)  # type: ignore[no-any-return]
    return child_runs_of(checkpointer.children(run_id))


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
                read = getattr(checkpointer, "get_child_runs", None)
                if read is not None:
                    answer = await read(run_id)
                else:
                    answer = child_runs_of(await checkpointer.get_children(run_id))
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
def input_signature(
    graph: Graph, values: Mapping[str, Any], seeded: Any = None
) -> str:
    """A map item's identity: its values (JSON, else pickle, else repr) and the graph's code.

    ``seeded`` is ``_signer(graph)``: a map hashes the graph's code once, not per item."""
    try:
        text = dumps(sorted(values.items()))
    except (TypeError, ValueError):
        try:
            text = pickle.dumps(sorted(values.items()), protocol=5).hex()
        except Exception:
            text = repr(sorted(values.items()))
    digest = (seeded or _signer(graph)).copy()
    digest.update(text.encode())
    return digest.hexdigest()


def _signer(graph: Graph) -> Any:
    """The digest ``input_signature`` continues: seeded with the graph's code hash."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(graph.code_hash.encode())
    return digest


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
    children: list[ChildRun] = []
    if parent is not None:
        children = yield ("children", workflow_id)
    by_signature: dict[str, ChildRun] = {}
    taken = set()
    for child in children:
        taken.add(child.id)
        sig = child.input_signature
        if sig is None:
            continue
        known = by_signature.get(sig)
        if known is None or child.status is WorkflowStatus.COMPLETED:
            by_signature[sig] = child
    from hypergraph.engine import engine_for

    plan = engine_for(graph).plan
    names = plan.selected if plan.selected is not None else plan.output_names
    restored: dict[int, RunResult] = {}
    resumed: dict[int, RunSnapshot] = {}
    planned: dict[int, tuple[str, bool, str]] = {}
    used: set[str] = set()
    seeded = _signer(graph)
    for index, item in enumerate(items):
        sig = input_signature(graph, item, seeded)
        match = by_signature.get(sig)
        if match is not None and match.id not in used:
            used.add(match.id)
            if match.status is WorkflowStatus.COMPLETED:
                values = match.values
                restored[index] = RunResult(
                    {name: values[name] for name in names if name in values},
                    RunStatus.COMPLETED, match.id, graph_name=graph.name,
                    workflow_id=workflow_id, restored=True,
                )
                continue
            stored = yield ("checkpoint", match.id)
            snap, _ = yield from _load(stored)
            if snap is not None and snap.fingerprint == fingerprint(graph):
                resumed[index] = snap
            planned[index] = (match.id, True, sig)
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
