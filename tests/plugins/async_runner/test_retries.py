"""AsyncRunner honours node policies: retries, timeouts, slots free during backoff, cache, events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hypergraph import (
    AsyncRunner,
    Graph,
    InMemoryCache,
    NodeEndEvent,
    NodeRetryEvent,
    NodeTimeoutError,
    RetryPolicy,
    RunStatus,
    interrupt,
    node,
)
from hypergraph.events import StreamingChunkEvent

from .conftest import Recorder

NOW = RetryPolicy(max_attempts=3, initial_delay=0, jitter=False)


def run(graph: Graph, runner: AsyncRunner | None = None, **options: Any) -> Any:
    return asyncio.run((runner or AsyncRunner()).run(graph, **options))


def test_a_flaky_async_node_succeeds_after_two_failures() -> None:
    """An async node failing twice completes on the third attempt."""
    calls: list[int] = []

    @node(output_name="y", retry=NOW)
    async def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) <= 2:
            raise ConnectionError(f"failure {len(calls)}")
        return x * 10

    recorder = Recorder()
    assert run(Graph([fetch]), x=2, event_processors=[recorder])["y"] == 20
    assert recorder.kinds("fetch") == [
        "NodeStartEvent", "NodeRetryEvent", "NodeRetryEvent", "NodeEndEvent",
    ]
    assert [e.attempt for e in recorder.of(NodeRetryEvent)] == [1, 2]


def test_a_sync_node_retries_on_the_async_runner() -> None:
    """Sync nodes run inline and retry too; their backoff is awaited, not slept."""
    calls: list[int] = []

    @node(output_name="y", retry=NOW)
    def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ConnectionError("once")
        return x

    assert run(Graph([fetch]), x=5)["y"] == 5 and len(calls) == 2


def test_an_async_node_past_its_timeout_fails_with_node_timeout_error() -> None:
    """timeout= cancels a hanging attempt; the error names the node and the limit."""

    @node(output_name="y", timeout=0.01)
    async def hang(x: int) -> int:
        await asyncio.Event().wait()
        return x

    recorder = Recorder()
    with pytest.raises(NodeTimeoutError, match=r"'hang' timed out after 0\.01 s"):
        run(Graph([hang]), x=1, event_processors=[recorder])
    assert recorder.kinds("hang") == ["NodeStartEvent", "NodeErrorEvent"]


def test_a_timed_out_attempt_is_retried_when_retry_on_includes_timeouts() -> None:
    """The first attempt hangs past the timeout, the second answers: the run completes."""
    calls: list[int] = []

    @node(output_name="y", timeout=0.01,
          retry=RetryPolicy(max_attempts=2, initial_delay=0, retry_on=(TimeoutError,)))
    async def sometimes_hangs(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            await asyncio.Event().wait()
        return x

    recorder = Recorder()
    assert run(Graph([sometimes_hangs]), x=7, event_processors=[recorder])["y"] == 7
    (retry,) = recorder.of(NodeRetryEvent)
    assert retry.error_type == "NodeTimeoutError"


def test_a_node_backing_off_does_not_hold_a_concurrency_slot() -> None:
    """With max_concurrency=1, a sibling runs while the flaky node waits out its backoff."""
    order: list[str] = []

    @node(output_name="a", retry=RetryPolicy(max_attempts=2, initial_delay=0.05, jitter=False))
    async def flaky(x: int) -> int:
        order.append("flaky")
        if order.count("flaky") == 1:
            raise ConnectionError("once")
        return x

    @node(output_name="b")
    async def steady(x: int) -> int:
        order.append("steady")
        return x

    result = run(Graph([flaky, steady]), x=1, max_concurrency=1)
    assert result.status == RunStatus.COMPLETED
    assert order == ["flaky", "steady", "flaky"]


def test_an_async_generator_is_retried_only_before_its_first_chunk() -> None:
    """Failing before a chunk restarts the stream; the joined value is complete."""
    calls: list[int] = []

    @node(output_name="text", retry=NOW)
    async def stream(n: int) -> Any:
        calls.append(n)
        if len(calls) == 1:
            raise ConnectionError("not yet")
        for i in range(n):
            yield str(i)

    recorder = Recorder()
    result = run(Graph([stream]), n=3, event_processors=[recorder])
    assert result["text"] == ["0", "1", "2"] and len(calls) == 2
    assert [e.chunk for e in recorder.of(StreamingChunkEvent)] == ["0", "1", "2"]


def test_an_async_generator_failing_mid_stream_propagates() -> None:
    """After the first chunk a failure is not retried: chunks were already streamed."""
    calls: list[int] = []

    @node(output_name="text", retry=NOW)
    async def stream(n: int) -> Any:
        calls.append(n)
        yield "0"
        raise ConnectionError("mid-stream")

    with pytest.raises(ConnectionError, match="mid-stream"):
        run(Graph([stream]), n=3)
    assert len(calls) == 1


CACHED_CALLS: list[int] = []


def test_a_cached_async_node_stores_only_the_successful_value() -> None:
    """The retried value is stored once; the next run is a cache hit without a call."""
    CACHED_CALLS.clear()  # a global, not a closure value: closures are part of the cache key

    @node(output_name="y", retry=NOW, cache=True)
    async def fetch(x: int) -> int:
        CACHED_CALLS.append(x)
        if len(CACHED_CALLS) == 1:
            raise ConnectionError("once")
        return x + 1

    runner = AsyncRunner(cache=InMemoryCache())
    assert run(Graph([fetch]), runner, x=1)["y"] == 2
    recorder = Recorder()
    assert run(Graph([fetch]), runner, x=1, event_processors=[recorder])["y"] == 2
    assert len(CACHED_CALLS) == 2
    assert [e.cached for e in recorder.of(NodeEndEvent)] == [True]


def test_an_interrupt_handler_is_retried_and_its_answer_used() -> None:
    """An auto-answering async handler that fails once answers on its second attempt."""
    calls: list[str] = []

    @interrupt(output_name="decision", retry=NOW, timeout=5)
    async def approve(draft: str) -> str:
        calls.append(draft)
        if len(calls) == 1:
            raise ConnectionError("reviewer service down")
        return "approved"

    @node(output_name="final")
    def finish(decision: str) -> str:
        return decision.upper()

    assert run(Graph([approve, finish]), draft="d")["final"] == "APPROVED"
    assert len(calls) == 2


def test_map_items_retry_independently() -> None:
    """Each map item gets its own attempts; every item completes."""
    seen: dict[int, int] = {}

    @node(output_name="y", retry=NOW)
    async def fetch(x: int) -> int:
        seen[x] = seen.get(x, 0) + 1
        if seen[x] == 1:
            raise ConnectionError(f"first call for {x}")
        return x

    results = asyncio.run(
        AsyncRunner().map(Graph([fetch]), {"x": [1, 2, 3]}, map_over="x", max_concurrency=2)
    )
    assert results["y"] == [1, 2, 3] and seen == {1: 2, 2: 2, 3: 2}


def test_an_async_interrupt_handler_past_its_timeout_fails_the_run() -> None:
    """A handler hanging past timeout= raises NodeTimeoutError instead of pausing."""

    @interrupt(output_name="decision", timeout=0.01)
    async def ask(draft: str) -> str:
        await asyncio.Event().wait()
        return "never"

    with pytest.raises(NodeTimeoutError, match="'ask' timed out"):
        run(Graph([ask]), draft="d")
