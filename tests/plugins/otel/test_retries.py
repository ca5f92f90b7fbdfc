"""OpenTelemetryProcessor and node retries: one span per node, an event per retried attempt."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.trace import StatusCode

from hypergraph import AsyncRunner, Graph, RetryPolicy, SyncRunner, node

POLICY = RetryPolicy(max_attempts=3, initial_delay=0, jitter=False)


def flaky(failures: int) -> Graph:
    """``fetch`` fails ``failures`` times with ConnectionError, then returns."""
    calls: list[int] = []

    @node(output_name="y", retry=POLICY)
    def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) <= failures:
            raise ConnectionError(f"failure {len(calls)}")
        return x

    return Graph([fetch], name="calls")


def test_each_retried_attempt_is_an_event_on_the_one_node_span(tracing):
    """Two retries: one ``fetch`` span with two retry events and hypergraph.attempts 3."""
    SyncRunner().run(flaky(2), {"x": 1}, event_processors=[tracing.processor(set_success_status=True)])
    span = tracing.tree().named("fetch")
    retries = [e for e in span.events if e.name == "hypergraph.node.retry"]
    assert [dict(e.attributes or {}) for e in retries] == [
        {
            "hypergraph.attempt": n, "hypergraph.max_attempts": 3, "hypergraph.retry.delay_s": 0.0,
            "exception.type": "ConnectionError", "exception.message": f"failure {n}",
        }
        for n in (1, 2)
    ]
    assert span.attributes["hypergraph.attempts"] == 3
    assert span.status.status_code is StatusCode.OK


def test_exhausted_retries_end_the_node_span_with_error_status(tracing):
    """The span records the retried attempts, then the final exception and ERROR."""
    with pytest.raises(ConnectionError):
        SyncRunner().run(flaky(5), {"x": 1}, event_processors=[tracing.processor()])
    span = tracing.tree().named("fetch")
    assert [e.name for e in span.events] == [
        "hypergraph.node.retry", "hypergraph.node.retry", "exception",
    ]
    assert span.attributes["hypergraph.attempts"] == 3
    assert span.status.status_code is StatusCode.ERROR
    assert "failure 3" in (span.status.description or "")


def test_nodes_that_never_retried_have_no_attempts_attribute(tracing):
    """Success on the first attempt leaves the span as it was before policies existed."""
    SyncRunner().run(flaky(0), {"x": 1}, event_processors=[tracing.processor()])
    span = tracing.tree().named("fetch")
    assert "hypergraph.attempts" not in span.attributes
    assert not span.events


def test_async_retries_are_recorded_the_same_way(tracing):
    """AsyncRunner's retries become the same span events."""
    calls: list[int] = []

    @node(output_name="y", retry=POLICY)
    async def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ConnectionError("once")
        return x

    asyncio.run(AsyncRunner().run(Graph([fetch]), {"x": 1}, event_processors=[tracing.processor()]))
    span = tracing.tree().named("fetch")
    assert [e.name for e in span.events] == ["hypergraph.node.retry"]
    assert span.attributes["hypergraph.attempts"] == 2
