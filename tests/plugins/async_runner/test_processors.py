"""Async event processors are awaited by AsyncRunner (SPEC EV5, EV6, EV8, EV9)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypergraph import AsyncRunner, Graph, node
from hypergraph.events import AsyncEventProcessor, EventProcessor, RunEndEvent, RunStartEvent


@node(output_name="doubled")
async def double(x: int) -> int:
    return x * 2


class AwaitingProcessor(AsyncEventProcessor):
    """Records which hooks ran; the async hooks really await, so a sync call would show up."""

    def __init__(self) -> None:
        self.async_events: list[str] = []
        self.sync_events: list[str] = []
        self.async_shutdowns = 0
        self.sync_shutdowns = 0

    def on_event(self, event: Any) -> None:
        self.sync_events.append(type(event).__name__)

    async def on_event_async(self, event: Any) -> None:
        await asyncio.sleep(0)
        self.async_events.append(type(event).__name__)

    def shutdown(self) -> None:
        self.sync_shutdowns += 1

    async def shutdown_async(self) -> None:
        await asyncio.sleep(0)
        self.async_shutdowns += 1


def test_on_event_async_is_awaited_for_every_event() -> None:
    """EV6: AsyncRunner awaits on_event_async for each event instead of calling on_event."""
    processor = AwaitingProcessor()
    asyncio.run(AsyncRunner().run(Graph([double]), {"x": 1}, event_processors=[processor]))
    assert processor.async_events[0] == "RunStartEvent"
    assert processor.async_events[-1] == "RunEndEvent"
    assert "NodeEndEvent" in processor.async_events
    assert processor.sync_events == []


def test_shutdown_async_is_awaited_once_after_the_run() -> None:
    """EV6: shutdown_async is awaited exactly once per top-level run, and shutdown is not called."""
    processor = AwaitingProcessor()
    asyncio.run(AsyncRunner().run(Graph([double]), {"x": 1}, event_processors=[processor]))
    assert processor.async_shutdowns == 1
    assert processor.sync_shutdowns == 0


def test_shutdown_async_is_awaited_once_for_a_nested_run() -> None:
    """EV5/EV9: nested graphs forward events to the processor but only the top-level run shuts it down."""
    processor = AwaitingProcessor()
    outer = Graph([Graph([double], name="inner").as_node()], name="outer")
    asyncio.run(AsyncRunner().run(outer, {"x": 1}, event_processors=[processor]))
    assert processor.async_events.count("RunStartEvent") == 2
    assert processor.async_shutdowns == 1


def test_shutdown_async_is_awaited_once_after_a_map() -> None:
    """EV6/EV8: a map shuts its processors down once, after the map-level RunEndEvent."""
    processor = AwaitingProcessor()
    asyncio.run(
        AsyncRunner().map(Graph([double]), {"x": [1, 2, 3]}, map_over="x", event_processors=[processor])
    )
    assert processor.async_events.count("RunStartEvent") == 4
    assert processor.async_shutdowns == 1


def test_plain_processor_gets_sync_calls_under_async_runner() -> None:
    """EV6: a plain EventProcessor's typed hooks and shutdown() are called by AsyncRunner."""
    seen: list[str] = []

    class Plain(EventProcessor):
        def on_run_start(self, event: RunStartEvent) -> None:
            seen.append("start")

        def on_run_end(self, event: RunEndEvent) -> None:
            seen.append("end")

        def shutdown(self) -> None:
            seen.append("shutdown")

    asyncio.run(AsyncRunner().run(Graph([double]), {"x": 1}, event_processors=[Plain()]))
    assert seen == ["start", "end", "shutdown"]


def test_map_events_wrap_each_item_run() -> None:
    """EV8: a map emits RunStart(is_map=True, map_size=N), one RunStart per item, and a final RunEnd."""
    processor = AwaitingProcessor()
    recorded: list[Any] = []

    class Keep(EventProcessor):
        def on_event(self, event: Any) -> None:
            recorded.append(event)

    asyncio.run(
        AsyncRunner().map(
            Graph([double]), {"x": [1, 2]}, map_over="x", event_processors=[processor, Keep()]
        )
    )
    starts = [e for e in recorded if isinstance(e, RunStartEvent)]
    assert (starts[0].is_map, starts[0].map_size) == (True, 2)
    assert [s.is_map for s in starts[1:]] == [False, False]
    assert {s.parent_span_id for s in starts[1:]} == {starts[0].span_id}
    assert isinstance(recorded[-1], RunEndEvent)
    assert recorded[-1].span_id == starts[0].span_id
