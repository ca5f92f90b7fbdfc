"""iter(): events as they happen, the final result, early exit cancels (SPEC GN7, EV4).

Every test runs on AsyncRunner and, unchanged, on DBOSAsyncRunner (SPEC DB1).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hypergraph import AsyncRunner, DBOSAsyncRunner, Graph, RunStatus, interrupt, node
from hypergraph.events import (
    BaseEvent,
    EventProcessor,
    InterruptEvent,
    NodeEndEvent,
    NodeStartEvent,
    RunEndEvent,
    RunStartEvent,
    StreamingChunkEvent,
)


@pytest.fixture(params=["AsyncRunner", "DBOSAsyncRunner"])
def make_runner(request: pytest.FixtureRequest) -> Callable[[], AsyncRunner]:
    """The runner under test: iter() behaves the same on the durable runner."""
    return AsyncRunner if request.param == "AsyncRunner" else DBOSAsyncRunner


@node(output_name="story")
async def tell(prompt: str) -> str:  # type: ignore[misc]
    for word in ("Once", " upon", " a", " time"):
        await asyncio.sleep(0)
        yield word


@node(output_name="shout")
def shout(story: str) -> str:
    return story.upper()


story_graph = Graph([tell, shout])


def test_iter_yields_events_in_emission_order_ending_with_run_end(recorder: Any, make_runner: Callable[[], AsyncRunner]) -> None:
    """iter() yields exactly the events a processor sees, in the same order, the last being RunEndEvent."""

    async def main() -> list[BaseEvent]:
        return [e async for e in make_runner().iter(story_graph, {"prompt": "p"}, event_processors=[recorder])]

    streamed = asyncio.run(main())
    assert streamed == recorder.events
    assert isinstance(streamed[0], RunStartEvent)
    assert isinstance(streamed[-1], RunEndEvent)
    assert streamed[-1].status == RunStatus.COMPLETED


def test_iter_streams_each_chunk_before_the_node_ends(make_runner: Callable[[], AsyncRunner]) -> None:
    """Chunk events arrive between the generator's NodeStart and NodeEnd, in yield order."""

    async def main() -> list[BaseEvent]:
        return [e async for e in make_runner().iter(story_graph, {"prompt": "p"})]

    tell_events = [e for e in asyncio.run(main()) if getattr(e, "node_name", None) == "tell"]
    assert [type(e) for e in tell_events] == [
        NodeStartEvent, *[StreamingChunkEvent] * 4, NodeEndEvent,
    ]
    assert "".join(e.chunk for e in tell_events[1:-1]) == "Once upon a time"


def test_iter_result_is_available_after_exhaustion(make_runner: Callable[[], AsyncRunner]) -> None:
    """After the last event the iterator's result holds the run's RunResult."""

    async def main() -> Any:
        stream = make_runner().iter(story_graph, {"prompt": "p"})
        async for _ in stream:
            pass
        return stream.result

    result = asyncio.run(main())
    assert result.status == RunStatus.COMPLETED
    assert result["shout"] == "ONCE UPON A TIME"


def test_iter_works_as_an_async_context_manager(make_runner: Callable[[], AsyncRunner]) -> None:
    """``async with runner.iter(...) as events`` iterates the same events and exposes .result."""

    async def main() -> tuple[list[str], Any]:
        async with make_runner().iter(story_graph, prompt="p") as events:
            names = [type(e).__name__ async for e in events]
        return names, events.result

    names, result = asyncio.run(main())
    assert names[0] == "RunStartEvent"
    assert names[-1] == "RunEndEvent"
    assert result["story"] == "Once upon a time"


def test_iter_accepts_run_options(make_runner: Callable[[], AsyncRunner]) -> None:
    """Options of run() pass through iter(): continue mode ends with a FAILED RunEndEvent and result."""

    @node(output_name="y")
    def broken(x: int) -> int:
        raise ValueError("nope")

    async def main() -> tuple[BaseEvent, Any]:
        stream = make_runner().iter(Graph([broken]), {"x": 1}, error_handling="continue")
        events = [e async for e in stream]
        return events[-1], stream.result

    last, result = asyncio.run(main())
    assert last.status == RunStatus.FAILED
    assert last.error == "ValueError: nope"
    assert isinstance(result.error, ValueError)


def test_iter_raises_a_node_failure_in_raise_mode(make_runner: Callable[[], AsyncRunner]) -> None:
    """In raise mode the node's own exception comes out of the async for, after the RunEndEvent."""

    @node(output_name="y")
    def broken(x: int) -> int:
        raise ValueError("nope")

    seen: list[str] = []

    async def main() -> None:
        async for event in make_runner().iter(Graph([broken]), {"x": 1}):
            seen.append(type(event).__name__)

    with pytest.raises(ValueError, match="nope"):
        asyncio.run(main())
    assert seen[-1] == "RunEndEvent"


