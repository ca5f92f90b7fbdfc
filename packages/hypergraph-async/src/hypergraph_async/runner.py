"""AsyncRunner: the shared run loop driven with asyncio.

Within a superstep, async work (async functions and generators, nested graphs, async interrupt
handlers) runs concurrently; sync nodes and gates run inline on the loop thread afterwards, one
at a time (SPEC AC1). Results are committed in node order, so values are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from hypergraph import runtime
from hypergraph.cache import CacheBackend, InMemoryCache, NodeCache
from hypergraph.nodes.interrupt import InterruptNode
from hypergraph.results import ErrorHandling, MapMode, MapResult, OnMissing, RunResult
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities
from hypergraph_async.driver import AsyncDriver
from hypergraph_async.driver import check_fan_out as _check_fan_out
from hypergraph_async.driver import check_max_concurrency as _check_max_concurrency
from hypergraph_async.limiter import use_limiter
from hypergraph_async.persisting import PersistingAsyncDriver
from hypergraph_async.plugin import ASYNC_CAPABILITIES
from hypergraph_async.stream import RunIterator

if TYPE_CHECKING:
    from hypergraph.events import EventProcessor
    from hypergraph.graph import Graph

__all__ = ["AsyncRunner"]

RUN_OPTIONS = (*runtime.RUN_OPTIONS, "max_concurrency")
MAP_OPTIONS = (*runtime.MAP_OPTIONS, "max_concurrency")


class AsyncRunner(BaseRunner):
    """Runs sync and async nodes; independent async nodes of a superstep run concurrently.

    ``max_concurrency`` caps leaf executions in flight across the whole run: every nested graph,
    map item and nested map shares the one budget.
    """

    supported_node_types: ClassVar[frozenset[type]] = BaseRunner.supported_node_types | {
        InterruptNode
    }

    def __init__(self, cache: CacheBackend | None = None, checkpointer: Any = None) -> None:
        if checkpointer is not None:
            # the checkpointing half is imported only by runners that have a checkpointer
            from hypergraph.checkpointers import require_checkpointer

            require_checkpointer(checkpointer, runner="AsyncRunner", sync=False)
        self.cache = cache
        self.node_cache = NodeCache(cache) if cache is not None else None
        # backends other than the in-memory one may do I/O: keep it off the event loop
        self.cache_blocks = cache is not None and not isinstance(cache, InMemoryCache)
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
        select: Any = runtime.UNSET,
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
        force_resume: bool = False,
        session_id: str | None = None,
        **input_values: Any,
    ) -> RunResult:
        """Execute ``graph`` once; same options as ``SyncRunner.run`` plus ``max_concurrency``."""
        _check_max_concurrency(max_concurrency)
        cp = self.checkpointer
        start = None
        if cp is None:
            runtime.refuse_unread_options(on_internal_override, override_workflow)
            if force_resume:  # only means something with a checkpointer: the check raises
                runtime.check_force_resume(force_resume)
        else:
            runtime.refuse_unread_options(on_internal_override)
            start = await runtime.resolve_workflow_async(
                cp, graph, {**(values or {}), **input_values}, workflow_id=workflow_id,
                checkpoint=checkpoint, override_workflow=override_workflow,
                fork_from=fork_from, retry_from=retry_from, force_resume=force_resume,
            )
            if start.inputs:
                values = {**start.inputs, **(values or {})}
            workflow_id, checkpoint, fork_from, retry_from = start.workflow_id, start.snapshot, None, None
        parts, info = runtime.prepare_run(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, max_iterations=max_iterations,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id, fork_from=fork_from,
            retry_from=retry_from, checkpoint=checkpoint,
        )
        if start is None:
            try:
                async with use_limiter(max_concurrency):
                    return await self.execute_run(graph, parts, info, checkpoint)
            finally:
                if info.emitter is not None:
                    await info.emitter.shutdown_async()
        recorder = runtime.WorkflowRecorder(cp, graph, start.workflow_id)
        driver = PersistingAsyncDriver(self, info.emitter, recorder)
        loop = runtime.RunLoop(
            graph, parts, info, driver, checkpoint=checkpoint, keep_checkpoint=True,
            rerun=start.rerun,
        )
        try:
            await recorder.apply_async(recorder.begin(start, parts.provided))
            async with use_limiter(max_concurrency):
                try:
                    result = await driver.drive(loop.run_steps())
                except BaseException as exc:
                    await recorder.apply_async(recorder.ended((), None, exc))
                    raise
            await recorder.apply_async(recorder.ended((), result))
            return result  # type: ignore[no-any-return]
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
        select: Any = runtime.UNSET,
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
        runtime.refuse_unread_options(on_internal_override)
        cp = self.checkpointer
        if cp is not None and workflow_id is None:
            from hypergraph.checkpointers import new_workflow_id

            workflow_id = new_workflow_id()
        items, names, info = runtime.prepare_map(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            map_over=map_over, map_mode=map_mode, clone=clone, select=select,
            entrypoint=entrypoint, on_missing=on_missing, error_handling=error_handling,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id,
        )
        if max_concurrency is None:
            _check_fan_out(len(items), "map()")
        if cp is None:
            try:
                async with use_limiter(max_concurrency):
                    return await self.execute_map(graph, items, names, map_mode, info)
            finally:
                if info.emitter is not None:
                    await info.emitter.shutdown_async()
        assert workflow_id is not None
        start = await runtime.plan_map_async(cp, graph, items, workflow_id)
        recorder = runtime.WorkflowRecorder(cp, graph, workflow_id)
        driver = PersistingAsyncDriver(self, info.emitter, recorder)
        steps = runtime.MapLoop(
            graph, items, names, map_mode, info, driver, restored=start.restored,
            resumed=start.resumed,
        ).steps()
        try:
            await recorder.apply_async(recorder.begin_map(start, names, len(items)))
            async with use_limiter(max_concurrency):
                try:
                    result = await driver.drive(steps)
                except BaseException as exc:
                    await recorder.apply_async(recorder.ended((), None, exc))
                    raise
            await recorder.apply_async(recorder.ended((), result))
            return result  # type: ignore[no-any-return]
        finally:
            if info.emitter is not None:
                await info.emitter.shutdown_async()

    amap = map

    async def execute_run(
        self, graph: Graph, parts: Any, info: runtime.RunContext, checkpoint: Any = None
    ) -> RunResult:
        """Drive one prepared run (inside the limiter); a durable runner starts a workflow here."""
        driver = AsyncDriver(self, info.emitter)
        loop = runtime.RunLoop(graph, parts, info, driver, checkpoint=checkpoint, keep_checkpoint=True)
        return await driver.drive(loop.run_steps())  # type: ignore[no-any-return]

    async def execute_map(
        self,
        graph: Graph,
        items: list[dict[str, Any]],
        names: tuple[str, ...],
        map_mode: Any,
        info: runtime.RunContext,
    ) -> MapResult:
        """Drive one prepared map (inside the limiter); a durable runner queues its items here."""
        driver = AsyncDriver(self, info.emitter)
        steps = runtime.MapLoop(graph, items, names, map_mode, info, driver).steps()
        return await driver.drive(steps)  # type: ignore[no-any-return]

    def iter(self, graph: Graph, values: dict[str, Any] | None = None, **options: Any) -> RunIterator:
        """Stream the run's events: ``async for event in runner.iter(graph, values): ...``.

        Takes the same options as :meth:`run`. After the last event (the run's
        ``RunEndEvent``) the iterator's ``result`` holds the ``RunResult``.
        """
        user = list(options.pop("event_processors", None) or ())

        def start(extra: list[EventProcessor]) -> Any:
            return self.run(graph, values, event_processors=[*user, *extra], **options)

        return RunIterator(start)
