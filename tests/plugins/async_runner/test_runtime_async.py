"""AsyncRunner on the shared loop: responsiveness, cancellation, pauses as outcomes."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from hypergraph import END, AsyncRunner, Graph, interrupt, node, route
from hypergraph.events import EventProcessor, StreamingChunkEvent


def test_a_sync_only_infinite_loop_can_be_cancelled_with_wait_for():
    """The loop yields to the event loop between supersteps, so wait_for() cancels it."""

    @node(output_name="count")
    def inc(count: int) -> int:
        return count + 1

    @route(targets=["inc", END])
    def again(count: int) -> object:
        return "inc"

    graph = Graph([inc, again], entrypoint="inc")

    async def main() -> None:
        await asyncio.wait_for(
            AsyncRunner().run(graph, {"count": 0}, max_iterations=math.inf), 0.3
        )

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(main())


def test_iter_delivers_sync_generator_chunks_as_they_are_produced():
    """A sync generator's chunk events reach an iter() consumer before the next chunk."""
    seen: list[Any] = []
    observed_before_next: list[bool] = []

    @node(output_name="tokens")
    def stream(n: int):
        for i in range(n):
            if i:
                observed_before_next.append(i - 1 in seen)
            yield i

    async def main() -> None:
        async for event in AsyncRunner().iter(Graph([stream]), {"n": 4}):
            if isinstance(event, StreamingChunkEvent):
                seen.append(event.chunk)

    asyncio.run(main())
    assert seen == [0, 1, 2, 3]
    assert observed_before_next == [True, True, True]


class Halt(BaseException):
    """Stands in for KeyboardInterrupt inside one map item."""


def test_a_map_item_raising_a_base_exception_cancels_and_awaits_its_siblings():
    """No item is left running after map() raises (issue 7 item 8)."""
    finished: list[str] = []
    started: list[int] = []
    siblings_running = asyncio.Event()

    @node(output_name="y")
    async def work(x: int) -> int:
        if x == 0:
            await siblings_running.wait()
            raise Halt
        started.append(x)
        if len(started) == 2:
            siblings_running.set()
        try:
            await asyncio.sleep(30)
        finally:
            finished.append(f"cleaned {x}")
        return x

    async def main() -> None:
        await AsyncRunner().map(Graph([work]), {"x": [0, 1, 2]}, map_over="x")
        raise AssertionError("map() should have raised")

    with pytest.raises(Halt):
        asyncio.run(main())
    assert sorted(finished) == ["cleaned 1", "cleaned 2"]


def test_resuming_a_nested_interrupt_restores_the_nested_run():
    """A nested pause carries the inner run's snapshot: the inner work before it is kept."""
    calls: list[str] = []

    @node(output_name="draft")
    def draft(query: str) -> str:
        calls.append("draft")
        return f"Draft: {query}"

    @interrupt(output_name="decision")
    def approval(draft: str) -> None:
        return None

    @node(output_name="result")
    def finalize(decision: str, draft: str) -> str:
        calls.append("finalize")
        return f"{decision}: {draft}"

    inner = Graph([draft, approval, finalize], name="review")
    outer = Graph([inner.as_node()])

    async def main() -> None:
        runner = AsyncRunner()
        paused = await runner.run(outer, {"query": "hi"})
        assert paused.paused and paused.pause.response_key == "review.decision"
        assert "review" in paused.checkpoint.children
        done = await runner.run(outer, {"review.decision": "yes"}, checkpoint=paused.checkpoint)
        assert done["result"] == "yes: Draft: hi"

    asyncio.run(main())
    assert calls == ["draft", "finalize"]


