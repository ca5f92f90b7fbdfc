"""The one run loop: a run's whole lifecycle, written once for every runner.

``RunLoop.run_steps()`` and ``MapLoop.steps()`` are generators. They schedule supersteps with
the engine, build events, consult the cache, commit results, record pauses and failures, run
nested graphs and map items, and return the ``RunResult``/``MapResult``. They never perform
I/O: each event and effect they yield is performed by the driver (see ``_tasks``), which sends
the answer back. SyncRunner, AsyncRunner and third-party runners differ only in their driver.

When nothing observes a run (no processor, cache or checkpointer), plain sync functions and
gates are called inline by the loop itself, so the hot path pays for no task objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from hypergraph.cache.node_cache import is_cacheable
from hypergraph.engine import engine_for
from hypergraph.engine.engine import _changed
from hypergraph.engine.execution import map_outputs, resolve_decision
from hypergraph.events._emitter import new_span_id
from hypergraph.plan import FUNCTION, GENERATOR, GRAPH, IFELSE, INTERRUPT, ROUTE
from hypergraph.results import ItemColumns, MapResult, RunResult, RunStatus
from hypergraph.runners import run_events as events
from hypergraph.runners._context import id_bits, nested_processors
from hypergraph.runners._graph_node import child_values, mapped_outputs
from hypergraph.runners._options import PartitionedValues, value_roles
from hypergraph.runners._support import (
    aggregate_status,
    check_selected_present,
    decision_label,
    elapsed_ms,
    interrupt_outputs,
    nested_map_items,
    note_node_failure,
    pause_info,
    prepare_values,
)
from hypergraph.runtime._compiled import MISSING, named_outputs
from hypergraph.runtime._snapshot import RunSnapshot, restore, snapshot
from hypergraph.runtime._tasks import (
    CacheGet,
    CacheSet,
    Committed,
    ExecuteBatch,
    ExecuteItems,
    GatherLeaves,
    Invoke,
    NodeTask,
    RunChild,
    Steps,
    TaskOutcome,
    Tick,
)

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.nodes.graph_node import GraphNode
    from hypergraph.plan import NodePlan
    from hypergraph.runners._context import RunInfo
    from hypergraph.runtime._checkpoint_state import CompiledEnd
    from hypergraph.runtime._driver import DriverTraits

__all__ = ["MapLoop", "RunLoop"]

_TICK = Tick()


class RunLoop:
    """One run of one graph: its state, and the generator that drives it to a result."""

    __slots__ = (
        "answered", "compiled", "driver", "ended", "engine", "fast", "graph", "info",
        "keep_checkpoint", "parts", "record", "rerun", "reused", "state",
    )

    def __init__(
        self,
        graph: Graph,
        parts: PartitionedValues,
        info: RunInfo,
        driver: DriverTraits,
        *,
        checkpoint: RunSnapshot | None = None,
        keep_checkpoint: bool = False,
        rerun: dict[str, str] | None = None,
    ) -> None:
        self.graph = graph
        self.info = info
        self.driver = driver
        engine = self.engine = engine_for(graph)
        # nothing observes the run: the loop may call plain sync nodes itself
        fast = self.fast = info.emitter is None and not driver.observed
        self.keep_checkpoint = keep_checkpoint
        self.rerun = rerun or {}
        self.reused: tuple[str, tuple[str, ...]] | None = None
        # a compiled run's outputs per node, until a snapshot commits them into ``state``
        self.record: tuple[Any, ...] | None = None
        self.parts = parts
        # the plan's compiled code, when this run may take it (then ``state`` is built only if
        # a snapshot or a failure needs it)
        self.compiled: Any = None
        # a compiled run recorded when it ends (its driver ``journals_at_end``) runs timed
        # (``_run_timed``); once done, how it ended without a state (``CompiledEnd``, its
        # values), if it could
        self.ended: tuple[CompiledEnd, dict[str, Any]] | None = None
        if checkpoint is None and fast and not parts.scoped and not parts.nested_answers:
            compiled = engine.compiled
            if (
                compiled is not None and compiled.run_record is not None
                and not (compiled.nests and driver.finish_siblings)
            ):
                self.compiled = compiled
                self.state: Any = None
                self.answered: set[str] | None = None
                return
        elif (
            checkpoint is None and driver.journals_at_end and info.emitter is None
            and not driver.caching and not parts.scoped and not parts.nested_answers
            and not parts.answers
        ):
            compiled = engine.compiled
            # nested graphs are child runs of their own here: not called by the compiled code
            if compiled is not None and compiled.run_timed is not None and not compiled.nests:
                self.compiled = compiled
                self.state = None
                self.answered = None
                return
        if checkpoint is None:
            self.state = engine.new_state(
                parts.provided, parts.answers, parts.scoped, parts.nested_answers
            )
            # HI9: answers given by re-running answer first visits; remember which were used
            self.answered = set() if parts.answers or parts.nested_answers else None
        else:
            self.state = _resumed(checkpoint, engine, graph, parts, self.rerun)
            self.answered = None

    def _ensure_state(self) -> Any:
        """The run's state; a compiled run builds its fresh one on first need."""
        state = self.state
        if state is None:
            parts = self.parts
            state = self.state = self.engine.new_state(
                parts.provided, parts.answers, parts.scoped, parts.nested_answers
            )
        return state

    # ------------------------------------------------------------------ the run
    def run_steps(self) -> Steps[RunResult]:
        """Yield the run's events and effects; return its ``RunResult``."""
        info = self.info
        engine = self.engine
        state = self.state
        emitter = info.emitter
        start = perf_counter()
        if emitter is not None:
            yield events.run_start(info)
        try:
            compiled = self.compiled
            if compiled is not None:
                if self.driver.journals_at_end:  # recorded when it ends: timed, then journaled
                    columns = self._run_timed(compiled)
                else:
                    # the state is rebuilt from the record only if a snapshot is asked for
                    columns, self.record = compiled.run_record(self.parts.provided, self._failed_at)
                values = compiled.output_values(columns)
                pause = None
            elif self.fast and engine.plan.inline_schedule and state.scheduled:
                self._run_inline()
                values = engine.output_values(state)
                pause = None
            else:
                pause = yield from self._supersteps()
                values = engine.output_values(state)
            if pause is None and info.on_missing != "ignore":
                check_selected_present(self.graph, values, info.on_missing)
        except GeneratorExit:
            raise
        except Exception as exc:
            if state is None:  # a compiled run: its state as the generic loop leaves it
                state = self._materialized()
            values = engine.output_values(state)
            if emitter is not None:
                yield events.run_end(info, RunStatus.FAILED, exc, elapsed_ms(start))
            if info.error_handling == "raise":
                raise
            return self._result(values, RunStatus.FAILED, error=exc)
        except BaseException as exc:  # cancelled, KeyboardInterrupt, SystemExit (R2-6)
            if emitter is not None:
                yield events.run_end(info, RunStatus.STOPPED, exc, elapsed_ms(start))
            raise
        status = RunStatus.COMPLETED if pause is None else RunStatus.PAUSED
        if emitter is not None:
            yield events.run_end(info, status, None, elapsed_ms(start))
        result = self._result(values, status, pause=pause)
        if self.reused is not None and pause is not None:
            raise _answer_reused(*self.reused, result)
        return result

    def snapshot(self) -> RunSnapshot:
        """The restorable state of this run as of the last finished superstep."""
        return snapshot(self.engine, self._materialized(), self.graph)

    def _materialized(self) -> Any:
        """The state, with a compiled run's recorded outputs committed into it first."""
        state = self._ensure_state()
        record = self.record
        if record is not None:
            self.record = None
            self._commit_recorded(record, 0, len(self.engine.schedule))  # type: ignore[arg-type]
        return state

    def _result(
        self,
        values: dict[str, Any],
        status: RunStatus,
        *,
        error: BaseException | None = None,
        pause: Any = None,
    ) -> RunResult:
        info = self.info
        if status is not RunStatus.COMPLETED:
            checkpoint: Any = self.snapshot()
        else:
            # a finished top-level run keeps its snapshot for a fork, computed only if asked for
            checkpoint = self.snapshot if self.keep_checkpoint else None
        return RunResult(
            values, status, info.run_id, graph_name=info.graph_name,
            workflow_id=info.workflow_id, session_id=info.session_id, span_id=info.span_id,
            error=error, pause=pause, checkpoint=checkpoint, rerun=self.rerun,
        )

    def _run_inline(self) -> None:
        """A precomputed schedule of plain sync nodes with nothing observing: just the calls."""
        inline = self._inline
        finish_siblings = self.driver.finish_siblings
        for batch in self.engine.schedule:  # type: ignore[union-attr]
            inline(batch, finish_siblings)

    def _failed_at(
        self, values: Any, batch: int, pos: int, exc: BaseException, recorded: tuple[Any, ...],
        at_collect: bool, key: Any = None, times: tuple[float, ...] | None = None,
    ) -> Any:
        """The compiled code's failure handler: the state as the generic loop leaves it (and,
        for ``run_timed``, the journal ``_inline_journaled`` leaves: ``key`` is that list)."""
        self._ensure_state()
        self._replay(recorded, 0, batch, pos, exc, at_collect, key, times)

    def _run_timed(self, compiled: Any) -> tuple[Any, ...]:
        """A recorded run written when it ends ("exit" durability), on its compiled code.

        The generated code times the calls; the journal then gets the entries
        ``_inline_journaled`` would have appended, so the recorder writes the same steps and
        checkpoint as for the generic loop. The first run with a set of input names commits
        its state to learn how such runs end (``CompiledEnd``); later ones take that, and
        build a state only if a snapshot is asked for.
        """
        journaling = self.driver.journal(self)
        assert journaling is not None  # ``journals_at_end`` drivers journal
        journal = journaling[0]
        provided = self.parts.provided
        columns, record, times = compiled.run_timed(provided, self._failed_at, journal)
        end = compiled.ends.get(tuple(provided))
        if end is None:
            self._ensure_state()
            self._commit_recorded(record, 0, len(compiled.batch_start), journal, times)
            from hypergraph.runtime._checkpoint_state import compiled_end  # checkpointing only

            compiled_end(self, compiled)
            return columns  # type: ignore[no-any-return]
        values = dict(provided)
        compiled.journal_into(journal, values, record, times, end.seen)
        self.record = record
        self.ended = (end, values)
        return columns  # type: ignore[no-any-return]

    def _commit_recorded(
        self,
        recorded: tuple[Any, ...],
        from_batch: int,
        to_batch: int,
        journal: list[Any] | None = None,
        times: tuple[float, ...] | None = None,
    ) -> None:
        """Commit supersteps ``from_batch``..``to_batch - 1`` from outputs compiled code
        computed (``recorded`` starts at ``from_batch``), exactly as the generic loop commits
        them, without calling anything. With a ``journal``, each call's entry goes into it as
        ``_inline_journaled`` appends it (``times``: each call's start and end)."""
        engine = self.engine
        state = self.state
        compiled = engine.compiled_code()
        schedule = engine.schedule
        assert compiled is not None and schedule is not None
        positions = compiled.positions
        starts = compiled.batch_start
        base = starts[from_batch]
        collect = engine.collect
        consumed = state.consumed
        for k in range(from_batch, to_batch):
            done = []
            for q in range(starts[k], starts[k] + len(schedule[k])):
                np = positions[q]
                collect(state, np)
                outcome = (np, named_outputs(np, recorded[q - base]), None)
                done.append(outcome)
                if journal is not None:
                    t = 2 * (q - base)
                    journal.append((k, np, outcome, times[t], times[t + 1], consumed[np.index]))  # type: ignore[index]
            engine.commit(state, done)

    def _replay(
        self,
        recorded: tuple[Any, ...],
        from_batch: int,
        batch_k: int,
        pos: int,
        exc: BaseException,
        at_collect: bool,
        journal: list[Any] | None = None,
        times: tuple[float, ...] | None = None,
    ) -> None:
        """Rebuild the generic loop's state after compiled code failed at position ``pos``.

        Supersteps ``from_batch``..``batch_k - 1`` are committed from ``recorded`` (outputs the
        compiled code computed, from the start of ``from_batch``), without calling anything;
        superstep ``batch_k`` is finished the way ``_inline`` finishes a failing superstep:
        siblings run on if the driver says so, done ones are committed, then the error raises.
        With a ``journal`` (``run_timed``), every call gets the entry ``_inline_journaled``
        appends for it; an interrupt (not an ``Exception``) raises at its node as it does
        there, after the calls before it were journaled and nothing of its superstep committed.
        """
        engine = self.engine
        state = self.state
        compiled = engine.compiled_code()
        schedule = engine.schedule
        assert compiled is not None and schedule is not None
        base = compiled.batch_start[from_batch]
        collect = engine.collect
        self._commit_recorded(recorded, from_batch, batch_k, journal, times)
        batch = schedule[batch_k]
        start = compiled.batch_start[batch_k]
        finish_siblings = self.driver.finish_siblings
        done = []
        failure: BaseException | None = None
        failed: list[NodePlan] = []
        before: dict[int, Any] = {}
        consumed = state.consumed
        for j, np in enumerate(batch):
            q = start + j
            if q == pos and at_collect:
                raise exc  # collecting its inputs failed: nothing of this superstep commits
            before[np.index] = consumed[np.index]
            kwargs = collect(state, np)
            t = 2 * (q - base)
            try:
                if q < pos:
                    outcome = (np, named_outputs(np, recorded[q - base]), None)
                    done.append(outcome)
                    if journal is not None:
                        journal.append((batch_k, np, outcome, times[t], times[t + 1], consumed[np.index]))  # type: ignore[index]
                    continue
                if q == pos:
                    raise exc
                began = perf_counter()
                outcome = (np, map_outputs(np, np.func(**kwargs)), None)
                done.append(outcome)
                if journal is not None:
                    journal.append((batch_k, np, outcome, began, perf_counter(), consumed[np.index]))
            except Exception as error:
                if journal is not None:
                    ended = (times[t], times[t + 1]) if q == pos else (began, perf_counter())  # type: ignore[index]
                    journal.append((batch_k, np, error, *ended, None))
                note_node_failure(error, np, kwargs, state.superstep, self.info)
                if failure is None:
                    failure = error
                failed.append(np)
                if not finish_siblings:
                    break
        self._fail_superstep(batch, done, failed, before, exc)

    def _fail_superstep(
        self,
        batch: Sequence[NodePlan],
        done: list[Any],
        failed: list[NodePlan],
        before: dict[int, Any],
        failure: BaseException,
    ) -> NoReturn:
        """Commit what finished, keep the rest's regions open, then raise (SPEC R9, CP5)."""
        finished = {np.index for np, _, _ in done}
        unfinished = [np for np in batch if np.index not in finished]
        self.engine.commit_partial(self.state, done, unfinished, before)
        self.state.failed = {np.index for np in failed}
        raise failure

    def _supersteps(self) -> Steps[Any]:
        """The superstep loop; returns the ``PauseInfo`` of a pause, else ``None``."""
        engine = self.engine
        state = self.state
        info = self.info
        emitter = info.emitter
        limit = info.max_iterations
        fast = self.fast
        ticks = self.driver.ticks
        finish_siblings = self.driver.finish_siblings
        persists = self.driver.persists
        gathers = self.driver.gathers
        # a recorded run nothing else observes: plain sync nodes are called here, timed, and
        # only leave a journal entry; the driver records each superstep from it (``flush``), or
        # the whole run when it ends ("exit" durability: no flush)
        recorded = persists and emitter is None and not self.driver.caching
        journaling = self.driver.journal(self) if recorded else None
        journal, flush = journaling if journaling is not None else (None, None)
        if journal is not None and engine.plan.inline_schedule and state.scheduled:
            # a precomputed schedule of plain sync nodes: no batch to pick, nothing to check
            inline = self._inline_journaled
            for batch in engine.schedule[state.superstep:]:  # type: ignore[index]
                if ticks:
                    yield _TICK
                if flush is None:
                    inline(batch, finish_siblings, journal)
                else:
                    yield from self._journaled_superstep(batch, finish_siblings, journal, flush)
            return None
        while True:
            batch = engine.next_batch(state, limit)
            if not batch:
                return None
            if ticks:
                yield _TICK
            if emitter is not None:
                yield events.superstep_start(info, state.superstep)
            if fast and _all_inline(batch):
                self._inline(batch, finish_siblings)
                continue
            if fast and (len(batch) == 1 or not finish_siblings) and _all_nestable(batch):
                yield from self._inline_nested(batch, finish_siblings)
                continue
            if fast and gathers and _all_leaves(batch):
                yield from self._gather_leaves(batch, finish_siblings)
                continue
            if journal is not None and _all_inline(batch):
                if flush is None:
                    self._inline_journaled(batch, finish_siblings, journal)
                else:
                    yield from self._journaled_superstep(batch, finish_siblings, journal, flush)
                continue
            consumed = state.consumed
            before = {np.index: consumed[np.index] for np in batch}
            tasks = [self._task(np) for np in batch]
            step = state.superstep
            results = yield ExecuteBatch(tasks, self.task_steps)
            pause, failure = self._commit(tasks, results, before)
            if persists:
                yield Committed(info.identity, step, tasks, results, self.snapshot, self)
            if failure is not None:
                raise failure
            if pause is not None:
                return pause

    def _inline_journaled(
        self, batch: Sequence[NodePlan], finish_siblings: bool, journal: list[Any]
    ) -> None:
        """``_inline`` for a recorded run: each call also appends ``(superstep, node, (node,
        outputs, decision) or the exception, start, end, versions consumed)`` to ``journal``,
        all its step record is built from."""
        engine = self.engine
        state = self.state
        collect = engine.collect
        consumed = state.consumed
        step = state.superstep
        append = journal.append
        done: list[Any] = []
        failure: BaseException | None = None
        failed: list[NodePlan] = []
        before: dict[int, Any] = {}
        for np in batch:
            prior = consumed[np.index]
            kwargs = collect(state, np)
            start = perf_counter()
            try:
                if np.gate_plan is None:
                    outcome = (np, map_outputs(np, np.func(**kwargs)), None)
                else:
                    outcome = (np, {}, resolve_decision(np, np.func(**kwargs)))
            except Exception as exc:
                append((step, np, exc, start, perf_counter(), None))
                note_node_failure(exc, np, kwargs, step, self.info)
                before[np.index] = prior
                if failure is None:
                    failure = exc
                failed.append(np)
                if not finish_siblings:
                    break
                continue
            append((step, np, outcome, start, perf_counter(), consumed[np.index]))
            done.append(outcome)
        if failure is None:
            engine.commit(state, done)
            return
        self._fail_superstep(batch, done, failed, before, failure)

    def _journaled_superstep(
        self, batch: Sequence[NodePlan], finish_siblings: bool, journal: list[Any], flush: Any
    ) -> Steps[None]:
        """``_inline_journaled``, then ``flush`` so the driver records the superstep: also when
        a node failed (what finished and the failure are committed). An interrupt (not an
        ``Exception``) commits nothing of the superstep, so nothing of it is recorded."""
        try:
            self._inline_journaled(batch, finish_siblings, journal)
        except Exception:
            yield flush
            raise
        except BaseException:
            journal.clear()
            raise
        yield flush

    def _gather_leaves(self, batch: Sequence[NodePlan], finish_siblings: bool) -> Steps[None]:
        """Plain async functions (gathered by the driver) and plain sync nodes, nothing
        observing: no task objects, just the calls (SPEC AC1: async first, then sync)."""
        engine = self.engine
        state = self.state
        collect = engine.collect
        consumed = state.consumed
        prior = [consumed[np.index] for np in batch]
        kwargs = [collect(state, np) for np in batch]  # X5: every input as of the superstep
        leaves = [i for i, np in enumerate(batch) if not np.inline]
        raws = yield GatherLeaves(tuple((batch[i].func, kwargs[i]) for i in leaves))
        answered = dict(zip(leaves, raws, strict=True))
        done: list[Any] = []
        failure: BaseException | None = None
        failed: list[NodePlan] = []
        before: dict[int, Any] = {}
        for i, np in enumerate(batch):
            try:
                if i in answered:
                    raw = answered[i]
                    if isinstance(raw, BaseException):
                        raise raw
                    done.append((np, map_outputs(np, raw), None))
                elif np.gate_plan is None:
                    done.append((np, map_outputs(np, np.func(**kwargs[i])), None))
                else:
                    done.append((np, {}, resolve_decision(np, np.func(**kwargs[i]))))
            except BaseException as exc:
                if isinstance(exc, Exception):
                    note_node_failure(exc, np, kwargs[i], state.superstep, self.info)
                before[np.index] = prior[i]
                if failure is None:
                    failure = exc
                failed.append(np)
                if not finish_siblings:
                    break
        if failure is None:
            engine.commit(state, done)
            return
        finished = {np.index for np, _, _ in done}
        for i, np in enumerate(batch):  # every node collected, so every unfinished one forgets
            if np.index not in finished:
                before.setdefault(np.index, prior[i])
        self._fail_superstep(batch, done, failed, before, failure)

    def _inline(self, batch: Sequence[NodePlan], finish_siblings: bool) -> None:
        """Call plain sync nodes and gates directly (nothing observes them)."""
        engine = self.engine
        state = self.state
        collect = engine.collect
        consumed = state.consumed
        if len(batch) == 1:  # most supersteps of a loop: no lists to build
            np = batch[0]
            prior = consumed[np.index]
            kwargs = collect(state, np)
            try:
                if np.gate_plan is None:
                    outcome = (np, map_outputs(np, np.func(**kwargs)), None)
                else:
                    outcome = (np, {}, resolve_decision(np, np.func(**kwargs)))
            except Exception as exc:
                note_node_failure(exc, np, kwargs, state.superstep, self.info)
                engine.commit_partial(state, [], [np], {np.index: prior})
                state.failed = {np.index}
                raise
            engine.commit(state, [outcome])
            return
        done: list[Any] = []
        failure: BaseException | None = None
        failed: list[NodePlan] = []
        before: dict[int, Any] = {}
        for np in batch:
            prior = consumed[np.index]
            kwargs = collect(state, np)
            try:
                if np.gate_plan is None:
                    done.append((np, map_outputs(np, np.func(**kwargs)), None))
                else:
                    done.append((np, {}, resolve_decision(np, np.func(**kwargs))))
            except Exception as exc:
                note_node_failure(exc, np, kwargs, state.superstep, self.info)
                before[np.index] = prior  # only what failed forgets what it consumed
                if failure is None:
                    failure = exc
                failed.append(np)
                if not finish_siblings:
                    break
        if failure is None:
            engine.commit(state, done)
            return
        self._fail_superstep(batch, done, failed, before, failure)

    def _inline_nested(self, batch: Sequence[NodePlan], finish_siblings: bool) -> Steps[None]:
        """Like ``_inline``, with nested graphs on this runner run by ``yield from``."""
        engine = self.engine
        state = self.state
        collect = engine.collect
        done: list[Any] = []
        failure: BaseException | None = None
        failed: list[NodePlan] = []
        before: dict[int, Any] = {}
        consumed = state.consumed
        for np in batch:
            before[np.index] = consumed[np.index]
            kwargs = collect(state, np)
            try:
                if np.kind is GRAPH:
                    gn = np.node
                    values = child_values(gn, kwargs, state)
                    result = yield from child_steps(gn, values, self.info, self.info.span_id, self.driver)
                    done.append((np, _child_outputs(gn, result), None))
                elif np.gate_plan is None:
                    done.append((np, map_outputs(np, np.func(**kwargs)), None))
                else:
                    done.append((np, {}, resolve_decision(np, np.func(**kwargs))))
            except Exception as exc:
                note_node_failure(exc, np, kwargs, state.superstep, self.info)
                if failure is None:
                    failure = exc
                failed.append(np)
                if not finish_siblings:
                    break
        if failure is None:
            engine.commit(state, done)
            return
        self._fail_superstep(batch, done, failed, before, failure)

    def _task(self, np: NodePlan) -> NodeTask:
        state = self.state
        kwargs = self.engine.collect(state, np)
        return NodeTask(
            np, kwargs, self.info.identity, state.superstep, state.exec_count[np.index] + 1
        )

    def _commit(
        self, tasks: list[NodeTask], results: list[Any], before: dict[int, Any]
    ) -> Any:
        """Apply a superstep's results in node order; (pause, first failure in node order, R9)."""
        state = self.state
        done: list[Any] = []
        unfinished: list[NodePlan] = []
        failed: set[int] = set()
        failure: BaseException | None = None
        pause = None
        answered = len(results)
        for i, task in enumerate(tasks):
            np = task.plan
            if i >= answered:
                unfinished.append(np)  # never started: the driver stopped at a failure
                continue
            result = results[i]
            if isinstance(result, BaseException):
                if failure is None:
                    failure = result
                unfinished.append(np)
                failed.add(np.index)
            elif result.pause is not None:
                pause = result.pause
                state.paused = np.name
                if result.child is not None:
                    state.children[np.name] = result.child
                unfinished.append(np)
            else:
                done.append((np, result.outputs, result.decision))
        try:
            if unfinished:
                self.engine.commit_partial(state, done, unfinished, before)
                state.failed = failed
            else:
                self.engine.commit(state, done)
        except Exception as exc:  # a ConflictError (X24) fails the superstep like a node
            return None, failure if failure is not None else exc
        return pause, failure

    # ------------------------------------------------------------------ one node
    def task_steps(self, task: NodeTask) -> Steps[TaskOutcome]:
        """One node execution: events, cache lookup and store, the call, its outcome."""
        info = self.info
        emitter = info.emitter
        np = task.plan
        span = None
        if emitter is not None:
            span = new_span_id()
            yield events.node_start(info, np, span, task.superstep)
        lookup = None
        if self.driver.caching and is_cacheable(np.node):
            lookup = yield CacheGet(np.node, task.kwargs)
            if lookup is not None and emitter is not None:
                yield events.cache_lookup(info, np, span, lookup)  # type: ignore[arg-type]
        start = perf_counter()
        try:
            if lookup is not None and lookup.hit:
                decision = resolve_decision(np, lookup.decision) if np.gate_plan is not None else None
                outcome = TaskOutcome(task, dict(lookup.outputs or {}), decision, cached=True)
            else:
                outcome, raw = yield from self._call(task, span)
                if lookup is not None and outcome.pause is None:
                    yield CacheSet(lookup, outcome.outputs, raw)
        except GeneratorExit:
            raise
        except Exception as exc:
            note_node_failure(exc, np, task.kwargs, task.superstep, info)
            if emitter is not None:
                yield events.node_error(info, np, span, task.superstep, exc)  # type: ignore[arg-type]
            raise
        if emitter is not None:
            if outcome.pause is not None:
                if np.kind is INTERRUPT:
                    yield events.interrupted(info, np, span, outcome.pause)  # type: ignore[arg-type]
                return outcome
            if np.gate_plan is not None:
                yield events.route_decision(info, np, span, decision_label(np, outcome.decision))  # type: ignore[arg-type]
            duration = 0.0 if outcome.cached else elapsed_ms(start)
            yield events.node_end(info, np, span, task.superstep, duration, outcome.cached)  # type: ignore[arg-type]
        return outcome

    def _call(self, task: NodeTask, span: str | None) -> Steps[tuple[TaskOutcome, Any]]:
        """The node's own work by kind; returns (outcome, raw gate decision for the cache)."""
        np = task.plan
        kind = np.kind
        info = self.info
        listening = info.emitter is not None and span is not None
        invoke = Invoke(task, None, self._retry_event(np, span) if listening else None)
        if kind is FUNCTION:
            raw = yield invoke
            return TaskOutcome(task, map_outputs(np, raw)), None
        if kind is ROUTE or kind is IFELSE:
            raw = yield invoke
            return TaskOutcome(task, {}, resolve_decision(np, raw)), raw
        if kind is GENERATOR:
            chunk_event = None
            if listening:

                def chunk_event(chunk: Any, index: int) -> Any:
                    return events.chunk(info, np, span, chunk, index)  # type: ignore[arg-type]

            value = yield attrs.evolve(invoke, chunk_event=chunk_event)
            return TaskOutcome(task, map_outputs(np, value)), None
        if kind is GRAPH:
            return (yield from self._graph_node(task, span)), None
        # INTERRUPT (HI2): answer from the resume values, else ask the handler; None pauses
        answers = self.state.answers
        outputs = np.outputs
        if all(name in answers for name in outputs):
            if self.answered is not None:
                self.answered.add(np.name)
            return TaskOutcome(task, {name: answers.pop(name) for name in outputs}), None
        raw = yield invoke
        if raw is None:
            if self.answered is not None and np.name in self.answered:
                self.reused = (np.name, outputs)
            return TaskOutcome(task, pause=pause_info(np, task.kwargs)), None
        return TaskOutcome(task, interrupt_outputs(np, raw)), None

    def _retry_event(self, np: NodePlan, span: Any) -> Any:
        if not np.has_policy:
            return None
        info = self.info

        def retry_event(attempt: int, error: BaseException, delay: float) -> Any:
            return events.node_retry(info, np, span, attempt, error, delay)

        return retry_event

    def _graph_node(self, task: NodeTask, span: str | None) -> Steps[TaskOutcome]:
        """R11, R12, R14: the inner graph as a child run; its pause carries its snapshot."""
        gn: GraphNode = task.plan.node
        state = self.state
        answered = self.answered is not None and gn.name in state.nested_answers
        values = child_values(gn, task.kwargs, state)
        resumed = state.children.pop(gn.name, None)
        info = self.info
        parent_span = span if span is not None else info.span_id
        driver = self.driver

        def steps(
            snapshot: RunSnapshot | None = None, rerun: dict[str, str] | None = None
        ) -> Steps[Any]:
            start = snapshot if snapshot is not None else resumed
            return child_steps(gn, values, info, parent_span, driver, start, rerun)

        def call(runner: Any) -> Any:
            return child_call(runner, gn, values, info, parent_span, resumed)

        result = yield RunChild(task, gn.runner, steps, call, values)
        if answered:
            self.answered.add(gn.name)  # type: ignore[union-attr]
        if gn.map_config is None and result.rerun:
            # ★ inside a nested graph: report its re-run nodes as <node>/<inner node>
            inner = {f"{gn.name}/{name}": why for name, why in result.rerun.items()}
            self.rerun = {**self.rerun, **inner}
        if gn.map_config is None and result.status is RunStatus.PAUSED and result.pause is not None:
            if self.answered is not None and gn.name in self.answered and not answered:
                self.reused = (f"{gn.name}/{result.pause.node_name}", (result.pause.response_key,))
            pause = attrs.evolve(result.pause, node_name=f"{gn.name}/{result.pause.node_name}")
            return TaskOutcome(task, pause=pause, child=result.checkpoint)
        return TaskOutcome(task, _child_outputs(gn, result))


