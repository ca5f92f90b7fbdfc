"""``ThreadPoolRunner``: a third-party runner that drives ``hypergraph.runtime`` itself.

The run loop, events, cache, nesting and results all come from core's shared loop; this module
only decides *how a superstep's ready nodes run*: in a ``concurrent.futures`` thread pool, each
in a copy of the caller's ``contextvars`` context. That is the executor seam (SPEC PL6): a
runner is a driver plus an executor, and this one imports public core modules only.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from hypergraph import runtime
from hypergraph.cache import NodeCache
from hypergraph.results import MapResult, RunResult
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities

if TYPE_CHECKING:
    from hypergraph.cache import CacheBackend
    from hypergraph.events import EventProcessor
    from hypergraph.graph import Graph

__all__ = ["PoolExecutor", "ThreadPoolRunner"]

CAPABILITIES = RunnerCapabilities()
"""What SyncRunner runs: sync nodes, cycles, gates, generators and nested graphs."""

_worker = threading.local()


class PoolExecutor:
    """A ``runtime.Executor``: a superstep's tasks run at once, one per pool thread.

    Each task runs in a copy of the submitting thread's context, so context variables (an OTel
    span, a request id) reach the node. A superstep started inside a pool thread (a nested
    graph, a map item) runs its tasks in that thread, in order: waiting on the pool from one of
    its own threads could leave no thread free to do the work.
    """

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool

    def execute(
        self,
        tasks: Sequence[runtime.NodeTask],
        run_task: Callable[[runtime.NodeTask], runtime.TaskOutcome],
    ) -> list[runtime.TaskOutcome | BaseException]:
        if len(tasks) == 1 or getattr(_worker, "pool", None) is self.pool:
            return runtime.SequentialExecutor().execute(tasks, run_task)
        return self.gather([lambda task=task: run_task(task) for task in tasks])  # type: ignore[misc]

    def gather(self, jobs: Sequence[Callable[[], Any]]) -> list[Any]:
        """Run ``jobs`` in the pool; each one's result or ``Exception``, in order.

        Waits for every job before returning, so no thread still works for this call after it
        ends; a ``BaseException`` (``KeyboardInterrupt``) in a job is re-raised after that.
        """
        futures = [self.pool.submit(contextvars.copy_context().run, self._in_worker, job) for job in jobs]
        wait(futures)
        results: list[Any] = []
        for future in futures:
            error = future.exception()
            if error is not None and not isinstance(error, Exception):
                raise error
            results.append(error if error is not None else future.result())
        return results

    def _in_worker(self, job: Callable[[], Any]) -> Any:
        _worker.pool = self.pool
        try:
            return job()
        finally:
            _worker.pool = None


class ThreadDriver(runtime.SyncDriver):
    """``SyncDriver`` with a pool: supersteps through ``PoolExecutor``, map items in the pool.

    ``observed=True`` makes the loop hand every superstep to the executor (its inline fast path
    would call nodes in the caller's thread); all started tasks finish before results commit.
    """

    finish_siblings = True

    def __init__(self, runner: ThreadPoolRunner, emitter: runtime.Emitter | None, pool: ThreadPoolExecutor) -> None:
        self.pool_executor = PoolExecutor(pool)
        super().__init__(runner, runner.node_cache, emitter, self.pool_executor, observed=True)

    def execute_items(self, effect: runtime.ExecuteItems) -> list[Any]:
        """Map items at once, one per pool thread; results in index order (MP5)."""
        if effect.count == 1 or getattr(_worker, "pool", None) is self.pool_executor.pool:
            return super().execute_items(effect)
        drive, steps = self.drive, effect.steps
        return self.pool_executor.gather([lambda i=i: drive(steps(i)) for i in range(effect.count)])  # type: ignore[misc]


class ThreadPoolRunner(BaseRunner):
    """Runs the independent nodes of each superstep in parallel threads; map items too.

    ``max_workers`` bounds the threads of one top-level ``run()``/``map()`` (default: the
    ``ThreadPoolExecutor`` default). Results are committed in node order, so values are the same
    as SyncRunner's; events of concurrent nodes interleave. Nodes must be thread-safe.
    """

    def __init__(self, max_workers: int | None = None, *, cache: CacheBackend | None = None) -> None:
        if max_workers is not None and (isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1):
            raise ValueError(f"max_workers must be None or an integer >= 1; got {max_workers!r}")
        self.max_workers = max_workers
        self.cache = cache
        self.node_cache = NodeCache(cache) if cache is not None else None

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Sync nodes, cycles and gates; no async nodes or interrupts (use AsyncRunner)."""
        return CAPABILITIES

    def __repr__(self) -> str:
        return f"ThreadPoolRunner(max_workers={self.max_workers!r})"

    def run(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        select: Any = runtime.UNSET,
        on_missing: str = "ignore",
        entrypoint: str | None = None,
        max_iterations: float | None = None,
        error_handling: str = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        checkpoint: Any = None,
        workflow_id: str | None = None,
        fork_from: str | None = None,
        retry_from: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> RunResult:
        """Execute ``graph`` once; same options and result as ``SyncRunner.run``."""
        parts, info = runtime.prepare_run(
            self, graph, values, input_values, run_options=runtime.RUN_OPTIONS,
            map_options=runtime.MAP_OPTIONS, select=select, entrypoint=entrypoint,
            on_missing=on_missing, error_handling=error_handling, max_iterations=max_iterations,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id, fork_from=fork_from, retry_from=retry_from,
            checkpoint=checkpoint,
        )
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="hypergraph") as pool:
            driver = ThreadDriver(self, info.emitter, pool)
            loop = runtime.RunLoop(graph, parts, info, driver, checkpoint=checkpoint, keep_checkpoint=True)
            return self._finish(info, lambda: driver.drive(loop.run_steps()))

    def map(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: str = "zip",
        clone: bool | Sequence[str] = False,
        select: Any = runtime.UNSET,
        on_missing: str = "ignore",
        entrypoint: str | None = None,
        error_handling: str = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        workflow_id: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> MapResult:
        """Execute ``graph`` once per item, items in parallel threads; results in item order."""
        items, names, info = runtime.prepare_map(
            self, graph, values, input_values, run_options=runtime.RUN_OPTIONS,
            map_options=runtime.MAP_OPTIONS, map_over=map_over, map_mode=map_mode, clone=clone,
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, event_processors=event_processors,
            parent_span_id=parent_span_id, workflow_id=workflow_id, session_id=session_id,
        )
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="hypergraph") as pool:
            driver = ThreadDriver(self, info.emitter, pool)
            loop = runtime.MapLoop(graph, items, names, map_mode, info, driver)
            return self._finish(info, lambda: driver.drive(loop.steps()))

    @staticmethod
    def _finish(info: runtime.RunContext, drive: Callable[[], Any]) -> Any:
        """Drive the loop; then shut the call's processors down, once (SPEC EV5)."""
        try:
            return drive()
        finally:
            if info.emitter is not None:
                info.emitter.shutdown()
