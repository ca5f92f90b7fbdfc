"""``AsyncRunner.iter()``: watch a run's events as they happen (SPEC GN7).

The run executes in a background task; its events are queued by a private processor and
yielded in emission order, ending with the run's own ``RunEndEvent``. Leaving early cancels the
run: deterministically with ``async with`` or ``aclose()``, and when the iterator is dropped
after a ``break`` through asyncio's async-generator finalizer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from hypergraph.events import BaseEvent, EventProcessor, RunEndEvent, RunStartEvent
from hypergraph.results import RunResult

__all__ = ["RunIterator"]

_DONE = object()


class _QueueProcessor(EventProcessor):
    """Puts every event on the iterator's queue."""

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self.queue = queue

    def on_event(self, event: BaseEvent) -> None:
        self.queue.put_nowait(event)


class RunIterator:
    """Async iterator (and async context manager) over the events of one run.

    After the last event, :attr:`result` holds the run's :class:`RunResult`.
    """

    def __init__(self, start: Callable[[list[EventProcessor]], Awaitable[RunResult]]) -> None:
        self._start = start
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[RunResult] | None = None
        self._events: AsyncGenerator[BaseEvent, None] = self._generate()
        self.result: RunResult | None = None

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
        await self._cancel()

    async def _cancel(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _generate(self) -> AsyncGenerator[BaseEvent, None]:
        queue = self._queue
        task = asyncio.ensure_future(self._start([_QueueProcessor(queue)]))
        self._task = task
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
            self.result = await task
        finally:
            await self._cancel()
