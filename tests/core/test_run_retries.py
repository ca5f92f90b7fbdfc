"""SyncRunner honours node retry policies: one outcome per node, events, gates, generators, cache."""

from __future__ import annotations

from typing import Any

import pytest

from hypergraph import (
    END,
    Graph,
    InMemoryCache,
    NodeEndEvent,
    NodeErrorEvent,
    NodeRetryEvent,
    NodeStartEvent,
    RetryPolicy,
    RunStatus,
    SyncRunner,
    node,
    route,
)
from hypergraph.events import EventProcessor, StreamingChunkEvent

NOW = RetryPolicy(max_attempts=3, initial_delay=0, jitter=False)


class Recorder(EventProcessor):
    def __init__(self) -> None:
        self.events: list[Any] = []

    def on_event(self, event: Any) -> None:
        self.events.append(event)

    def names(self, *types: type) -> list[str]:
        return [type(e).__name__ for e in self.events if isinstance(e, types)]


def flaky_node(failures: int, policy: RetryPolicy = NOW, error: type[Exception] = ConnectionError):
    """A node ``fetch(x) -> y`` failing ``failures`` times, with its call counter."""
    calls: list[int] = []

    @node(output_name="y", retry=policy)
    def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) <= failures:
            raise error(f"failure {len(calls)}")
        return x * 10

    return fetch, calls


def test_a_flaky_node_succeeds_after_failing_twice() -> None:
    """Two failures then success: the run completes with the node's value."""
    fetch, calls = flaky_node(2)
    result = SyncRunner().run(Graph([fetch]), x=4)
    assert result["y"] == 40 and len(calls) == 3


def test_retries_emit_events_in_order_inside_one_node_execution() -> None:
    """NodeStart, one NodeRetry per failed attempt, then one NodeEnd, all on the node's span."""
    fetch, _ = flaky_node(2)
    recorder = Recorder()
    SyncRunner().run(Graph([fetch]), x=1, event_processors=[recorder])
    node_events = [e for e in recorder.events if getattr(e, "node_name", None) == "fetch"]
    assert [type(e).__name__ for e in node_events] == [
        "NodeStartEvent", "NodeRetryEvent", "NodeRetryEvent", "NodeEndEvent",
    ]
    retries = [e for e in node_events if isinstance(e, NodeRetryEvent)]
    assert [(e.attempt, e.max_attempts, e.error, e.delay_s) for e in retries] == [
        (1, 3, "ConnectionError: failure 1", 0.0), (2, 3, "ConnectionError: failure 2", 0.0),
    ]
    assert {e.span_id for e in node_events} == {node_events[0].span_id}


def test_backoff_delays_are_reported_from_the_policy() -> None:
    """The delay of each retry follows initial_delay * backoff ** n (no jitter)."""
    policy = RetryPolicy(max_attempts=3, initial_delay=0.001, backoff=3.0, jitter=False)
    fetch, _ = flaky_node(2, policy)
    recorder = Recorder()
    SyncRunner().run(Graph([fetch]), x=1, event_processors=[recorder])
    delays = [e.delay_s for e in recorder.events if isinstance(e, NodeRetryEvent)]
    assert delays == pytest.approx([0.001, 0.003])


def test_exhausted_retries_raise_the_last_error_with_attempt_notes() -> None:
    """After max_attempts the node's own last exception propagates, annotated."""
    fetch, calls = flaky_node(5)
    recorder = Recorder()
    with pytest.raises(ConnectionError, match="failure 3") as caught:
        SyncRunner().run(Graph([fetch]), x=1, event_processors=[recorder])
    assert len(calls) == 3
    attempts = [n for n in caught.value.__notes__ if n.startswith("  attempt ")]
    assert attempts[-1] == "  attempt 3: ConnectionError: failure 3"
    assert recorder.names(NodeStartEvent, NodeRetryEvent, NodeEndEvent, NodeErrorEvent) == [
        "NodeStartEvent", "NodeRetryEvent", "NodeRetryEvent", "NodeErrorEvent",
    ]


def test_continue_mode_returns_the_annotated_failure() -> None:
    """error_handling='continue' keeps the final exception, notes included, on the result."""
    fetch, _ = flaky_node(5)
    result = SyncRunner().run(Graph([fetch]), x=1, error_handling="continue")
    assert result.status == RunStatus.FAILED
    assert "attempt 3 of 3" in result.error.__notes__[0]


