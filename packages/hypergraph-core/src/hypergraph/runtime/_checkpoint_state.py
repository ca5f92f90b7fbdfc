"""The loop's bookkeeping as stored checkpoint state (SPEC CP7).

``checkpoint_of`` / ``snapshot_of`` turn a ``RunSnapshot`` into a stored ``Checkpoint`` and
back. Between full records every superstep stores only its own change (a chained delta naming
its base); ``base_reads`` fetches what a resume folds, ``_fold`` folds it.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from hypergraph.checkpointers.records import Checkpoint
from hypergraph.engine.state import SEED
from hypergraph.runtime._snapshot import (
    PlanFingerprint,
    RunSnapshot,
    _done_regions,
    _region_keys,
    fingerprint,
    named_decisions,
)

if TYPE_CHECKING:
    from hypergraph.graph import Graph


__all__ = [
    "CompiledEnd",
    "Read",
    "base_of",
    "base_reads",
    "checkpoint_of",
    "compiled_end",
    "final_checkpoint",
    "node_names",
    "snapshot_of",
]

Read = tuple[Any, ...]
"""A read a workflow generator asks for: ``("get_run", id)``, ``("checkpoint", id)``,
``("checkpoint_at", id, superstep)``, ``("states", id, after, before)`` (the states of the
checkpoints in between, in order), ``("steps", id)`` (answer: how many) or ``("children", id)``
(answer: ``ChildRun``s).
``read_sync``/``read_async`` answer them from a checkpointer."""


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


def final_checkpoint(run_id: str, loop: Any) -> Checkpoint:
    """``checkpoint_of(run_id, last superstep, loop.snapshot())``, built from the loop's state
    directly (no ``RunSnapshot`` in between): what an ``"exit"`` run stores when it ends.

    The containers most runs leave empty (decisions, answers, children, ...) are only walked
    when they hold something. The state may be shared with other runs' (read-only): a compiled
    run that ended as its plan's runs end (``RunLoop.ended``) takes it from ``CompiledEnd``."""
    ended = loop.ended
    if ended is not None and loop.state is None:
        end, values = ended
        return Checkpoint(run_id, end.superstep - 1, values, end.state, dict(loop.parts.provided))
    engine = loop.engine
    state = loop._materialized()
    plan = engine.plan
    names = node_names(plan)
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


@attrs.frozen
class CompiledEnd:
    """How every completed run of a compiled plan with the same input names ends: what each
    call consumed (by position) and the checkpoint state (shared: read-only). Such a run's
    versions, writers and counts do not depend on its values, as long as no input is also
    an output (``commit`` compares those values)."""

    seen: tuple[Any, ...]
    state: dict[str, Any]
    superstep: int


_MAX_ENDS = 64


def compiled_end(loop: Any, compiled: Any) -> None:
    """Learn from ``loop`` (a completed compiled run, its state committed) how runs with its
    input names end: into ``compiled.ends[names]``, unless that depends on the values."""
    provided = loop.parts.provided
    # ``prepare_values`` refuses such inputs; loops built from raw parts are checked here
    if any(name in provided for np in loop.engine.plan.nodes for name in np.outputs):
        return
    ends = compiled.ends
    if len(ends) >= _MAX_ENDS:
        ends.clear()
    state = loop.state
    consumed = state.consumed
    seen = tuple(consumed[np.index] for np in compiled.positions)
    ends[tuple(provided)] = CompiledEnd(seen, final_checkpoint("", loop).state, state.superstep)


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


def node_names(plan: Any) -> list[str]:
    """Node names by plan index, built once per plan (a delta is written every superstep)."""
    found = _NAMES.get(id(plan))
    if found is not None and found[0] is plan:
        return found[1]
    names = [np.name for np in plan.nodes]
    if len(_NAMES) > 256:
        _NAMES.clear()
    _NAMES[id(plan)] = (plan, names)
    return names
