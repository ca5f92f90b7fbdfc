"""AsyncRunner: the kernel's engine driven with asyncio.

Within a superstep, async work (async functions and generators, nested graphs, async interrupt
handlers) runs concurrently; sync nodes and gates run inline on the loop thread afterwards, one
at a time (SPEC AC1). Results are committed in node order, so values are deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, ClassVar

import hypergraph.runners.support as support
from hypergraph.cache import CacheBackend, CacheLookup, InMemoryCache, NodeCache
from hypergraph.engine import engine_for
from hypergraph.engine.execution import join_chunks, map_outputs, resolve_decision
from hypergraph.events._emitter import new_span_id
from hypergraph.nodes.interrupt import InterruptNode
from hypergraph.plan import FUNCTION, GENERATOR, GRAPH, IFELSE, INTERRUPT, ROUTE
from hypergraph.results import (
    ErrorHandling,
    MapMode,
    MapResult,
    OnMissing,
    PauseInfo,
    RunResult,
    RunStatus,
)
from hypergraph.runners import run_events as events
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities
from hypergraph.runners.nesting import call_from_async
from hypergraph_async.limiter import Limiter, active_limiter, use_limiter
from hypergraph_async.plugin import ASYNC_CAPABILITIES
from hypergraph_async.stream import RunIterator

if TYPE_CHECKING:
    from hypergraph.engine import Engine, NodeOutcome, RunState
    from hypergraph.events import EventProcessor
    from hypergraph.graph import Graph
    from hypergraph.nodes.graph_node import GraphNode
    from hypergraph.plan import NodePlan

__all__ = ["AsyncRunner"]

FAN_OUT_GUARD = 10_000
"""Largest map() batch started without a concurrency limit (SPEC MP12)."""

RUN_OPTIONS = (*support.RUN_OPTIONS, "max_concurrency")
MAP_OPTIONS = (*support.MAP_OPTIONS, "max_concurrency")


class AsyncRunner(BaseRunner):
    """Runs sync and async nodes; independent async nodes of a superstep run concurrently.

    ``max_concurrency`` caps leaf executions in flight across the whole run: every nested graph,
    map item and nested map shares the one budget.
    """

    supported_node_types: ClassVar[frozenset[type]] = BaseRunner.supported_node_types | {
        InterruptNode
    }

    def __init__(self, cache: CacheBackend | None = None, checkpointer: object = None) -> None:
        support.reject_checkpointer(checkpointer)
        self.cache = cache
        self._node_cache = NodeCache(cache) if cache is not None else None
        # backends other than the in-memory one may do I/O: keep it off the event loop
        self._cache_blocks = cache is not None and not isinstance(cache, InMemoryCache)
        self.checkpointer = checkpointer

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Async nodes, interrupts and streaming yes; ``run()`` returns a coroutine."""
        return ASYNC_CAPABILITIES

    def __repr__(self) -> str:
        return "AsyncRunner()" if self.cache is None else f"AsyncRunner(cache={self.cache!r})"

    # ------------------------------------------------------------------ public API
    async def run(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        select: Any = support.UNSET,
        on_missing: OnMissing = "ignore",
        on_internal_override: Any = None,
        entrypoint: str | None = None,
        max_iterations: float | None = None,
        max_concurrency: int | None = None,
        error_handling: ErrorHandling = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        checkpoint: Any = None,
        workflow_id: str | None = None,
        override_workflow: bool = False,
        fork_from: str | None = None,
        retry_from: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> RunResult:
        """Execute ``graph`` once; same options as ``SyncRunner.run`` plus ``max_concurrency``."""
        _check_max_concurrency(max_concurrency)
        parts, info = support.prepare_run(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, max_iterations=max_iterations,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id, fork_from=fork_from,
            retry_from=retry_from, checkpoint=checkpoint,
        )
        try:
            async with use_limiter(max_concurrency):
                return await self._execute(graph, parts, info)
        finally:
            if info.emitter is not None:
                await info.emitter.shutdown_async()

    arun = run

    async def map(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: MapMode = "zip",
        clone: bool | Sequence[str] = False,
        select: Any = support.UNSET,
        on_missing: OnMissing = "ignore",
        on_internal_override: Any = None,
        entrypoint: str | None = None,
        max_concurrency: int | None = None,
        error_handling: ErrorHandling = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        workflow_id: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> MapResult:
        """Execute ``graph`` once per item, items concurrently (at most ``max_concurrency``)."""
        _check_max_concurrency(max_concurrency)
        items, names, info = support.prepare_map(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            map_over=map_over, map_mode=map_mode, clone=clone, select=select,
            entrypoint=entrypoint, on_missing=on_missing, error_handling=error_handling,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id,
        )
        if max_concurrency is None:
            _check_fan_out(len(items), "map()")
        try:
            async with use_limiter(max_concurrency) as limiter:
                return await self._map(graph, items, names, map_mode, info, limiter)
        finally:
            if info.emitter is not None:
                await info.emitter.shutdown_async()

    amap = map

    def iter(self, graph: Graph, values: dict[str, Any] | None = None, **options: Any) -> RunIterator:
        """Stream the run's events: ``async for event in runner.iter(graph, values): ...``.

        Takes the same options as :meth:`run`. After the last event (the run's
        ``RunEndEvent``) the iterator's ``result`` holds the ``RunResult``.
        """
        user = list(options.pop("event_processors", None) or ())

        def start(extra: list[EventProcessor]) -> Any:
            return self.run(graph, values, event_processors=[*user, *extra], **options)

        return RunIterator(start)

    # ------------------------------------------------------------------ map
    async def _map(
        self,
        graph: Graph,
        items: list[dict[str, Any]],
        names: tuple[str, ...],
        map_mode: str,
        info: support.RunInfo,
        limiter: Limiter | None,
    ) -> MapResult:
        """Items concurrently: all at once, or a window of ``limiter.limit`` workers (AC5, MP8)."""
        if not items:
            return MapResult((), None, 0.0, names, map_mode, graph.name)
        start = perf_counter()
        emitter = info.emitter
        if emitter is not None:
            await emitter.send_async(events.run_start(info, map_size=len(items)))
        results: list[RunResult | None] = [None] * len(items)
        raise_mode = info.error_handling == "raise"
        stop = False

        async def run_item(index: int) -> None:
            nonlocal stop
            item_info = info.item(index)
            item_info.error_handling = "continue"  # collect every failure; re-raised below
            try:
                parts = support.prepare_values(graph, items[index])
            except Exception as exc:
                if emitter is not None:  # EV8: every item has its RunStart/RunEnd
                    for event in events.not_started(item_info, exc):
                        await emitter.send_async(event)
                result = support.failed_before_start(item_info, exc)
            else:
                result = await self._execute(graph, parts, item_info)
            results[index] = result
            if raise_mode and result.status is RunStatus.FAILED:
                stop = True

        failure: BaseException | None = None
        try:
            if limiter is None:
                await asyncio.gather(*(run_item(i) for i in range(len(items))))
            else:
                cursor = iter(range(len(items)))

                async def worker() -> None:
                    for index in cursor:
                        if stop:  # with a limit, stop starting items after a failure
                            return
                        await run_item(index)

                await asyncio.gather(*(worker() for _ in range(min(limiter.limit, len(items)))))
            done = [r for r in results if r is not None]
            if raise_mode:
                first = next((r for r in done if r.status is RunStatus.FAILED), None)
                if first is not None and first.error is not None:
                    raise first.error
        except BaseException as exc:
            failure = exc
            raise
        finally:
            if emitter is not None:
                finished = [r for r in results if r is not None]
                status = RunStatus.FAILED if failure is not None else support.aggregate_status(finished)
                await emitter.send_async(
                    events.run_end(info, status, failure, support.elapsed_ms(start), is_map=True)
                )
        return MapResult(tuple(done), info.run_id, support.elapsed_ms(start), names, map_mode, graph.name)

    # ------------------------------------------------------------------ one run
    async def _execute(
        self, graph: Graph, parts: support.PartitionedValues, info: support.RunInfo
    ) -> RunResult:
        engine = engine_for(graph)
        state = engine.new_state(
            parts.provided, parts.answers, parts.scoped, parts.nested_answers
        )
        emitter = info.emitter
        start = perf_counter()
        if emitter is not None:
            await emitter.send_async(events.run_start(info))
        status = RunStatus.COMPLETED
        pause: PauseInfo | None = None
        try:
            await self._drive(engine, state, info)
            values = engine.output_values(state)
            if info.on_missing != "ignore":
                support.check_selected_present(graph, values, info.on_missing)
        except support.PauseSignal as signal:
            status, pause = RunStatus.PAUSED, signal.pause
            values = engine.output_values(state)
        except asyncio.CancelledError as exc:
            # a cancelled run (e.g. iter() left early) still closes its span for processors
            if emitter is not None:
                await emitter.send_async(
                    events.run_end(info, RunStatus.FAILED, exc, support.elapsed_ms(start))
                )
            raise
        except Exception as exc:
            values = engine.output_values(state)
            if emitter is not None:
                await emitter.send_async(
                    events.run_end(info, RunStatus.FAILED, exc, support.elapsed_ms(start))
                )
            if info.error_handling == "raise":
                raise
            return support.run_result(info, values, RunStatus.FAILED, error=exc)
        if emitter is not None:
            await emitter.send_async(events.run_end(info, status, None, support.elapsed_ms(start)))
        return support.run_result(info, values, status, pause=pause)

    async def _drive(self, engine: Engine, state: RunState, info: support.RunInfo) -> None:
        """The superstep loop: async work concurrently, then sync work inline; commit in order."""
        limit = info.max_iterations
        emitter = info.emitter
        while True:
            batch = engine.next_batch(state, limit)
            if not batch:
                return
            if emitter is not None:
                await emitter.send_async(events.superstep_start(info, state.superstep))
            if len(batch) == 1:
                np = batch[0]
                kw = engine.collect(state, np)
                try:
                    outcome = await self._execute_node(np, kw, state, info)
                except Exception as exc:
                    support.note_node_failure(exc, np, kw, state.superstep, info)
                    raise
                engine.commit(state, [outcome])
                continue
            kwargs = [engine.collect(state, np) for np in batch]
            slots: list[Any] = [None] * len(batch)
            concurrent = [i for i, np in enumerate(batch) if _is_async_work(np)]
            if concurrent:
                done = await asyncio.gather(
                    *(self._execute_node(batch[i], kwargs[i], state, info) for i in concurrent),
                    return_exceptions=True,
                )
                for i, finished in zip(concurrent, done, strict=True):
                    slots[i] = finished
            for i, np in enumerate(batch):
                if slots[i] is None:
                    try:
                        slots[i] = await self._execute_node(np, kwargs[i], state, info)
                    except Exception as exc:
                        slots[i] = exc
            # every sibling finished; keep their outputs, report the first failure (R9)
            outcomes: list[NodeOutcome] = [s for s in slots if not isinstance(s, BaseException)]
            failed = next((i for i, s in enumerate(slots) if isinstance(s, BaseException)), None)
            if failed is not None:
                support.note_node_failure(slots[failed], batch[failed], kwargs[failed], state.superstep, info)
            engine.commit(state, outcomes)
            if failed is not None:
                raise slots[failed]

    # ------------------------------------------------------------------ one node
    async def _execute_node(
        self, np: NodePlan, kwargs: dict[str, Any], state: RunState, info: support.RunInfo
    ) -> NodeOutcome:
        node_cache = self._node_cache
        lookup = await self._cache_lookup(np, kwargs) if node_cache is not None else None
        emitter = info.emitter
        if emitter is None:
            if lookup is None:
                return await self._call(np, kwargs, state, info, None)
            return await self._call_cached(np, kwargs, state, info, None, lookup)
        span = new_span_id()
        step = state.superstep
        await emitter.send_async(events.node_start(info, np, span, step))
        if lookup is not None:
            await emitter.send_async(events.cache_lookup(info, np, span, lookup))
        start = perf_counter()
        try:
            if lookup is None:
                outcome = await self._call(np, kwargs, state, info, span)
            else:
                outcome = await self._call_cached(np, kwargs, state, info, span, lookup)
        except support.PauseSignal as signal:
            if np.kind == INTERRUPT:
                await emitter.send_async(events.interrupted(info, np, span, signal.pause))
            raise
        except Exception as exc:
            await emitter.send_async(events.node_error(info, np, span, step, exc))
            raise
        if np.gate_plan is not None:
            decision = support.decision_label(np, outcome[2])
            await emitter.send_async(events.route_decision(info, np, span, decision))
        cached = lookup is not None and lookup.hit
        duration = 0.0 if cached else support.elapsed_ms(start)
        await emitter.send_async(events.node_end(info, np, span, step, duration, cached))
        return outcome

    async def _cache_lookup(self, np: NodePlan, kwargs: dict[str, Any]) -> CacheLookup | None:
        """Look up in memory inline; other backends (disk, network) in a worker thread."""
        node_cache = self._node_cache
        assert node_cache is not None
        if self._cache_blocks and np.node.cache:
            return await asyncio.to_thread(node_cache.lookup, np.node, kwargs)
        return node_cache.lookup(np.node, kwargs)

    async def _cache_store(self, lookup: CacheLookup, outputs: dict[str, Any], decision: Any = None) -> None:
        node_cache = self._node_cache
        assert node_cache is not None
        if self._cache_blocks:
            await asyncio.to_thread(node_cache.store, lookup, outputs, decision)
        else:
            node_cache.store(lookup, outputs, decision)

    async def _call_cached(
        self,
        np: NodePlan,
        kwargs: dict[str, Any],
        state: RunState,
        info: support.RunInfo,
        span: str | None,
        lookup: CacheLookup,
    ) -> NodeOutcome:
        """CA3/CA4/GT14: replay a hit; on a miss run the node and store what succeeded."""
        assert self._node_cache is not None
        if lookup.hit:
            return support.cached_outcome(np, lookup)
        if np.gate_plan is not None:
            raw = np.func(**kwargs)
            outcome: NodeOutcome = (np, {}, resolve_decision(np, raw))
            await self._cache_store(lookup, {}, raw)
            return outcome
        outcome = await self._call(np, kwargs, state, info, span)
        await self._cache_store(lookup, outcome[1])
        return outcome

    async def _call(
        self,
        np: NodePlan,
        kwargs: dict[str, Any],
        state: RunState,
        info: support.RunInfo,
        span: str | None,
    ) -> NodeOutcome:
        kind = np.kind
        if kind == FUNCTION:
            if not np.is_async:
                return (np, map_outputs(np, np.func(**kwargs)), None)
            return (np, map_outputs(np, await _leaf(np.func, kwargs)), None)
        if kind in (ROUTE, IFELSE):
            return (np, {}, resolve_decision(np, np.func(**kwargs)))
        if kind == GENERATOR:
            return (np, map_outputs(np, await self._drain(np, kwargs, info, span)), None)
        if kind == GRAPH:
            return (np, await self._run_graph_node(np, kwargs, state, info, span), None)
        return (np, await self._interrupt(np, kwargs, state), None)

    async def _drain(
        self, np: NodePlan, kwargs: dict[str, Any], info: support.RunInfo, span: str | None
    ) -> Any:
        """GN2: drain a sync or async generator fully, one StreamingChunkEvent per chunk."""
        emitter = info.emitter
        chunks: list[Any] = []

        async def on_chunk(chunk: Any) -> None:
            if emitter is not None and span is not None:
                await emitter.send_async(events.chunk(info, np, span, chunk, len(chunks)))
            chunks.append(chunk)

        if not np.is_async:
            for chunk in np.func(**kwargs):
                await on_chunk(chunk)
            return join_chunks(np, chunks)
        limiter = active_limiter()
        if limiter is None:
            async for chunk in np.func(**kwargs):
                await on_chunk(chunk)
        else:
            async with limiter.semaphore:
                async for chunk in np.func(**kwargs):
                    await on_chunk(chunk)
        return join_chunks(np, chunks)

    async def _interrupt(self, np: NodePlan, kwargs: dict[str, Any], state: RunState) -> dict[str, Any]:
        """HI2: answer from the resume values, else ask the handler; ``None`` pauses."""
        answers = state.answers
        outputs = np.outputs
        if all(name in answers for name in outputs):
            return {name: answers.pop(name) for name in outputs}
        returned = await _leaf(np.func, kwargs) if np.is_async else np.func(**kwargs)
        if returned is None:
            raise support.PauseSignal(support.pause_info(np, kwargs))
        return support.interrupt_outputs(np, returned)

    async def _run_graph_node(
        self, np: NodePlan, kwargs: dict[str, Any], state: RunState, info: support.RunInfo,
        span: str | None,
    ) -> dict[str, Any]:
        """R11, R12, R14: run the inner graph on its resolved runner, outputs back by name."""
        gn = np.node
        runner = gn.runner if gn.runner is not None else self
        values = support.child_values(gn, kwargs, state)
        parent_span = span if span is not None else info.span_id
        if isinstance(runner, AsyncRunner):
            return await runner._run_child(gn, values, info, parent_span)
        call = support.foreign_child_call(runner, gn, values, info, parent_span)
        result = await call_from_async(runner.capabilities.returns_coroutine, call)
        return support.child_outputs(gn, result)

    async def _run_child(
        self, gn: GraphNode, values: dict[str, Any], info: support.RunInfo, parent_span: str
    ) -> dict[str, Any]:
        """A nested graph on an AsyncRunner: shares the limiter and the emitter."""
        graph = gn.graph
        if gn.map_config is None:
            parts = support.prepare_values(graph, values)
            child = info.child(graph.name, parent_span)
            return support.single_outputs(gn, await self._execute(graph, parts, child))
        names, mode, error_handling, items = support.nested_map_items(gn, values)
        _check_fan_out(len(items), f"Nested map {gn.name!r}")
        map_info = info.child(graph.name, parent_span, error_handling)
        result = await self._map(graph, items, names, mode, map_info, active_limiter())
        return support.mapped_outputs(gn, result)


async def _leaf(func: Any, kwargs: dict[str, Any]) -> Any:
    """Await one leaf execution, holding a permit of the shared budget if there is one (AC4)."""
    limiter = active_limiter()
    if limiter is None:
        return await func(**kwargs)
    async with limiter.semaphore:
        return await func(**kwargs)


def _is_async_work(np: NodePlan) -> bool:
    """AC1: what runs concurrently (everything else runs inline after it)."""
    return np.is_async or np.kind == GRAPH


def _check_fan_out(count: int, what: str) -> None:
    """MP12: without a shared budget, refuse to start more than FAN_OUT_GUARD items at once."""
    if count > FAN_OUT_GUARD and active_limiter() is None:
        raise ValueError(
            f"{what} of {count} items with no max_concurrency would start them all at once "
            f"(limit {FAN_OUT_GUARD}). Pass max_concurrency=... to the top-level run() or map(), "
            "e.g. await runner.map(..., max_concurrency=100)."
        )


def _check_max_concurrency(value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(
            f"max_concurrency must be None (unlimited) or an integer >= 1; got {value!r}"
        )