def test_errors_outside_retry_on_are_not_retried() -> None:
    """A KeyError under a policy retrying ConnectionError fails on the first call."""
    policy = RetryPolicy(max_attempts=3, initial_delay=0, retry_on=(ConnectionError,))
    fetch, calls = flaky_node(1, policy, error=KeyError)
    with pytest.raises(KeyError):
        SyncRunner().run(Graph([fetch]), x=1)
    assert len(calls) == 1


def test_the_graph_default_retries_nodes_without_a_policy() -> None:
    """Graph(retry=...) covers a node declared without retry=."""
    calls: list[int] = []

    @node(output_name="y")
    def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ConnectionError("once")
        return x

    assert SyncRunner().run(Graph([fetch], retry=NOW), x=3)["y"] == 3
    calls.clear()
    with pytest.raises(ConnectionError):
        SyncRunner().run(Graph([fetch]), x=3)


def test_a_gate_retries_like_a_node() -> None:
    """A routing function failing once is retried, and its decision is applied."""
    calls: list[int] = []

    @node(output_name="count")
    def bump(count: int) -> int:
        return count + 1

    @route(targets=["bump", END], retry=NOW)
    def again(count: int) -> object:
        calls.append(count)
        if len(calls) == 1:
            raise ConnectionError("flaky gate")
        return END if count >= 3 else "bump"

    result = SyncRunner().run(Graph([bump, again], entrypoint="bump"), count=0)
    assert result["count"] == 3


def test_a_generator_failing_before_its_first_chunk_is_retried() -> None:
    """No chunk streamed yet: the generator restarts and its value is complete."""
    calls: list[int] = []

    @node(output_name="tokens", retry=NOW)
    def stream(n: int):  # type: ignore[no-untyped-def]
        calls.append(n)
        if len(calls) == 1:
            raise ConnectionError("before any chunk")
        yield from range(n)

    recorder = Recorder()
    result = SyncRunner().run(Graph([stream]), n=3, event_processors=[recorder])
    assert result["tokens"] == [0, 1, 2] and len(calls) == 2
    assert [e.chunk for e in recorder.events if isinstance(e, StreamingChunkEvent)] == [0, 1, 2]


def test_a_generator_failing_after_a_chunk_is_not_retried() -> None:
    """Chunks already streamed: the failure propagates, with the reason in its notes."""
    calls: list[int] = []

    @node(output_name="tokens", retry=NOW)
    def stream(n: int):  # type: ignore[no-untyped-def]
        calls.append(n)
        yield 0
        raise ConnectionError("mid-stream")

    with pytest.raises(ConnectionError, match="mid-stream"):
        SyncRunner().run(Graph([stream]), n=3)
    assert len(calls) == 1


CACHED_CALLS: list[int] = []


def test_a_cached_node_stores_only_its_successful_value() -> None:
    """The retried node's value is cached once; the next run hits without calling it."""
    CACHED_CALLS.clear()  # a global, not a closure value: closures are part of the cache key

    @node(output_name="y", retry=NOW, cache=True)
    def fetch(x: int) -> int:
        CACHED_CALLS.append(x)
        if len(CACHED_CALLS) == 1:
            raise ConnectionError("once")
        return x + 1

    runner = SyncRunner(cache=InMemoryCache())
    assert runner.run(Graph([fetch]), x=1)["y"] == 2
    recorder = Recorder()
    assert runner.run(Graph([fetch]), x=1, event_processors=[recorder])["y"] == 2
    assert len(CACHED_CALLS) == 2
    assert [e.cached for e in recorder.events if isinstance(e, NodeEndEvent)] == [True]


def test_a_cached_node_that_never_succeeds_stores_nothing() -> None:
    """Exhausted retries leave the cache empty: the next run calls the function again."""
    calls: list[int] = []

    @node(output_name="y", retry=RetryPolicy(max_attempts=2, initial_delay=0), cache=True)
    def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) <= 2:
            raise ConnectionError("down")
        return x

    runner = SyncRunner(cache=InMemoryCache())
    with pytest.raises(ConnectionError):
        runner.run(Graph([fetch]), x=1)
    assert runner.run(Graph([fetch]), x=1)["y"] == 1
    assert len(calls) == 3


def test_nodes_without_a_policy_keep_running_in_a_graph_with_one() -> None:
    """Policies on one node change nothing for the others."""
    fetch, _ = flaky_node(1)

    @node(output_name="z")
    def after(y: int) -> int:
        return y + 1

    assert SyncRunner().run(Graph([fetch, after]), x=1)["z"] == 11
