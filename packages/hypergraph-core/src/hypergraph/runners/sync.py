"""SyncRunner: executes a graph superstep by superstep in a plain for-loop."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any

import hypergraph.runners.support as support
from hypergraph.cache import CacheBackend, CacheLookup, NodeCache
from hypergraph.engine import engine_for
from hypergraph.engine.execution import join_chunks, map_outputs, resolve_decision
from hypergraph.events._emitter import new_span_id
from hypergraph.exceptions import IncompatibleRunnerError
from hypergraph.plan import FUNCTION, GENERATOR, GRAPH, IFELSE, ROUTE
from hypergraph.results import ErrorHandling, MapMode, MapResult, OnMissing, RunResult, RunStatus
from hypergraph.runners import run_events as events
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities
from hypergraph.runners.nesting import call_from_sync
from hypergraph.runners.support import (
    UNSET,
    PartitionedValues,
    PauseSignal,
    RunInfo,
    child_values,
    mapped_outputs,
    single_outputs,
)

if TYPE_CHECKING:
    from hypergraph.engine import Engine, NodeOutcome, RunState
    from hypergraph.events.processor import EventProcessor
    from hypergraph.graph import Graph
    from hypergraph.nodes.graph_node import GraphNode
    from hypergraph.plan import NodePlan

__all__ = ["SyncRunner"]

_CAPABILITIES = RunnerCapabilities()

RUN_OPTIONS = support.RUN_OPTIONS
MAP_OPTIONS = support.MAP_OPTIONS


class SyncRunner(BaseRunner):
    """Runs graphs of synchronous nodes, one node at a time, in graph order.

    Supports cycles, gates, sync generators and nested graphs (including nested graphs that
    name another runner). Async nodes and interrupts need AsyncRunner.
    """

    def __init__(self, cache: CacheBackend | None = None, checkpointer: object = None) -> None:
        support.reject_checkpointer(checkpointer)
        self.cache = cache
        self._node_cache = NodeCache(cache) if cache is not None else None
        self.checkpointer = checkpointer

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Cycles and gates yes; async nodes, interrupts and streaming no."""
        return _CAPABILITIES

    def __repr__(self) -> str:
        return "SyncRunner()" if self.cache is None else f"SyncRunner(cache={self.cache!r})"

    # ------------------------------------------------------------------ public API
    def run(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        select: Any = UNSET,
        on_missing: OnMissing = "ignore",
        on_internal_override: Any = None,
        entrypoint: str | None = None,
        max_iterations: float | None = None,
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
        """Execute ``graph`` once and return its :class:`RunResult`.

        With ``error_handling="raise"`` (default) a node's own exception propagates unchanged;
        with ``"continue"`` the result is FAILED and holds the values computed before it.
        """
        parts, info = support.prepare_run(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, max_iterations=max_iterations,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id, fork_from=fork_from,
            retry_from=retry_from, checkpoint=checkpoint,
        )
        try:
            return self._execute(graph, parts, info)
        finally:
            if info.emitter is not None:
                info.emitter.shutdown()

    def map(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: MapMode = "zip",
        clone: bool | Sequence[str] = False,
        select: Any = UNSET,
        on_missing: OnMissing = "ignore",
        on_internal_override: Any = None,
        entrypoint: str | None = None,
        error_handling: ErrorHandling = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        workflow_id: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> MapResult:
        """Execute ``graph`` once per item of the ``map_over`` inputs, in order.

        Non-mapped values are shared by every item (``clone=`` deep-copies them per item).
        """
        items, names, info = support.prepare_map(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            map_over=map_over, map_mode=map_mode, clone=clone, select=select,
            entrypoint=entrypoint, on_missing=on_missing, error_handling=error_handling,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id,
        )
        try:
            return self._map(graph, items, names, map_mode, info)
        finally:
            if info.emitter is not None:
                info.emitter.shutdown()

    # ------------------------------------------------------------------ map
    def _map(
        self,
        graph: Graph,
        items: list[dict[str, Any]],
        names: tuple[str, ...],
        map_mode: str,
        info: RunInfo,
    ) -> MapResult:
        """Items one after another, in index order (MP5); ``info`` describes the map itself."""
        if not items:
            return MapResult((), None, 0.0, names, map_mode, graph.name)
        start = perf_counter()
        emitter = info.emitter
        if emitter is not None:
            emitter.send(events.run_start(info, map_size=len(items)))
        results: list[RunResult] = []
        failure: BaseException | None = None
        try:
            for index, item in enumerate(items):
                item_info = info.item(index)
                try:
                    parts = support.prepare_values(graph, item)
                except Exception as exc:
                    if info.error_handling == "raise":
                        raise
                    if emitter is not None:  # EV8: every item has its RunStart/RunEnd
                        for event in events.not_started(item_info, exc):
                            emitter.send(event)
                    results.append(support.failed_before_start(item_info, exc))
                    continue
                results.append(self._execute(graph, parts, item_info))
        except BaseException as exc:
            failure = exc
            raise
        finally:
            if emitter is not None:
                status = RunStatus.FAILED if failure is not None else support.aggregate_status(results)
                emitter.send(
                    events.run_end(info, status, failure, support.elapsed_ms(start), is_map=True)
                )
        return MapResult(
            tuple(results), info.run_id, support.elapsed_ms(start), names, map_mode, graph.name
        )

    # ------------------------------------------------------------------ one run
    def _execute(self, graph: Graph, parts: PartitionedValues, info: RunInfo) -> RunResult:
        engine = engine_for(graph)
        state = engine.new_state(
            parts.provided, parts.answers, parts.scoped, parts.nested_answers
        )
        emitter = info.emitter
        start = perf_counter()
        if emitter is not None:
            emitter.send(events.run_start(info))
        status = RunStatus.COMPLETED
        pause = None
        try:
            self._drive(engine, state, info)
            values = engine.output_values(state)
            if info.on_missing != "ignore":
                support.check_selected_present(graph, values, info.on_missing)
        except PauseSignal as signal:
            status, pause = RunStatus.PAUSED, signal.pause
            values = engine.output_values(state)
        except Exception as exc:
            values = engine.output_values(state)
            if emitter is not None:
                emitter.send(events.run_end(info, RunStatus.FAILED, exc, support.elapsed_ms(start)))
            if info.error_handling == "raise":
                raise
            return support.run_result(info, values, RunStatus.FAILED, error=exc)
        if emitter is not None:
            emitter.send(events.run_end(info, status, None, support.elapsed_ms(start)))
        return support.run_result(info, values, status, pause=pause)

    def _drive(self, engine: Engine, state: RunState, info: RunInfo) -> None:
        """The superstep loop: ask the engine for a batch, run it in order, commit."""
        emitter = info.emitter
        fast = emitter is None and self._node_cache is None
        next_batch = engine.next_batch
        collect = engine.collect
        commit = engine.commit
        limit = info.max_iterations
        while True:
            batch = next_batch(state, limit)
            if not batch:
                return
            if emitter is not None:
                emitter.send(events.superstep_start(info, state.superstep))
            outcomes: list[NodeOutcome] = []
            try:
                for np in batch:
                    kwargs = collect(state, np)
                    if fast and np.kind == FUNCTION:
                        outcomes.append((np, map_outputs(np, np.func(**kwargs)), None))
                    else:
                        outcomes.append(self._execute_node(np, kwargs, state, info))
            except BaseException as exc:
                support.note_node_failure(exc, np, kwargs, state.superstep, info)
                # SyncRunner stops the superstep at the failing node; earlier siblings count (R9)
                with contextlib.suppress(Exception):
                    commit(state, outcomes)
                raise
            commit(state, outcomes)

    # ------------------------------------------------------------------ one node
    def _execute_node(
        self, np: NodePlan, kwargs: dict[str, Any], state: RunState, info: RunInfo
    ) -> NodeOutcome:
        node_cache = self._node_cache
        lookup = node_cache.lookup(np.node, kwargs) if node_cache is not None else None
        emitter = info.emitter
        if emitter is None:
            if lookup is None:
                return self._call(np, kwargs, state, info, None)
            return self._call_cached(np, kwargs, state, info, None, lookup)
        span = new_span_id()
        step = state.superstep
        emitter.send(events.node_start(info, np, span, step))
        if lookup is not None:
            emitter.send(events.cache_lookup(info, np, span, lookup))
        start = perf_counter()
        try:
            if lookup is None:
                outcome = self._call(np, kwargs, state, info, span)
            else:
                outcome = self._call_cached(np, kwargs, state, info, span, lookup)
        except PauseSignal:
            raise
        except Exception as exc:
            emitter.send(events.node_error(info, np, span, step, exc))
            raise
        if np.gate_plan is not None:
            emitter.send(events.route_decision(info, np, span, support.decision_label(np, outcome[2])))
        cached = lookup is not None and lookup.hit
        duration = 0.0 if cached else support.elapsed_ms(start)
        emitter.send(events.node_end(info, np, span, step, duration, cached))
        return outcome

    def _call_cached(
        self,
        np: NodePlan,
        kwargs: dict[str, Any],
        state: RunState,
        info: RunInfo,
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
            self._node_cache.store(lookup, {}, raw)
            return outcome
        outcome = self._call(np, kwargs, state, info, span)
        self._node_cache.store(lookup, outcome[1])
        return outcome

    def _call(
        self,
        np: NodePlan,
        kwargs: dict[str, Any],
        state: RunState,
        info: RunInfo,
        span: str | None,
    ) -> NodeOutcome:
        kind = np.kind
        if kind == FUNCTION:
            return (np, map_outputs(np, np.func(**kwargs)), None)
        if kind in (ROUTE, IFELSE):
            return (np, {}, resolve_decision(np, np.func(**kwargs)))
        if kind == GENERATOR:
            return (np, map_outputs(np, self._drain(np, kwargs, info, span)), None)
        if kind == GRAPH:
            return (np, self._run_graph_node(np, kwargs, state, info, span), None)
        raise IncompatibleRunnerError(
            f"Node {np.name!r} is an interrupt, but SyncRunner doesn't support interrupts. Use "
            "AsyncRunner instead.",
            node_name=np.name,
            capability="supports_interrupts",
        )

    def _drain(self, np: NodePlan, kwargs: dict[str, Any], info: RunInfo, span: str | None) -> Any:
        """GN2: consume a sync generator fully; one StreamingChunkEvent per chunk."""
        emitter = info.emitter
        chunks: list[Any] = []
        for chunk in np.func(**kwargs):
            if emitter is not None and span is not None:
                emitter.send(events.chunk(info, np, span, chunk, len(chunks)))
            chunks.append(chunk)
        return join_chunks(np, chunks)

    def _run_graph_node(
        self, np: NodePlan, kwargs: dict[str, Any], state: RunState, info: RunInfo, span: str | None
    ) -> dict[str, Any]:
        """R11, R12, R14: run the inner graph on its resolved runner, outputs back by name."""
        gn = np.node
        runner = gn.runner if gn.runner is not None else self
        values = child_values(gn, kwargs, state)
        parent_span = span if span is not None else info.span_id
        if isinstance(runner, SyncRunner):
            return runner._run_child(gn, values, info, parent_span)
        call = support.foreign_child_call(runner, gn, values, info, parent_span)
        result = call_from_sync(runner.capabilities.returns_coroutine, call)
        return support.child_outputs(gn, result)

    def _run_child(
        self, gn: GraphNode, values: dict[str, Any], info: RunInfo, parent_span: str
    ) -> dict[str, Any]:
        """A nested graph on a SyncRunner: no re-validation, same emitter, no shutdown."""
        graph = gn.graph
        if gn.map_config is None:
            parts = support.prepare_values(graph, values)
            return single_outputs(gn, self._execute(graph, parts, info.child(graph.name, parent_span)))
        names, mode, error_handling, items = support.nested_map_items(gn, values)
        map_info = info.child(graph.name, parent_span, error_handling)
        return mapped_outputs(gn, self._map(graph, items, names, mode, map_info))
