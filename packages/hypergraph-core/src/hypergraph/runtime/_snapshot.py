"""Restorable run state: ``snapshot(state)`` → a value keyed by names, ``restore`` → state.

``RunState`` is indexed by node and component position, which depends on the order nodes were
listed in. A ``RunSnapshot`` names everything instead (nodes, outputs, gates, cyclic regions),
so it can be persisted, compared and restored into any graph with the same structure and
scope. ``restore`` derives the scheduling frontier afresh from which regions are complete.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from hypergraph.engine.state import SEED, RunState
from hypergraph.exceptions import GraphChangedError
from hypergraph.nodes.gates import END

if TYPE_CHECKING:
    from hypergraph.engine import Engine
    from hypergraph.graph import Graph
    from hypergraph.plan import Plan

__all__ = ["PlanFingerprint", "RunSnapshot", "fingerprint", "restore", "snapshot"]


@attrs.frozen(slots=True)
class PlanFingerprint:
    """What a snapshot belongs to: the graph's structure and the scope it ran in."""

    structural_hash: str
    bound: tuple[str, ...] = ()
    selected: tuple[str, ...] | None = None
    entrypoints: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class RunSnapshot:
    """Everything a run has computed after a superstep, by name; JSON-able when its values are."""

    fingerprint: PlanFingerprint
    superstep: int = 0
    values: dict[str, Any] = attrs.field(factory=dict)
    versions: dict[str, int] = attrs.field(factory=dict)
    # output name -> node that wrote the current value; None: a value the caller provided
    writers: dict[str, str | None] = attrs.field(factory=dict)
    # node -> {input name: version it consumed when it last ran}
    consumed: dict[str, dict[str, int]] = attrs.field(factory=dict)
    executions: dict[str, int] = attrs.field(factory=dict)
    # gate -> targets still to run; gates whose decision was END are listed in ``ended``
    decisions: dict[str, list[str]] = attrs.field(factory=dict)
    ended: tuple[str, ...] = ()
    cut_off: tuple[str, ...] = ()
    # cyclic region (its node names joined by '|', sorted) -> supersteps it contributed to
    iterations: dict[str, int] = attrs.field(factory=dict)
    # regions (same naming; single nodes by name) that are complete
    done: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    paused: str | None = None
    inputs: dict[str, Any] = attrs.field(factory=dict)
    answers: dict[str, Any] = attrs.field(factory=dict)
    scoped: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    nested_answers: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    # paused nested runs by graph-node name: a resume restores them (instead of re-running)
    children: dict[str, RunSnapshot] = attrs.field(factory=dict)

    @property
    def completed(self) -> tuple[str, ...]:
        """Nodes that ran at least once."""
        return tuple(name for name, count in self.executions.items() if count)


def fingerprint(graph: Graph) -> PlanFingerprint:
    """The structural hash plus the scope (bind, select, entrypoint) of ``graph``."""
    return PlanFingerprint(
        structural_hash=graph.structural_hash,
        bound=tuple(sorted(graph._bound)),
        selected=graph.selected,
        entrypoints=tuple(graph._entrypoints),
    )


# plan id -> (plan, region key of every component): names joined once per plan, not per snapshot
_REGION_KEYS: dict[int, tuple[Plan, list[str]]] = {}


def _region_keys(plan: Plan) -> list[str]:
    found = _REGION_KEYS.get(id(plan))
    if found is not None and found[0] is plan:
        return found[1]
    keys = [
        "|".join(sorted(plan.nodes[m].name for m in cp.nodes)) for cp in plan.components
    ]
    if len(_REGION_KEYS) > 256:
        _REGION_KEYS.clear()
    _REGION_KEYS[id(plan)] = (plan, keys)
    return keys


def _region_key(plan: Plan, c: int) -> str:
    return _region_keys(plan)[c]


def _done_regions(engine: Engine, state: RunState) -> list[int]:
    plan = engine.plan
    if engine.schedule is not None and state.scheduled:
        # a precomputed schedule keeps no frontier: a node that ran completed its region
        return [cp.index for cp in plan.components if state.exec_count[cp.nodes[0]]]
    runnable = set(state.runnable)
    pending = state.pending_preds
    return [c for c in range(len(plan.components)) if pending[c] == 0 and c not in runnable]


