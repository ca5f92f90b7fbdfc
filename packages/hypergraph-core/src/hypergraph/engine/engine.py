"""The runner-independent scheduling algorithm: which nodes run next, and how results apply.

No I/O, no asyncio, no events: runners call ``next_batch`` → execute the batch their own way →
``commit``. SyncRunner does it in a for-loop, AsyncRunner with gather, DBOS as durable steps.
Rule IDs refer to SPEC.md (X4-X11, X19, X24, GT8-GT10, HI5).
"""

from __future__ import annotations

import copy
from heapq import heapify, heappop, heappush
from typing import Any

from hypergraph.engine.state import SEED, RunState
from hypergraph.exceptions import ConflictError, InfiniteLoopError
from hypergraph.nodes.gates import END
from hypergraph.plan import COPY_DEFAULT, NO_FALLBACK, ComponentPlan, NodePlan, Plan

__all__ = ["Engine", "NodeOutcome"]

NodeOutcome = tuple[NodePlan, dict[str, Any], Any]
"""What one node execution produced: (node, outputs by name, gate decision or None)."""


class Engine:
    """Drives one plan; holds no run state of its own, so one engine serves every run."""

    __slots__ = (
        "_compiled",
        "components",
        "initial_pending",
        "initial_runnable",
        "nodes",
        "plan",
        "schedule",
    )

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.nodes = plan.nodes
        self.components = plan.components
        self.schedule = plan.schedule
        self.initial_runnable = [c.index for c in plan.components if c.n_preds == 0]
        self.initial_pending = [c.n_preds for c in plan.components]
        self._compiled: Any = _UNCOMPILED

    @property
    def compiled(self) -> Any:
        """The plan as generated straight-line functions (``runtime._compiled``), or ``None``
        when it is not a static schedule of plain sync functions; generated on first use."""
        if not COMPILED_ENABLED[0]:
            return None
        compiled = self._compiled
        if compiled is _UNCOMPILED:
            compiled = self.compiled_code()
        return compiled

    def compiled_code(self) -> Any:
        """``compiled``, whether or not the compiled path is switched on."""
        compiled = self._compiled
        if compiled is _UNCOMPILED:
            from hypergraph.runtime._compiled import compile_plan

            compiled = self._compiled = compile_plan(self.plan)
        return compiled

    # ------------------------------------------------------------------ state
    def new_state(
        self,
        provided: dict[str, Any],
        answers: dict[str, Any] | None = None,
        scoped: dict[str, dict[str, Any]] | None = None,
        nested_answers: dict[str, dict[str, Any]] | None = None,
    ) -> RunState:
        """A fresh state with the caller's inputs seeded at version 1 (SPEC X11)."""
        n = len(self.nodes)
        state = RunState(
            values=dict(provided),
            versions=dict.fromkeys(provided, 1),
            writers=dict.fromkeys(provided, SEED),
            consumed=[None] * n,
            exec_count=[0] * n,
            runnable=list(self.initial_runnable),
            pending_preds=list(self.initial_pending),
            provided=provided,
            answers=dict(answers or {}),
            scoped=scoped or {},
            nested_answers=nested_answers or {},
        )
        return state

    # ------------------------------------------------------------------ scheduling
    def next_batch(self, state: RunState, max_iterations: float) -> list[NodePlan]:
        """The nodes to run in superstep ``state.superstep``; empty when the run is quiescent."""
        schedule = self.schedule
        if schedule is not None and state.scheduled:
            step = state.superstep
            return schedule[step] if step < len(schedule) else ()  # type: ignore[return-value]
        components = self.components
        heap = state.runnable
        if len(heap) > 1:
            heapify(heap)
        state.runnable = still = []
        batch: list[NodePlan] = []
        finishing: list[int] = []
        looping: list[int] = []
        while heap:
            c = heappop(heap)
            cp = components[c]
            ready = self._ready_in(state, cp)
            if ready:
                batch.extend(ready)
                if cp.single:
                    finishing.append(c)
                else:
                    still.append(c)
                    if cp.cyclic:
                        looping.append(c)
            else:
                self._complete(state, c, heap)
        if not batch:
            state.finishing = []
            return batch
        if self.plan.has_interrupts:
            batch = self._interrupt_alone(state, batch, finishing)
            looping = list(dict.fromkeys(np.component for np in batch if components[np.component].cyclic))
        state.finishing = finishing
        if looping:
            self._count_iterations(state, looping, max_iterations)
        return batch

    def _interrupt_alone(
        self, state: RunState, batch: list[NodePlan], finishing: list[int]
    ) -> list[NodePlan]:
        """A ready interrupt runs alone in its superstep (SPEC HI5).

        Nested graphs that contain interrupts count too, so a pause never commits siblings'
        work that a resume would then redo.
        """
        interrupts = [np for np in batch if np.pauses]
        if not interrupts:
            return batch
        first = min(interrupts, key=lambda np: np.index)
        for np in batch:
            c = np.component
            if np is not first and c in finishing:
                finishing.remove(c)
                state.runnable.append(c)
        return [first]

    def _count_iterations(self, state: RunState, looping: list[int], limit: float) -> None:
        """X19: each cyclic component may contribute to at most ``limit`` supersteps."""
        iterations = state.iterations
        for c in looping:
            count = iterations.get(c, 0) + 1
            if count > limit:
                names = [self.nodes[m].name for m in self.components[c].nodes]
                raise InfiniteLoopError(limit, names)
            iterations[c] = count

    def _complete(self, state: RunState, c: int, heap: list[int]) -> None:
        pending = state.pending_preds
        for s in self.components[c].succ:
            pending[s] -= 1
            if pending[s] == 0:
                heappush(heap, s)

    def _ready_in(self, state: RunState, cp: ComponentPlan) -> list[NodePlan]:
        nodes = self.nodes
        if cp.single:
            np = nodes[cp.nodes[0]]
            return [np] if self._is_ready(state, np) else []
        is_ready = self._is_ready
        ready: list[NodePlan] = []
        blocked: tuple[int, ...] | set[int] = ()
        if cp.gates:
            decisions = state.decisions
            ready_gates = [g for g in cp.gates if is_ready(state, nodes[g])]
            if ready_gates:
                blocked = set()
                for g in ready_gates:
                    # a gate about to re-decide drops its stale verdict (GT8); END stays
                    if g in decisions and decisions[g] is not END:
                        del decisions[g]
                    blocked.update(nodes[g].gate_plan.targets)  # type: ignore[union-attr]  # GT9
                ready = [nodes[g] for g in ready_gates if g not in blocked]
        for m in cp.others:
            if m not in blocked:
                np = nodes[m]
                if is_ready(state, np):
                    ready.append(np)
        if len(ready) > 1:
            ready.sort(key=_index)
        return ready

    def _is_ready(self, state: RunState, np: NodePlan) -> bool:
        """X6: activated, started up, inputs available, and something new to do."""
        n = np.index
        exec_count = state.exec_count
        ran = exec_count[n] != 0
        named = False
        if np.gates:
            named = self._named_by_decision(state, np)
            if not named and not self._first_pass(state, np):
                return False
        if np.startup_preds and (ran or not np.is_entry):
            nodes = self.nodes
            for p in np.startup_preds:
                if exec_count[p] == 0 and (not nodes[p].gates or self._activated(state, nodes[p])):
                    return False
        writers = state.writers
        producers = np.producers
        fallbacks = np.fallbacks
        i = 0
        for name in np.inputs:
            w = writers.get(name)
            if (
                (w is None or (w >= 0 and w not in producers[i]))
                and fallbacks[i][0] == NO_FALLBACK
                and name not in state.provided
                and name not in state.scoped.get(np.name, ())
            ):
                return False
            i += 1
        if not ran or named:
            return True
        consumed = state.consumed[n]
        versions = state.versions
        self_ignored = np.self_ignored
        i = 0
        for name in np.inputs:
            w = writers.get(name)
            if (
                w is not None
                and w >= 0
                and versions[name] != consumed[i]  # type: ignore[index]
                and w in producers[i]
                and not (w == n and self_ignored[i])
            ):
                return True
            i += 1
        return False

    def _activated(self, state: RunState, np: NodePlan) -> bool:
        """GT8: some controlling gate names this node, or grants first-pass permission."""
        return self._named_by_decision(state, np) or self._first_pass(state, np)

    def _first_pass(self, state: RunState, np: NodePlan) -> bool:
        """GT8b: a gate with no decision that never ran lets a never-run node go once."""
        exec_count = state.exec_count
        if exec_count[np.index]:
            return False
        decisions = state.decisions
        # R2-2: a gate in the node's own cyclic region will decide first (entries excepted)
        for g in np.first_pass_gates:
            if g not in decisions and exec_count[g] == 0 and g not in state.cut_off:
                return True
        return False

    def _named_by_decision(self, state: RunState, np: NodePlan) -> bool:
        decisions = state.decisions
        n = np.index
        for g in np.gates:
            decision = decisions.get(g)
            if decision is not None and decision is not END and n in decision:
                return True
        return False

    # ------------------------------------------------------------------ inputs
    def collect(self, state: RunState, np: NodePlan) -> dict[str, Any]:
        """Keyword arguments for ``np``: edge > provided > bound > default (SPEC X12)."""
        values = state.values
        writers = state.writers
        versions = state.versions
        provided = state.provided
        producers = np.producers
        fallbacks = np.fallbacks
        scoped = state.scoped.get(np.name) if state.scoped else None
        kwargs: dict[str, Any] = {}
        consumed = []
        i = 0
        for name in np.inputs:
            w = writers.get(name)
            if scoped is not None and name in scoped:
                value = scoped[name]
            elif w is not None and (w < 0 or w in producers[i]):
                value = values[name]
            elif name in provided:
                value = provided[name]
            else:
                kind, value = fallbacks[i]
                if kind == COPY_DEFAULT:
                    value = copy.deepcopy(value)
            kwargs[np.params[i]] = value
            consumed.append(versions.get(name, 0))
            i += 1
        state.consumed[np.index] = tuple(consumed)
        return kwargs

    # ------------------------------------------------------------------ results
    def commit(self, state: RunState, outcomes: list[NodeOutcome]) -> None:
        """Apply one superstep's results in node order (X5, X11, X24) and advance it."""
        exec_count = state.exec_count
        if self.schedule is not None and state.scheduled:
            self._commit_total(state, outcomes)
            return
        decisions = state.decisions
        if len(outcomes) == 1:
            self._commit_one(state, outcomes[0])
            return
        # X5/X24: stage every write first, so two writers of one name in a superstep conflict
        staged: dict[str, tuple[Any, NodePlan]] = {}
        for np, outputs, decision in outcomes:
            index = np.index
            exec_count[index] += 1
            for g in np.gates:
                pending = decisions.get(g)
                if isinstance(pending, list) and index in pending:
                    pending.remove(index)
            if np.gate_plan is not None:
                self._record_decision(state, np, decision)
            if not outputs:
                continue
            for name, value in outputs.items():
                if name in staged:
                    other_value, other = staged[name]
                    if _changed(other_value, value):
                        raise ConflictError(name, [other.name, np.name])
                staged[name] = (value, np)
        values = state.values
        versions = state.versions
        writers = state.writers
        for name, (value, np) in staged.items():
            if name not in values:
                versions[name] = 1
            elif _changed(values[name], value):
                versions[name] += 1
            else:
                continue
            values[name] = value
            writers[name] = np.index
        for c in state.finishing:
            self._complete(state, c, state.runnable)
        state.finishing = []
        state.superstep += 1

    def commit_partial(
        self,
        state: RunState,
        outcomes: list[NodeOutcome],
        unfinished: list[NodePlan],
        consumed_before: dict[int, tuple[int, ...] | None],
    ) -> None:
        """Commit a superstep in which ``unfinished`` nodes failed, paused or never ran.

        Their regions stay open and what they consumed is forgotten (``consumed_before``: the
        versions they had consumed before this superstep's ``collect``), so a restored run
        executes exactly them (and what depends on them) again, while the siblings that
        finished keep their results (SPEC CP5).
        """
        consumed = state.consumed
        for np in unfinished:
            if np.index in consumed_before:
                consumed[np.index] = consumed_before[np.index]
        if self.schedule is not None and state.scheduled:
            self._commit_total(state, outcomes)
            return
        reopened = {np.component for np in unfinished}
        if reopened:
            keep = [c for c in state.finishing if c not in reopened]
            state.runnable.extend(c for c in state.finishing if c in reopened)
            state.finishing = keep
        if outcomes:
            self.commit(state, outcomes)
        else:
            for c in state.finishing:
                self._complete(state, c, state.runnable)
            state.finishing = []
            state.superstep += 1

    def _commit_one(self, state: RunState, outcome: NodeOutcome) -> None:
        """A superstep of one node: nothing to stage, nothing can conflict."""
        np, outputs, decision = outcome
        index = np.index
        state.exec_count[index] += 1
        if np.gates:
            decisions = state.decisions
            for g in np.gates:
                pending = decisions.get(g)
                if isinstance(pending, list) and index in pending:
                    pending.remove(index)
        if np.gate_plan is not None:
            self._record_decision(state, np, decision)
        if outputs:
            self._write(state, index, outputs)
        for c in state.finishing:
            self._complete(state, c, state.runnable)
        state.finishing = []
        state.superstep += 1

    @staticmethod
    def _write(state: RunState, index: int, outputs: dict[str, Any]) -> None:
        """X11: store outputs, bumping a version only when the value changed."""
        values = state.values
        versions = state.versions
        writers = state.writers
        for name, value in outputs.items():
            if name in values:
                if not _changed(values[name], value):
                    continue
                versions[name] += 1
            else:
                versions[name] = 1
            values[name] = value
            writers[name] = index

    def _commit_total(self, state: RunState, outcomes: list[NodeOutcome]) -> None:
        """Commit for precomputed schedules: no gates, no loops, no same-superstep conflicts."""
        exec_count = state.exec_count
        values = state.values
        versions = state.versions
        writers = state.writers
        for np, outputs, _ in outcomes:
            index = np.index
            exec_count[index] += 1
            # X11, inlined: this loop is the whole commit of a total plan
            for name, value in outputs.items():
                if name in values:
                    if not _changed(values[name], value):
                        continue
                    versions[name] += 1
                else:
                    versions[name] = 1
                values[name] = value
                writers[name] = index
        state.superstep += 1

    def _record_decision(self, state: RunState, np: NodePlan, decision: Any) -> None:
        gate_plan = np.gate_plan
        assert gate_plan is not None
        if decision is END:
            state.decisions[np.index] = END
            chosen: set[int] = set()
        else:
            chosen = set(decision)
            state.decisions[np.index] = list(decision)
        for t in gate_plan.gate_targets:
            if t in chosen:
                state.cut_off.discard(t)
            else:
                self._cut_off(state, t)

    def _cut_off(self, state: RunState, gate: int) -> None:
        """GT10: a gate routed away from loses its pending decisions, down the chain."""
        todo = [gate]
        while todo:
            g = todo.pop()
            if g in state.cut_off:
                continue
            state.cut_off.add(g)
            state.decisions.pop(g, None)
            todo.extend(self.nodes[g].gate_plan.gate_targets)  # type: ignore[union-attr]

    def output_values(self, state: RunState) -> dict[str, Any]:
        """Selected outputs (or all data outputs) present in the final state (SPEC X21)."""
        values = state.values
        names = self.plan.selected if self.plan.selected is not None else self.plan.output_names
        return {name: values[name] for name in names if name in values}


_UNCOMPILED = object()

COMPILED_ENABLED = [True]
"""Whether runs may take the compiled path (``runtime._compiled.set_enabled`` switches it)."""


def _index(np: NodePlan) -> int:
    return np.index


def _changed(old: Any, new: Any) -> bool:
    """X11: unequal values bump the version; uncomparable ones count as changed."""
    if old is new:
        return False
    try:
        return bool(old != new)
    except Exception:
        return True