class MapLoop:
    """One map: its items as child loops, run by the driver's item executor (MP5-MP9)."""

    __slots__ = (
        "driver", "graph", "info", "items", "light", "map_mode", "names", "restored", "resumed",
        "validated",
    )

    def __init__(
        self,
        graph: Graph,
        items: list[dict[str, Any]],
        names: tuple[str, ...],
        map_mode: str,
        info: RunInfo,
        driver: DriverTraits,
        *,
        restored: dict[int, RunResult] | None = None,
        resumed: dict[int, RunSnapshot] | None = None,
    ) -> None:
        self.graph = graph
        self.items = items
        self.names = names
        self.map_mode = map_mode
        self.info = info
        self.driver = driver
        self.light: _LightItems | None = None
        self.validated = False
        # CP8: items a checkpointer returns without running, and items it continues
        self.restored = restored
        self.resumed = resumed

    def _light_items(self, count: int) -> _LightItems | None:
        """The compiled path for every item, when nothing observes the map, the plan compiles
        and the first item validates (items of one map share their key set, so the checks of
        ``prepare_values`` hold for all of them)."""
        info = self.info
        if not self._validate_once():
            return None
        driver = self.driver
        if info.emitter is not None:
            return None
        # an observed map takes the compiled path only if its driver records such items itself
        # ("exit" runs, ``TimedItems``): nothing cached, restored or continued
        timed = driver.observed
        if timed and (
            driver.caching or self.restored or self.resumed
            or not driver.records_items(info.identity)
        ):
            return None
        graph = self.graph
        compiled = engine_for(graph).compiled
        if compiled is None or (graph.selected and info.on_missing != "ignore"):
            return None
        if compiled.nests and driver.finish_siblings:
            return None
        if timed:
            if compiled.run_timed is None or compiled.nests:
                return None
            from hypergraph.runtime._timed_items import TimedItems  # checkpointing only

            return TimedItems(self, compiled, count)
        return _LightItems(self, compiled, count)

    def _merge(self, light: _LightItems, answered: list[Any]) -> None:
        """Items a driver ran through ``steps`` (full RunResults) join the columns' store."""
        explicit = light.store.explicit
        for index, result in enumerate(answered):
            if result is not None and result is not _DONE:
                explicit[index] = result

    def _validate_once(self) -> bool:
        """Check the first item as ``prepare_values`` would; True when that holds for every
        item (their keys are the same, all inputs), so items skip the per-item checks."""
        graph = self.graph
        first = self.items[0]
        inputs, _, bound_scoped = value_roles(graph)
        self.validated = False
        if bound_scoped or not inputs.issuperset(first):
            return False
        try:
            prepare_values(graph, first)
        except Exception:
            return False  # every item reports its own validation error on the generic path
        self.validated = True
        return True

    def steps(self) -> Steps[MapResult]:
        """Yield the map's events and its ``ExecuteItems`` effect; return the ``MapResult``."""
        graph = self.graph
        info = self.info
        count = len(self.items)
        if not count:
            return MapResult((), None, 0.0, self.names, self.map_mode, graph.name)
        emitter = info.emitter
        start = perf_counter()
        if emitter is not None:
            yield events.run_start(info, map_size=count)
        raise_mode = info.error_handling == "raise"
        light = self._light_items(count)
        if light is not None:
            if light.run_values is not None:
                self.light = light
                if light.timed:
                    effect = ExecuteItems(
                        count, self.item_steps, raise_mode, light.item, identity=info.identity,
                        timed=light,
                    )
                else:
                    effect = ExecuteItems(count, self.item_steps, raise_mode, light.item)
            else:  # async functions: drivers that know ``direct_async`` await it per item
                effect = ExecuteItems(
                    count, self.item_steps, raise_mode, direct_async=light.item_async
                )
            answered = yield effect
            self._merge(light, answered)
            if raise_mode:
                first = next((r for r in answered if r is not None and r.status is RunStatus.FAILED), None)
                if first is not None and first.error is not None:
                    raise first.error
            return MapResult(light.store, info.run_id, elapsed_ms(start), self.names, self.map_mode, graph.name)
        restored = self.restored
        try:
            if restored is not None and len(restored) == count:
                # CP8: a re-run of a completed map: every item is its recorded result
                answered = [restored[i] for i in range(count)]
            else:
                answered = yield ExecuteItems(
                    count, self.item_steps, raise_mode, identity=info.identity
                )
            results = [r for r in answered if r is not None]
            if raise_mode:
                first = next((r for r in results if r.status is RunStatus.FAILED), None)
                if first is not None and first.error is not None:
                    raise first.error
        except GeneratorExit:
            raise
        except BaseException as exc:
            if emitter is not None:
                status = RunStatus.FAILED if isinstance(exc, Exception) else RunStatus.STOPPED
                yield events.run_end(info, status, exc, elapsed_ms(start), is_map=True)
            raise
        if emitter is not None:
            status = aggregate_status(results)
            yield events.run_end(info, status, None, elapsed_ms(start), is_map=True)
        return MapResult(tuple(results), info.run_id, elapsed_ms(start), self.names, self.map_mode, graph.name)

    def item_steps(self, index: int) -> Steps[RunResult]:
        """Item ``index`` as a full run; a failure becomes its FAILED result (MP8)."""
        light = self.light
        if light is not None:
            return light.item(index)  # type: ignore[no-any-return]
        if self.restored is not None and index in self.restored:
            return self.restored[index]
        item_info = self.info.item(index)
        item_info.error_handling = "continue"
        try:
            if self.validated:
                parts = PartitionedValues()
                parts.provided = dict(self.items[index])
            else:
                parts = prepare_values(self.graph, self.items[index])
        except Exception as exc:
            if item_info.emitter is not None:  # EV8: every item has its RunStart/RunEnd
                yield from events.not_started(item_info, exc)
            return RunResult(
                {}, RunStatus.FAILED, item_info.run_id, graph_name=item_info.graph_name,
                workflow_id=item_info.workflow_id, session_id=item_info.session_id,
                span_id=item_info.span_id, error=exc,
            )
        resumed = self.resumed.get(index) if self.resumed is not None else None
        loop = RunLoop(self.graph, parts, item_info, self.driver, checkpoint=resumed)
        return (yield from loop.run_steps())