def named_decisions(
    decisions: Mapping[int, Any], names: Sequence[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Gate decisions by node name: the targets each gate chose, and the gates that chose END."""
    chosen: dict[str, list[str]] = {}
    ended: list[str] = []
    for g, decision in decisions.items():
        if decision is END:
            ended.append(names[g])
        else:
            chosen[names[g]] = [names[t] for t in decision]
    return chosen, ended


def snapshot(engine: Engine, state: RunState, graph: Graph) -> RunSnapshot:
    """The name-keyed, restorable view of ``state`` (taken between supersteps)."""
    plan = engine.plan
    nodes = plan.nodes
    names = [np.name for np in nodes]
    keys = _region_keys(plan)
    consumed: dict[str, dict[str, int]] = {}
    for np, seen in zip(nodes, state.consumed, strict=True):
        if seen is not None:
            consumed[np.name] = dict(zip(np.inputs, seen, strict=True))
    decisions, ended = named_decisions(state.decisions, names)
    return RunSnapshot(
        fingerprint=fingerprint(graph),
        superstep=state.superstep,
        values=dict(state.values),
        versions=dict(state.versions),
        writers={k: (None if w == SEED else names[w]) for k, w in state.writers.items()},
        consumed=consumed,
        executions={names[i]: n for i, n in enumerate(state.exec_count) if n},
        decisions=decisions,
        ended=tuple(ended),
        cut_off=tuple(sorted(names[g] for g in state.cut_off)),
        iterations={keys[c]: n for c, n in state.iterations.items()},
        done=tuple(keys[c] for c in _done_regions(engine, state)),
        failed=tuple(names[i] for i in sorted(state.failed)),
        paused=state.paused,
        inputs=dict(state.provided),
        answers=dict(state.answers),
        scoped={k: dict(v) for k, v in state.scoped.items()},
        nested_answers={k: dict(v) for k, v in state.nested_answers.items()},
        children=dict(state.children),
    )


def check_compatible(snap: RunSnapshot, graph: Graph, *, what: str = "checkpoint") -> None:
    """A snapshot restores only into a graph of the same structure and scope (CP6)."""
    current = fingerprint(graph)
    if current != snap.fingerprint:
        raise GraphChangedError(
            f"This {what} was taken from a graph with a different structure or scope "
            f"({_difference(snap.fingerprint, current)}); it cannot be restored into "
            f"{graph.name or 'this graph'!r}. Run the graph afresh, or fork the workflow."
        )


def _difference(old: PlanFingerprint, new: PlanFingerprint) -> str:
    for field in ("structural_hash", "bound", "selected", "entrypoints"):
        if getattr(old, field) != getattr(new, field):
            return f"{field} differs"
    return "unknown difference"


def restore(
    snap: RunSnapshot,
    engine: Engine,
    graph: Graph,
    changed: Collection[str] = (),
    rerun: Collection[str] = (),
) -> RunState:
    """A ``RunState`` for ``engine``'s plan that continues exactly where ``snap`` left off.

    ``changed`` names inputs the caller gives new values for (a fork): the nodes consuming
    them run again, and every region downstream of them is reopened. ``rerun`` names nodes
    that run again themselves (their code changed), reopening their regions likewise.
    """
    check_compatible(snap, graph)
    plan = engine.plan
    index = plan.index_of
    n = len(plan.nodes)
    region_of = {_region_key(plan, c): c for c in range(len(plan.components))}
    consumed: list[tuple[int, ...] | None] = [None] * n
    for name, seen in snap.consumed.items():
        np = plan.nodes[index[name]]
        consumed[np.index] = tuple(seen.get(i, 0) for i in np.inputs)
    exec_count = [0] * n
    for name, count in snap.executions.items():
        exec_count[index[name]] = count
    decisions: dict[int, Any] = {index[g]: [index[t] for t in ts] for g, ts in snap.decisions.items()}
    for g in snap.ended:
        decisions[index[g]] = END
    done = {region_of[key] for key in snap.done}
    if changed or rerun:
        reopened: set[int] = set()
        todo = []
        for np in plan.nodes:
            if np.name in rerun or any(name in changed for name in np.inputs):
                exec_count[np.index] = 0
                consumed[np.index] = None
                todo.append(np.component)
        while todo:
            c = todo.pop()
            if c not in reopened:
                reopened.add(c)
                todo.extend(plan.components[c].succ)
        done -= reopened
    pending = [0] * len(plan.components)
    for cp in plan.components:
        for s in cp.succ:
            if cp.index not in done:
                pending[s] += 1
    runnable = [c for c in range(len(plan.components)) if c not in done and pending[c] == 0]
    return RunState(
        values=dict(snap.values),
        versions=dict(snap.versions),
        writers={k: (SEED if w is None else index[w]) for k, w in snap.writers.items()},
        consumed=consumed,
        exec_count=exec_count,
        decisions=decisions,
        cut_off={index[g] for g in snap.cut_off},
        superstep=snap.superstep,
        iterations={region_of[k]: v for k, v in snap.iterations.items()},
        runnable=runnable,
        pending_preds=pending,
        provided=dict(snap.inputs),
        answers=dict(snap.answers),
        scoped={k: dict(v) for k, v in snap.scoped.items()},
        nested_answers={k: dict(v) for k, v in snap.nested_answers.items()},
        children=dict(snap.children),
        scheduled=False,
    )
