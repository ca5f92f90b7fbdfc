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

from hypergraph.events import BaseEvent, EventProcessor, RunEndEvent, RunStartEvent
from hypergraph.results import RunResult

__all__ = ["RunIterator"]

_DONE = object()

Starter = Callable[[list[EventProcessor]], Awaitable[RunResult]]


class _QueueProcessor(EventProcessor):
    """Puts every event on the iterator's queue, from whichever thread emits it.

    A SyncRunner child of the run executes in a worker thread (R14); its events are handed to
    the loop with ``call_soon_threadsafe`` so they arrive as they happen.
    """

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self.queue = queue
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()

    def on_event(self, event: BaseEvent) -> None:
        if threading.get_ident() == self.loop_thread:
            self.queue.put_nowait(event)
        else:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)


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


async def _generate(start: Starter, outcome: _Outcome) -> AsyncGenerator[BaseEvent, None]:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    task = asyncio.ensure_future(start([_QueueProcessor(queue)]))
    outcome.task = task
    task.add_done_callback(lambda _: queue.put_nowait(_DONE))
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
