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
from hypergraph.engine import engine_for
from hypergraph.engine.execution import join_chunks, map_outputs, resolve_decision
from hypergraph.events import (
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    StreamingChunkEvent,
    SuperstepStartEvent,
)
from hypergraph.events._emitter import Emitter, new_span_id
from hypergraph.nodes.interrupt import InterruptNode
from hypergraph.plan import FUNCTION, GENERATOR, GRAPH, IFELSE, INTERRUPT, ROUTE
from hypergraph.results import MapResult, PauseInfo, RunResult, RunStatus
from hypergraph.runners._nesting import call_from_async
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities
from hypergraph_async.limiter import Limiter, active_limiter, use_limiter
from hypergraph_async.plugin import ASYNC_CAPABILITIES
from hypergraph_async.stream import RunIterator

if TYPE_CHECKING:
    from hypergraph.engine import Engine, NodeOutcome, RunState
    from hypergraph.events import EventProcessor
    from hypergraph.graph import Graph
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

    def __init__(self, cache: Any = None, checkpointer: Any = None) -> None:
        support.reject_checkpointer(checkpointer)
        self.cache = cache
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
        on_missing: str = "ignore",
        on_internal_override: Any = None,
        entrypoint: str | None = None,
        max_iterations: float | None = None,
        max_concurrency: int | None = None,
        error_handling: str = "raise",
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
        support.check_common_options(
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, max_iterations=max_iterations,
        )
        _check_max_concurrency(max_concurrency)
        support.check_lineage_options(workflow_id, fork_from, retry_from, checkpoint)
        merged = support.merge_values(
            values, input_values, method="run", own_options=RUN_OPTIONS,
            other_method="map", other_options=MAP_OPTIONS,
        )
        support.check_structure_cached(self, graph)
        parts = support.partition_values(graph, merged)
        support.check_missing(graph, parts)
        support.check_defaults_copyable(graph, parts)
        emitter = support.make_emitter(event_processors)
        info = support.RunInfo(
            graph_name=graph.name, emitter=emitter,
            max_iterations=max_iterations or self.default_max_iterations,
            error_handling=error_handling, on_missing=on_missing, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id,
        )
        try:
            async with use_limiter(max_concurrency):
                return await self._execute(graph, parts, info)
        finally:
            if emitter is not None:
                await _shutdown(emitter)

    arun = run

    async def map(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: str = "zip",
        clone: bool | Sequence[str] = False,
        select: Any = support.UNSET,
        on_missing: str = "ignore",
        on_internal_override: Any = None,
        entrypoint: str | None = None,
        max_concurrency: int | None = None,
        error_handling: str = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        workflow_id: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> MapResult:
        """Execute ``graph`` once per item, items concurrently (at most ``max_concurrency``)."""
        support.check_common_options(
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling,
        )
        _check_max_concurrency(max_concurrency)
        support.check_lineage_options(workflow_id, None, None, None)
        names = support.normalize_map_over(map_over)
        merged = support.merge_values(
            values, input_values, method="map", own_options=MAP_OPTIONS,
            other_method="run", other_options=RUN_OPTIONS,
        )
        support.check_structure_cached(self, graph)
        support.reject_interrupts_in_map(graph)
        items = support.expand_items(merged, names, map_mode, clone)
        if max_concurrency is None:
            _check_fan_out(len(items), "map()")
        emitter = support.make_emitter(event_processors)
        try:
            async with use_limiter(max_concurrency) as limiter:
                return await self._map(
                    graph, items, names, map_mode, limiter=limiter, emitter=emitter,
                    error_handling=error_handling, on_missing=on_missing,
                    parent_span_id=parent_span_id, workflow_id=workflow_id,
                    session_id=session_id, max_iterations=self.default_max_iterations,
                )
        finally:
            if emitter is not None:
                await _shutdown(emitter)

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
        *,
        limiter: Limiter | None,
        emitter: Emitter | None,
        error_handling: str,
        on_missing: str,
        parent_span_id: str | None,
        workflow_id: str | None,
        session_id: str | None,
        max_iterations: float,
    ) -> MapResult:
        if not items:
            return MapResult((), None, 0.0, names, map_mode, graph.name)
        start = perf_counter()
        map_run_id = support.new_run_id()
        map_span = new_span_id()
        if emitter is not None:
            await _emit(
                emitter, RunStartEvent, run_id=map_run_id, span_id=map_span,
                parent_span_id=parent_span_id, graph_name=graph.name, is_map=True,
                map_size=len(items), workflow_id=workflow_id, session_id=session_id,
            )
        results: list[RunResult | None] = [None] * len(items)
        stop = False

        async def run_item(index: int) -> None:
            nonlocal stop
            info = support.RunInfo(
                graph_name=graph.name, emitter=emitter, max_iterations=max_iterations,
                error_handling="continue", on_missing=on_missing, parent_span_id=map_span,
                workflow_id=workflow_id, session_id=session_id, item_index=index,
            )
            try:
                parts = support.partition_values(graph, items[index])
                support.check_missing(graph, parts)
                support.check_defaults_copyable(graph, parts)
            except Exception as exc:
                results[index] = support.failed_before_start(info, exc)
            else:
                results[index] = await self._execute(graph, parts, info)
            if error_handling == "raise" and results[index].status is RunStatus.FAILED:  # type: ignore[union-attr]
                stop = True

        try:
            if limiter is None:
                await asyncio.gather(*(run_item(i) for i in range(len(items))))
            else:
                cursor = iter(range(len(items)))

                async def worker() -> None:
                    for index in cursor:
                        if stop:
                            return
                        await run_item(index)

                workers = min(limiter.limit, len(items))
                await asyncio.gather(*(worker() for _ in range(workers)))
            done = [r for r in results if r is not None]
            if error_handling == "raise":
                for r in done:
                    if r.status is RunStatus.FAILED and r.error is not None:
                        raise r.error
            status = support.aggregate_status(done)
            failure: BaseException | None = None
        except BaseException as exc:
            status, failure = RunStatus.FAILED, exc
            raise
        finally:
            if emitter is not None:
                await _emit(
                    emitter, RunEndEvent, run_id=map_run_id, span_id=map_span,
                    parent_span_id=parent_span_id, graph_name=graph.name, status=status,
                    error=support.error_text(failure), duration_ms=support.elapsed_ms(start),
                    is_map=True, workflow_id=workflow_id, session_id=session_id,
                )
        return MapResult(tuple(done), map_run_id, support.elapsed_ms(start), names, map_mode, graph.name)

    # ------------------------------------------------------------------ one run
    async def _execute(self, graph: Graph, parts: support.PartitionedValues, info: support.RunInfo) -> RunResult:
        engine = engine_for(graph)
        state = engine.new_state(parts.provided, parts.answers, parts.scoped)
        emitter = info.emitter
        start = perf_counter()
        if emitter is not None:
            await _emit(
                emitter, RunStartEvent, span_id=info.span_id, parent_span_id=info.parent_span_id,
                graph_name=info.graph_name, **info.event_fields(),
            )
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
        except Exception as exc:
            values = engine.output_values(state)
            if emitter is not None:
                await self._emit_run_end(info, RunStatus.FAILED, exc, start)
            if info.error_handling == "raise":
                raise
            return support.run_result(info, values, RunStatus.FAILED, error=exc)
        if emitter is not None:
            await self._emit_run_end(info, status, None, start)
        return support.run_result(info, values, status, pause=pause)

    async def _emit_run_end(
        self, info: support.RunInfo, status: RunStatus, error: BaseException | None, start: float
    ) -> None:
        assert info.emitter is not None
        await _emit(
            info.emitter, RunEndEvent, span_id=info.span_id, parent_span_id=info.parent_span_id,
            graph_name=info.graph_name, status=status, error=support.error_text(error),
            duration_ms=support.elapsed_ms(start), **info.event_fields(),
        )

    async def _drive(self, engine: Engine, state: RunState, info: support.RunInfo) -> None:
        """The superstep loop: async work concurrently, then sync work inline; commit in order."""
        limit = info.max_iterations
        while True:
            batch = engine.next_batch(state, limit)
            if not batch:
                return
            if info.emitter is not None:
                await _emit(
                    info.emitter, SuperstepStartEvent, span_id=info.span_id,
                    parent_span_id=info.parent_span_id, graph_name=info.graph_name,
                    superstep=state.superstep, **info.event_fields(),
                )
            if len(batch) == 1:
                np = batch[0]
                outcome = await self._execute_node(np, engine.collect(state, np), state, info)
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
                for i, outcome in zip(concurrent, done, strict=True):
                    slots[i] = outcome
            for i, np in enumerate(batch):
                if slots[i] is None:
                    try:
                        slots[i] = await self._execute_node(np, kwargs[i], state, info)
                    except Exception as exc:
                        slots[i] = exc
            # every sibling finished; keep their outputs, report the first failure (R9)
            outcomes: list[NodeOutcome] = [s for s in slots if not isinstance(s, BaseException)]
            failure = next((s for s in slots if isinstance(s, BaseException)), None)
            engine.commit(state, outcomes)
            if failure is not None:
                raise failure

    # ------------------------------------------------------------------ one node
    async def _execute_node(
        self, np: NodePlan, kwargs: dict[str, Any], state: RunState, info: support.RunInfo
    ) -> NodeOutcome:
        emitter = info.emitter
        if emitter is None:
            return await self._call(np, kwargs, state, info, None)
        span = new_span_id()
        fields = info.event_fields()
        await _emit(
            emitter, NodeStartEvent, span_id=span, parent_span_id=info.span_id, node_name=np.name,
            graph_name=info.graph_name, superstep=state.superstep, **fields,
        )
        start = perf_counter()
        try:
            outcome = await self._call(np, kwargs, state, info, span)
        except support.PauseSignal as signal:
            if np.kind == INTERRUPT:
                await _emit(
                    emitter, InterruptEvent, span_id=span, parent_span_id=info.span_id,
                    node_name=np.name, graph_name=info.graph_name, value=signal.pause.value,
                    response_param=signal.pause.response_param, **fields,
                )
            raise
        except Exception as exc:
            await _emit(
                emitter, NodeErrorEvent, span_id=span, parent_span_id=info.span_id,
                node_name=np.name, graph_name=info.graph_name, error=support.error_text(exc),
                error_type=type(exc).__name__, superstep=state.superstep, **fields,
            )
            raise
        if np.gate_plan is not None:
            await _emit(
                emitter, RouteDecisionEvent, span_id=span, parent_span_id=info.span_id,
                node_name=np.name, graph_name=info.graph_name,
                decision=support.decision_label(np, outcome[2]), node_span_id=span, **fields,
            )
        await _emit(
            emitter, NodeEndEvent, span_id=span, parent_span_id=info.span_id, node_name=np.name,
            graph_name=info.graph_name, duration_ms=support.elapsed_ms(start), cached=False,
            superstep=state.superstep, **fields,
        )
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
            limiter = active_limiter()
            if limiter is None:
                value = await np.func(**kwargs)
            else:
                async with limiter.semaphore:
                    value = await np.func(**kwargs)
            return (np, map_outputs(np, value), None)
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
            if emitter is not None:
                # the chunk's parent is the node span (EV3), as in SyncRunner
                await _emit(
                    emitter, StreamingChunkEvent, span_id=new_span_id(), parent_span_id=span,
                    node_name=np.name, graph_name=info.graph_name, chunk=chunk,
                    index=len(chunks), **info.event_fields(),
                )
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
        if np.is_async:
            limiter = active_limiter()
            if limiter is None:
                returned = await np.func(**kwargs)
            else:
                async with limiter.semaphore:
                    returned = await np.func(**kwargs)
        else:
            returned = np.func(**kwargs)
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
        processors = support.nested_processors(info.emitter)
        returns_coroutine = runner.capabilities.returns_coroutine
        if gn.map_config is None:
            result = await call_from_async(
                returns_coroutine,
                lambda: runner.run(
                    gn.graph, values, event_processors=processors, parent_span_id=parent_span,
                    workflow_id=info.workflow_id, session_id=info.session_id,
                ),
            )
            return support.single_outputs(gn, result)
        params, mode, error_handling = gn.map_config
        result = await call_from_async(
            returns_coroutine,
            lambda: runner.map(
                gn.graph, values, map_over=[gn.inner_input(p) for p in params], map_mode=mode,
                clone=gn.map_clone, error_handling=error_handling, event_processors=processors,
                parent_span_id=parent_span, workflow_id=info.workflow_id,
                session_id=info.session_id,
            ),
        )
        return support.mapped_outputs(gn, result)

    async def _run_child(
        self, gn: Any, values: dict[str, Any], info: support.RunInfo, parent_span: str
    ) -> dict[str, Any]:
        """A nested graph on an AsyncRunner: shares the limiter and the emitter."""
        graph = gn.graph
        if gn.map_config is None:
            parts = support.partition_values(graph, values)
            support.check_missing(graph, parts)
            child = support.RunInfo(
                graph_name=graph.name, emitter=info.emitter, max_iterations=info.max_iterations,
                error_handling="raise", on_missing="ignore", parent_span_id=parent_span,
                workflow_id=info.workflow_id, session_id=info.session_id,
            )
            return support.single_outputs(gn, await self._execute(graph, parts, child))
        params, mode, error_handling = gn.map_config
        names = tuple(gn.inner_input(p) for p in params)
        items = support.expand_items(values, names, mode, gn.map_clone)
        _check_fan_out(len(items), f"Nested map {gn.name!r}")
        result = await self._map(
            graph, items, names, mode, limiter=active_limiter(), emitter=info.emitter,
            error_handling=error_handling, on_missing="ignore", parent_span_id=parent_span,
            workflow_id=info.workflow_id, session_id=info.session_id,
            max_iterations=info.max_iterations,
        )
        return support.mapped_outputs(gn, result)


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


async def _emit(emitter: Emitter, event_type: type, **fields: Any) -> None:
    await emitter.emit_async(event_type, **fields)


async def _shutdown(emitter: Emitter) -> None:
    await emitter.shutdown_async()