class _Done:
    """What a compiled item answers the driver: its status (its outputs are in the columns)."""

    __slots__ = ()
    status = RunStatus.COMPLETED


_DONE = _Done()


class _LightItems:
    """A map's items on the compiled path: no state, run info or result object per item."""

    __slots__ = ("loop", "run_async", "run_values", "store")
    timed = False  # ``TimedItems``: recorded by the driver from what each item did

    def __init__(self, loop: MapLoop, compiled: Any, count: int) -> None:
        info = loop.info
        self.loop = loop
        self.run_values = compiled.run_values
        self.run_async = compiled.run_async
        run_bits, span_bits = id_bits()
        self.store = ItemColumns(
            compiled.columns, [[MISSING] * count for _ in compiled.columns], count,
            run_bits=run_bits, span_bits=span_bits, graph_name=info.graph_name,
            workflow_id=info.workflow_id, session_id=info.session_id,
        )

    def item(self, index: int) -> Any:
        """Run item ``index``; its outputs go into the columns, a failure into ``explicit``."""
        out = self.run_values(self.loop.items[index], self.fail, index)
        if type(out) is tuple:
            for column, value in zip(self.store.columns, out):  # noqa: B905
                column[index] = value
            return _DONE
        return out

    async def item_async(self, index: int, semaphore: Any) -> Any:
        """Like ``item``, awaiting the async functions (each under ``semaphore``, if any)."""
        out = await self.run_async(self.loop.items[index], self.fail, index, semaphore)  # type: ignore[misc]
        if type(out) is tuple:
            for column, value in zip(self.store.columns, out):  # noqa: B905
                column[index] = value
            return _DONE
        return out

    def item_loop(self, index: int, values: dict[str, Any]) -> RunLoop:
        """Item ``index`` as a run loop of its own (its ids the columns give it), for an item
        whose state must be rebuilt."""
        loop = self.loop
        item_info = loop.info.item(index)
        item_info.error_handling = "continue"
        item_info.run_id, item_info.span_id = self.store.ids(index)
        parts = PartitionedValues()
        parts.provided = dict(values)
        return RunLoop(loop.graph, parts, item_info, loop.driver)

    def fail(
        self, values: dict[str, Any], batch: int, pos: int, exc: Exception,
        recorded: tuple[Any, ...], at_collect: bool, index: int,
    ) -> RunResult:
        """The failed item's ``RunResult``, its state rebuilt as the generic loop leaves it."""
        run = self.item_loop(index, values)
        try:
            run._failed_at(values, batch, pos, exc, recorded, at_collect)
        except Exception as error:
            result = run._result(run.engine.output_values(run.state), RunStatus.FAILED, error=error)
        self.store.explicit[index] = result
        return result