def test_each_resume_answers_the_pause_pending_now():
    """R2-4: a loop that asks twice pauses twice; the second answer is used at the second visit."""
    published: list[str] = []

    @node(output_name="draft")
    def write(prompt: str, feedback: str = "") -> str:
        return prompt + (f" ({feedback})" if feedback else "")

    @interrupt(output_name="decision")
    def review(draft: str) -> None:
        return None

    @route(targets=["revise", "publish"])
    def gate(decision: str) -> str:
        return "publish" if decision == "approve" else "revise"

    @node(output_name="feedback")
    def revise(decision: str) -> str:
        return decision

    @node(output_name="published")
    def publish(draft: str) -> str:
        published.append(draft)
        return draft

    graph = Graph([write, review, gate, revise, publish], entrypoint="write")

    async def main() -> None:
        runner = AsyncRunner()
        first = await runner.run(graph, {"prompt": "essay"})
        second = await runner.run(graph, {"decision": "shorter"}, checkpoint=first.checkpoint)
        assert second.paused and second["draft"] == "essay (shorter)"
        third = await runner.run(graph, {"decision": "approve"}, checkpoint=second.checkpoint)
        assert third.completed

    asyncio.run(main())
    assert published == ["essay (shorter)"]


def test_a_cancelled_run_reports_stopped_to_processors():
    """R2-6: cancellation ends the run with RunEnd(status='stopped'), not 'failed'."""
    ends: list[Any] = []

    class Recorder(EventProcessor):
        def on_run_end(self, event: Any) -> None:
            ends.append(event.status)

    running = asyncio.Event()

    @node(output_name="y")
    async def slow(x: int) -> int:
        running.set()
        await asyncio.sleep(30)
        return x

    async def main() -> None:
        task = asyncio.ensure_future(
            AsyncRunner().run(Graph([slow]), {"x": 1}, event_processors=[Recorder()])
        )
        await running.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert ends == ["stopped"]


def test_iter_applies_backpressure_to_a_slow_consumer():
    """The event buffer is bounded: the run waits for the consumer instead of racing ahead."""
    from hypergraph_async.stream import EVENT_BUFFER

    produced = {"count": 0}
    seen_at_first_chunk: list[int] = []

    @node(output_name="tokens")
    async def stream(n: int):
        for i in range(n):
            produced["count"] += 1
            yield i  # no await in between: without backpressure this runs to the end at once

    async def main() -> None:
        async for event in AsyncRunner().iter(Graph([stream]), {"n": 5 * EVENT_BUFFER}):
            if isinstance(event, StreamingChunkEvent) and not seen_at_first_chunk:
                seen_at_first_chunk.append(produced["count"])

    asyncio.run(main())
    assert produced["count"] == 5 * EVENT_BUFFER
    assert seen_at_first_chunk[0] <= EVENT_BUFFER + 2


def test_in_thread_sync_nodes_run_in_worker_threads_concurrently():
    """@node(in_thread=True): blocking sync calls run off the event loop, side by side."""
    import threading

    loop_thread = threading.get_ident()
    both_running = threading.Barrier(2, timeout=10)
    threads: list[int] = []

    @node(output_name="a", in_thread=True)
    def left(x: int) -> int:
        threads.append(threading.get_ident())
        both_running.wait()  # deadlocks unless the two run at the same time
        return x + 1

    @node(output_name="b", in_thread=True)
    def right(x: int) -> int:
        threads.append(threading.get_ident())
        both_running.wait()
        return x + 2

    result = asyncio.run(AsyncRunner().run(Graph([left, right]), {"x": 1}))
    assert dict(result.values) == {"a": 2, "b": 3}
    assert loop_thread not in threads and len(set(threads)) == 2


def test_in_thread_nodes_count_against_max_concurrency():
    """A worker-thread node holds a permit of the shared budget while it runs."""
    import threading

    lock = threading.Lock()
    running = {"now": 0, "peak": 0}

    @node(output_name="y", in_thread=True)
    def block(x: int) -> int:
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        total = sum(range(20_000))  # some real work while holding the permit
        with lock:
            running["now"] -= 1
        return x + total * 0

    result = asyncio.run(
        AsyncRunner().map(Graph([block]), {"x": list(range(12))}, map_over="x", max_concurrency=2)
    )
    assert result["y"] == list(range(12))
    assert running["peak"] <= 2


def test_in_thread_is_refused_for_async_functions():
    """in_thread=True is for blocking sync functions; an async one is a TypeError saying so."""
    with pytest.raises(TypeError, match="in_thread=True is for blocking sync functions"):

        @node(output_name="y", in_thread=True)
        async def fetch(x: int) -> int:
            return x
