"""``AsyncRunner.iter()``: watch a run's events as they happen (SPEC GN7).

The run executes in a background task; its events are queued by a private processor and
yielded in emission order, ending with the run's own ``RunEndEvent``. Leaving early cancels the
run: deterministically with ``async with`` or ``aclose()``, and after a plain ``break`` through
asyncio's async-generator finalizer as soon as the loop lets go of the generator.

The event generator deliberately holds no reference to its :class:`RunIterator` (they share a
small :class:`_Outcome` instead): a reference cycle would keep an abandoned generator alive
until the garbage collector ran, and the run would go on in the background meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from hypergraph.events import (
    AsyncEventProcessor,
    BaseEvent,
    EventProcessor,
    RunEndEvent,
    RunStartEvent,
)
from hypergraph.results import RunResult

__all__ = ["RunIterator"]

_DONE = object()

Starter = Callable[[list[EventProcessor]], Awaitable[RunResult]]


EVENT_BUFFER = 1024
"""Events an ``iter()`` consumer may fall behind by before the run waits for it."""


class _QueueProcessor(AsyncEventProcessor):
    """Puts every event on the iterator's bounded queue, from whichever thread emits it.

    The queue holds at most ``EVENT_BUFFER`` events: when the consumer falls behind, the run
    waits for it (backpressure) instead of buffering without bound. A SyncRunner child of the
    run executes in a worker thread (R14); its events are handed to the loop and that thread
    waits for room the same way.
    """

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self.queue = queue
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()

    async def on_event_async(self, event: BaseEvent) -> None:
        await self.queue.put(event)

    def on_event(self, event: BaseEvent) -> None:
        if threading.get_ident() != self.loop_thread:
            asyncio.run_coroutine_threadsafe(self.queue.put(event), self.loop).result()
        elif not self.queue.full():
            self.queue.put_nowait(event)
        else:  # a sync emitter on the loop thread cannot wait: keep order, wait in a task
            _keep(self.loop.create_task(self.queue.put(event)))


class _Outcome:
    """What the generator and its RunIterator share: the run's task and, at the end, its result."""

    __slots__ = ("result", "task")

    def __init__(self) -> None:
        self.task: asyncio.Task[RunResult] | None = None
        self.result: RunResult | None = None


class RunIterator:
    """Async iterator (and async context manager) over the events of one run.

    After the last event, :attr:`result` holds the run's :class:`RunResult`.
    """

    def __init__(self, start: Starter) -> None:
        self._outcome = _Outcome()
        self._events: AsyncGenerator[BaseEvent, None] = _generate(start, self._outcome)

    @property
    def result(self) -> RunResult | None:
        """The run's result once the last event was yielded; ``None`` before that."""
        return self._outcome.result

    def __aiter__(self) -> AsyncGenerator[BaseEvent, None]:
        return self._events

    async def __anext__(self) -> BaseEvent:
        return await self._events.__anext__()

    async def __aenter__(self) -> RunIterator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop iterating; cancels the run if it is still going."""
        await self._events.aclose()
        await _cancel(self._outcome.task)


async def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


_WAITING: set[asyncio.Future[Any]] = set()


def _keep(task: asyncio.Future[Any]) -> None:
    """Hold a reference to a pending put until it is done (the loop keeps only weak ones)."""
    _WAITING.add(task)
    task.add_done_callback(_WAITING.discard)


def _put_end(queue: asyncio.Queue[Any]) -> None:
    """The end marker; it waits for room like any event only when the consumer lags."""
    if not queue.full():
        queue.put_nowait(_DONE)
    else:
        _keep(asyncio.ensure_future(queue.put(_DONE)))


async def _generate(start: Starter, outcome: _Outcome) -> AsyncGenerator[BaseEvent, None]:
    queue: asyncio.Queue[Any] = asyncio.Queue(EVENT_BUFFER)
    task = asyncio.ensure_future(start([_QueueProcessor(queue)]))
    outcome.task = task
    task.add_done_callback(lambda _: _put_end(queue))
    top_span: str | None = None
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            if top_span is None and isinstance(item, RunStartEvent):
                top_span = item.span_id
            yield item
            if isinstance(item, RunEndEvent) and item.span_id == top_span:
                break
        outcome.result = await task
    finally:
        await _cancel(task)