# ---------------------------------------------------------------------------- nesting
def child_steps(
    gn: GraphNode,
    values: dict[str, Any],
    info: RunInfo,
    parent_span: str,
    driver: DriverTraits,
    resumed: RunSnapshot | None = None,
    rerun: dict[str, str] | None = None,
) -> Steps[Any]:
    """The loop of ``gn``'s inner run (or inner map) on the parent's own driver; ``rerun``:
    inner nodes a resumed inner run executes again (★, their code changed)."""
    graph = gn.graph
    if gn.map_config is None:
        parts = prepare_values(graph, values)
        child = info.child(graph.name, parent_span, segment=gn.name)
        loop = RunLoop(graph, parts, child, driver, checkpoint=resumed, rerun=rerun)
        return (yield from loop.run_steps())
    names, mode, error_handling, items = nested_map_items(gn, values)
    driver.check_fan_out(len(items), f"Nested map {gn.name!r}")
    map_info = info.child(graph.name, parent_span, error_handling, segment=gn.name)
    return (yield from MapLoop(graph, items, names, mode, map_info, driver).steps())


def child_call(
    runner: Any,
    gn: GraphNode,
    values: dict[str, Any],
    info: RunInfo,
    parent_span: str,
    resumed: RunSnapshot | None = None,
) -> Any:
    """The public ``run()``/``map()`` call of ``gn`` on a runner of another kind (R12, R14).

    Returns a zero-argument callable giving the result (a coroutine for async runners), for
    ``call_from_sync``/``call_from_async``. The caller's processors are forwarded without their
    shutdown (EV5, EV9); a paused child resumes from its snapshot.
    """
    common: dict[str, Any] = {
        "event_processors": nested_processors(info.emitter), "parent_span_id": parent_span,
        "workflow_id": info.workflow_id, "session_id": info.session_id,
    }
    if gn.map_config is None:
        if resumed is not None:
            common["checkpoint"] = resumed
        return lambda: runner.run(gn.graph, values, **common)
    params, mode, error_handling = gn.map_config
    return lambda: runner.map(
        gn.graph, values, map_over=[gn.inner_input(p) for p in params], map_mode=mode,
        clone=gn.map_clone, error_handling=error_handling, **common,
    )