def test_breaking_out_inside_async_with_cancels_the_run(make_runner: Callable[[], AsyncRunner]) -> None:
    """Leaving ``async with`` early cancels the run: later nodes never run and no task is left behind."""
    ran: list[str] = []

    @node(output_name="a")
    async def first(x: int) -> int:
        ran.append("first")
        return x

    @node(output_name="b")
    async def second(a: int) -> int:
        await asyncio.sleep(0.2)
        ran.append("second")
        return a

    @node(output_name="c")
    def third(b: int) -> int:
        ran.append("third")
        return b

    async def main() -> set[asyncio.Task[Any]]:
        async with make_runner().iter(Graph([first, second, third]), {"x": 1}) as events:
            async for event in events:
                if isinstance(event, NodeEndEvent) and event.node_name == "first":
                    break
        return asyncio.all_tasks() - {asyncio.current_task()}

    leftover = asyncio.run(main())
    assert ran == ["first"]
    assert leftover == set()


def test_aclose_cancels_the_run(make_runner: Callable[[], AsyncRunner]) -> None:
    """Calling aclose() on an unfinished iterator cancels the run and leaves no task behind."""
    ran: list[str] = []

    @node(output_name="b")
    async def slow(x: int) -> int:
        await asyncio.sleep(0.2)
        ran.append("slow")
        return x

    async def main() -> set[asyncio.Task[Any]]:
        stream = make_runner().iter(Graph([slow]), {"x": 1})
        first = await stream.__anext__()
        assert isinstance(first, RunStartEvent)
        await stream.aclose()
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(main()) == set()
    assert ran == []


def test_seed_002_match_statement_example_works(make_runner: Callable[[], AsyncRunner]) -> None:
    """Seed 002's ``match event:`` loop prints chunks, node timings, and breaks on an interrupt."""

    @node(output_name="draft")
    async def write(prompt: str) -> AsyncIterator[str]:
        for word in ("Tell", "me", "a", "story"):
            yield word

    @interrupt(output_name="decision")
    def approve(draft: list[str]) -> None:
        return None

    @node(output_name="final")
    def publish(decision: str) -> str:
        return decision

    printed: list[str] = []
    runner = make_runner()
    graph = Graph([write, approve, publish])

    async def main() -> None:
        async for event in runner.iter(graph, values={"prompt": "Tell me a story"}):
            match event:
                case StreamingChunkEvent(chunk=chunk):
                    printed.append(chunk)
                case NodeEndEvent(node_name=name, duration_ms=ms):
                    printed.append(f"[{name} completed in {ms:.1f}ms]")
                case InterruptEvent():
                    printed.append("interrupt")
                    break

    asyncio.run(main())
    assert printed[:4] == ["Tell", "me", "a", "story"]
    assert printed[4].startswith("[write completed in ")
    assert printed[5:] == ["interrupt"]


def test_breaking_out_of_a_plain_async_for_cancels_the_run(make_runner: Callable[[], AsyncRunner]) -> None:
    """A plain ``break`` (no ``async with``) also cancels the run once the loop drops the iterator."""
    ran: list[str] = []

    @node(output_name="a")
    async def first(x: int) -> int:
        return x

    async def main() -> None:
        started, cancelled = asyncio.Event(), asyncio.Event()

        @node(output_name="b")
        async def long_call(a: int) -> int:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            ran.append("long_call")
            return a

        async for event in make_runner().iter(Graph([first, long_call]), {"x": 1}):
            if isinstance(event, NodeStartEvent) and event.node_name == "long_call":
                await started.wait()  # the node itself runs (a durable step starts a moment later)
                break
        await asyncio.wait_for(cancelled.wait(), timeout=5)

    asyncio.run(main())
    assert ran == []


def test_a_cancelled_run_still_ends_its_span_for_other_processors(make_runner: Callable[[], AsyncRunner]) -> None:
    """Leaving iter() early cancels the run; a user processor still sees its RunEndEvent."""
    seen: list[object] = []

    class Recorder(EventProcessor):
        def on_run_end(self, event: RunEndEvent) -> None:
            seen.append(event)

    @node(output_name="a")
    async def first(x: int) -> int:
        return x

    @node(output_name="b")
    async def second(a: int) -> int:
        await asyncio.sleep(10)
        return a

    async def main() -> None:
        runner = make_runner()
        async with runner.iter(Graph([first, second]), {"x": 1}, event_processors=[Recorder()]) as events:
            async for event in events:
                if getattr(event, "node_name", None) == "second":
                    break

    asyncio.run(main())
    (end,) = seen
    assert end.status == "stopped"  # R2-6: cancelled, not failed by a node
    assert end.error.startswith("CancelledError")
