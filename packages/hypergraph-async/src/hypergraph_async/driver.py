"""AsyncDriver: performs the shared run loop's effects with ``await``.

The loop (``hypergraph.runtime``) decides what happens; this module only decides how, on an
event loop: async work of a superstep gathered, then sync work inline (SPEC AC1), leaf calls
under the shared limiter (AC3, AC4), blocking cache backends in a worker thread, map items in a
window of ``max_concurrency`` workers (AC5), and a yield to the event loop between supersteps so
a sync-only loop can still be cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol

from hypergraph import runtime
from hypergraph.events import BaseEvent
from hypergraph.policies import acall_with_policy
from hypergraph.results import RunStatus
from hypergraph_async.limiter import active_limiter

if TYPE_CHECKING:
    from hypergraph.runtime import Emitter

GENERATOR = runtime.NodeKind.GENERATOR
GRAPH = runtime.NodeKind.GRAPH

__all__ = ["AsyncDriver", "AsyncExecutor", "GatherExecutor", "check_fan_out", "check_max_concurrency"]

FAN_OUT_GUARD = 10_000
"""Largest map() batch started without a concurrency limit (SPEC MP12)."""

RetryLoop = Callable[..., Awaitable[Any]]
"""``acall_with_policy`` or a loop with its signature (``_with_policy``'s ``retry_loop``)."""

TICK_SECONDS = 0.002
"""Longest stretch of inline work between two yields to the event loop."""


class AsyncExecutor(Protocol):
    """Runs one superstep's tasks with ``run_task``; one entry per task started, in order."""

    async def execute(
        self,
        tasks: Sequence[runtime.NodeTask],
        run_task: Callable[[runtime.NodeTask], Awaitable[runtime.TaskOutcome]],
    ) -> list[runtime.TaskOutcome | BaseException]: ...


class GatherExecutor:
    """AC1: async work concurrently with ``gather``, then sync work inline, all siblings run."""

    async def execute(
        self,
        tasks: Sequence[runtime.NodeTask],
        run_task: Callable[[runtime.NodeTask], Awaitable[runtime.TaskOutcome]],
    ) -> list[runtime.TaskOutcome | BaseException]:
        if len(tasks) == 1:
            try:
                return [await run_task(tasks[0])]
            except Exception as exc:
                return [exc]
        slots: list[Any] = [None] * len(tasks)
        concurrent = [i for i, task in enumerate(tasks) if _is_async_work(task)]
        if concurrent:
            done = await asyncio.gather(
                *(run_task(tasks[i]) for i in concurrent), return_exceptions=True
            )
            for i, finished in zip(concurrent, done, strict=True):
                slots[i] = finished
        for i, task in enumerate(tasks):
            if slots[i] is None:
                try:
                    slots[i] = await run_task(task)
                except Exception as exc:
                    slots[i] = exc
        return slots


def _is_async_work(task: runtime.NodeTask) -> bool:
    np = task.plan
    return bool(np.is_async) or np.in_thread or np.kind is GRAPH


class AsyncDriver(runtime.DriverTraits):
    """Performs effects on the running event loop for one top-level ``run()``/``map()``."""

    finish_siblings = True
    ticks = True
    gathers = True

    def __init__(
        self, runner: Any, emitter: Emitter | None, executor: AsyncExecutor | None = None
    ) -> None:
        self.runner = runner
        self.emitter = emitter
        self.node_cache = runner.node_cache
        self.cache_blocks = runner.cache_blocks
        self.executor = executor if executor is not None else GatherExecutor()
        self.caching = self.node_cache is not None
        self.observed = self.caching
        self._last_tick = perf_counter()

    def check_fan_out(self, count: int, what: str) -> None:
        check_fan_out(count, what)

    async def drive(self, steps: runtime.Steps[Any]) -> Any:
        """Run a loop generator to its result, awaiting each effect (see ``runtime.drive``)."""
        try:
            effect = next(steps)
        except StopIteration as stop:
            return stop.value
        handle = self.handle
        while True:
            try:
                answer = await handle(effect)
            except BaseException as exc:
                try:
                    effect = steps.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                effect = steps.send(answer)
            except StopIteration as stop:
                return stop.value

    async def handle(self, effect: Any) -> Any:
        """Perform one event or effect; the answer goes back into the loop."""
        if isinstance(effect, BaseEvent):
            if self.emitter is not None:
                await self.emitter.send_async(effect)
            return None
        kind = type(effect)
        if kind is runtime.Tick:
            # let the event loop run (cancellation, iter() consumers) without paying for a
            # round trip on every tiny superstep
            now = perf_counter()
            if now - self._last_tick >= TICK_SECONDS:
                self._last_tick = now
                await asyncio.sleep(0)
            return None
        if kind is runtime.GatherLeaves:
            return await _gather_leaves(effect.calls)
        if kind is runtime.ExecuteBatch:
            run = effect.run_task

            async def run_task(task: runtime.NodeTask) -> runtime.TaskOutcome:
                return await self.drive(run(task))  # type: ignore[no-any-return]

            return await self.executor.execute(effect.tasks, run_task)
        if kind is runtime.Invoke:
            return await self.invoke(effect)
        if kind is runtime.CacheGet:
            cache = self.node_cache
            assert cache is not None
            if self.cache_blocks:
                return await asyncio.to_thread(cache.lookup, effect.node, effect.kwargs)
            return cache.lookup(effect.node, effect.kwargs)
        if kind is runtime.CacheSet:
            cache = self.node_cache
            assert cache is not None
            if self.cache_blocks:
                await asyncio.to_thread(cache.store, effect.lookup, effect.outputs, effect.decision)
            else:
                cache.store(effect.lookup, effect.outputs, effect.decision)
            return None
        if kind is runtime.RunChild:
            runner = effect.runner
            if runner is None or runner is self.runner:
                return await self.drive(effect.steps())
            call = effect.call(runner)
            return await runtime.call_from_async(runner.capabilities.returns_coroutine, call)
        if kind is runtime.ExecuteItems:
            return await self.execute_items(effect)
        if kind is runtime.Committed:
            return None
        raise TypeError(f"{type(self).__name__} cannot perform {effect!r}")

    async def invoke(self, effect: runtime.Invoke) -> Any:
        """Call the node: async leaves hold a permit of the shared budget (AC4)."""
        task = effect.task
        np = task.plan
        if np.has_policy:
            return await self._with_policy(effect)
        if np.kind is GENERATOR:
            return await self._drain(task, effect.chunk_event)
        if np.in_thread:
            return await _in_thread(np.func, task.kwargs)
        if not np.is_async:
            return np.func(**task.kwargs)
        limiter = active_limiter()
        if limiter is None:
            return await np.func(**task.kwargs)
        async with limiter.semaphore:
            return await np.func(**task.kwargs)

    async def _with_policy(
        self, effect: runtime.Invoke, retry_loop: RetryLoop = acall_with_policy
    ) -> Any:
        """Retries and timeout (``RetryPolicy``): a permit is held per attempt, never while
        backing off; sync functions run inline, their backoff awaited. ``retry_loop`` (same
        signature as ``acall_with_policy``) lets the durable driver record every attempt."""
        task = effect.task
        np = task.plan
        kwargs = task.kwargs
        emitter = self.emitter
        retry_event = effect.retry_event
        on_retry = None
        if emitter is not None and retry_event is not None:

            async def on_retry(attempt: int, error: BaseException, delay: float) -> None:
                await emitter.send_async(retry_event(attempt, error, delay))

        can_retry = None
        slot = None
        acall: Callable[[], Awaitable[Any]]
        if np.kind is GENERATOR:
            chunks: list[Any] = []

            async def drain_chunks() -> Any:
                return await self._drain(task, effect.chunk_event, chunks, slot_held=True)

            acall = drain_chunks

            def can_retry() -> bool:
                return not chunks
        elif np.in_thread:

            def call_in_thread() -> Awaitable[Any]:
                return asyncio.to_thread(np.func, **kwargs)

            acall = call_in_thread
        elif np.is_async:

            def call_async() -> Awaitable[Any]:
                return np.func(**kwargs)  # type: ignore[no-any-return]

            acall = call_async
        else:

            async def call_sync() -> Any:
                return np.func(**kwargs)

            acall = call_sync

        if np.is_async or np.in_thread:
            limiter = active_limiter()
            slot = limiter.semaphore if limiter is not None else None
        return await retry_loop(
            acall, np.retry, np.timeout, node_name=np.name, on_retry=on_retry,
            can_retry=can_retry, slot=slot,
        )

    async def _drain(
        self,
        task: runtime.NodeTask,
        chunk_event: Any,
        chunks: list[Any] | None = None,
        *,
        slot_held: bool = False,
    ) -> Any:
        """GN2: drain a sync or async generator; each chunk's event is delivered at once."""
        np = task.plan
        emitter = self.emitter if chunk_event is not None else None
        if chunks is None:
            chunks = []
        if not np.is_async:
            for chunk in np.func(**task.kwargs):
                if emitter is not None:
                    await emitter.send_async(chunk_event(chunk, len(chunks)))
                    await asyncio.sleep(0)  # let iter() consumers see it while the generator runs
                chunks.append(chunk)
            return runtime.join_chunks(np, chunks)
        limiter = None if slot_held else active_limiter()
        if limiter is None:
            async for chunk in np.func(**task.kwargs):
                if emitter is not None:
                    await emitter.send_async(chunk_event(chunk, len(chunks)))
                chunks.append(chunk)
        else:
            async with limiter.semaphore:
                async for chunk in np.func(**task.kwargs):
                    if emitter is not None:
                        await emitter.send_async(chunk_event(chunk, len(chunks)))
                    chunks.append(chunk)
        return runtime.join_chunks(np, chunks)

    async def execute_items(self, effect: runtime.ExecuteItems) -> list[Any]:
        """Items at once, or in a window of ``limit`` workers that stops after a failure (AC5).

        A ``BaseException`` (cancellation, KeyboardInterrupt) in one item cancels and awaits
        the others, so no item is left running when ``map()`` returns or raises.
        """
        count = effect.count
        results: list[Any] = [None] * count
        limiter = active_limiter()
        stop = False
        direct = effect.direct
        if direct is not None:
            # compiled items never await: run them here, yielding to the loop now and then;
            # with a limit, stop after a failure as the window of workers would
            stop_on_failure = effect.stop_on_failure and limiter is not None
            for index in range(count):
                result = results[index] = direct(index)
                if stop_on_failure and result.status is RunStatus.FAILED:
                    break
                now = perf_counter()
                if now - self._last_tick >= TICK_SECONDS:
                    self._last_tick = now
                    await asyncio.sleep(0)
            return results

        direct_async = effect.direct_async
        semaphore = limiter.semaphore if limiter is not None else None

        async def run_item(index: int) -> None:
            nonlocal stop
            if direct_async is not None:
                result = await direct_async(index, semaphore)
            else:
                result = await self.drive(effect.steps(index))
            results[index] = result
            if effect.stop_on_failure and result.status is RunStatus.FAILED:
                stop = True

        if limiter is None:
            jobs = [run_item(i) for i in range(count)]
        else:
            cursor = iter(range(count))

            async def worker() -> None:
                for index in cursor:
                    if stop:  # with a limit, stop starting items after a failure
                        return
                    await run_item(index)

            jobs = [worker() for _ in range(min(limiter.limit, count))]
        tasks = [asyncio.ensure_future(job) for job in jobs]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return results


async def _gather_leaves(calls: Sequence[tuple[Any, dict[str, Any]]]) -> list[Any]:
    """Plain async leaves concurrently, each holding a permit of the shared budget (AC4)."""
    limiter = active_limiter()
    if limiter is None:
        if len(calls) == 1:
            func, kwargs = calls[0]
            try:
                return [await func(**kwargs)]
            except Exception as exc:
                return [exc]
        return await asyncio.gather(*(f(**kw) for f, kw in calls), return_exceptions=True)
    semaphore = limiter.semaphore

    async def one(func: Any, kwargs: dict[str, Any]) -> Any:
        async with semaphore:
            return await func(**kwargs)

    return await asyncio.gather(*(one(f, kw) for f, kw in calls), return_exceptions=True)


async def _in_thread(func: Any, kwargs: dict[str, Any]) -> Any:
    """A blocking sync call in a worker thread, holding a permit of the shared budget (AC4)."""
    limiter = active_limiter()
    if limiter is None:
        return await asyncio.to_thread(func, **kwargs)
    async with limiter.semaphore:
        return await asyncio.to_thread(func, **kwargs)


def check_fan_out(count: int, what: str) -> None:
    """MP12: without a shared budget, refuse to start more than FAN_OUT_GUARD items at once."""
    if count > FAN_OUT_GUARD and active_limiter() is None:
        raise ValueError(
            f"{what} of {count} items with no max_concurrency would start them all at once "
            f"(limit {FAN_OUT_GUARD}). Pass max_concurrency=... to the top-level run() or map(), "
            "e.g. await runner.map(..., max_concurrency=100)."
        )


def check_max_concurrency(value: int | None) -> None:
    """AC2: ``None`` or an integer >= 1."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(
            f"max_concurrency must be None (unlimited) or an integer >= 1; got {value!r}"
        )