# ---------------------------------------------------------------------------- helpers
def _answer_reused(where: str, keys: Sequence[str], result: RunResult) -> Exception:
    from hypergraph.exceptions import InterruptAnswerError

    listed = ", ".join(map(repr, keys))
    return InterruptAnswerError(
        f"Interrupt {where!r} paused again after the answer given for {listed} was used at its "
        "earlier visit. Re-running with {key: answer} answers only the first visit of an "
        "interrupt, so a later turn's answer would be used too early. Continue from the pause "
        "instead: runner.run(graph, {key: answer}, checkpoint=error.checkpoint) (or "
        "checkpoint=result.checkpoint of the paused result each turn), or give the runner a "
        "checkpointer and pass the same workflow_id on every turn.",
        result,
    )


def _resumed(
    checkpoint: RunSnapshot,
    engine: Any,
    graph: Graph,
    parts: PartitionedValues,
    rerun: dict[str, str] | None = None,
) -> Any:
    """A restored state; values given now override restored ones, answers are added (R2-4)."""
    inputs = checkpoint.inputs
    changed = [
        name for name, value in parts.provided.items()
        if name not in inputs or _changed(inputs[name], value)
    ]
    state = restore(checkpoint, engine, graph, changed, rerun or ())
    for name, value in parts.provided.items():
        state.provided[name] = value
        if name in state.values and state.writers.get(name) == -1:
            if not _changed(state.values[name], value):
                continue
            state.values[name] = value
            state.versions[name] = state.versions.get(name, 0) + 1
        elif name not in state.values:
            state.values[name] = value
            state.versions[name] = 1
            state.writers[name] = -1
    state.answers.update(parts.answers)
    for key, scoped in parts.scoped.items():
        state.scoped.setdefault(key, {}).update(scoped)
    for key, nested in parts.nested_answers.items():
        state.nested_answers.setdefault(key, {}).update(nested)
    return state


def _child_outputs(gn: GraphNode, result: Any) -> dict[str, Any]:
    """Outer outputs of a finished child run or map; a failed child raises its error (R11)."""
    if gn.map_config is not None:
        return mapped_outputs(gn, result)
    if result.status is RunStatus.FAILED and result.error is not None:
        raise result.error
    inner = result.values
    return {port: inner[name] for port, name in gn._output_of.items() if name in inner}


def _all_nestable(batch: list[NodePlan]) -> bool:
    """Plain nodes and nested graphs on the same runner that cannot pause."""
    for np in batch:
        if not (np.inline or (np.kind is GRAPH and np.node.runner is None and not np.pauses)):
            return False
    return True


def _all_leaves(batch: list[NodePlan]) -> bool:
    """Plain sync nodes and plain async functions (no policy, not a generator)."""
    for np in batch:
        if not (np.inline or (np.kind is FUNCTION and np.is_async and not np.has_policy)):
            return False
    return True


def _all_inline(batch: list[NodePlan]) -> bool:
    # a plain loop: this runs every superstep, and all() with a generator costs more
    for np in batch:  # noqa: SIM110
        if not np.inline:
            return False
    return True
