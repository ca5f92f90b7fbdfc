"""Spec audit: SyncRunner event and cache rules not asserted elsewhere (SPEC EV1-EV7, CA4, CA8)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hypergraph import END, Graph, InMemoryCache, RunStatus, SyncRunner, node, route
from hypergraph.events import (
    AsyncEventProcessor,
    EventProcessor,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    StreamingChunkEvent,
)


class Recorder(EventProcessor):
    """Keeps every event in order."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def on_event(self, event: Any) -> None:
        self.events.append(event)

    def kinds(self, node_name: str) -> list[str]:
        return [type(e).__name__ for e in self.events if getattr(e, "node_name", None) == node_name]


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@route(targets=["shout", END], cache=True)
def pick(text: str) -> object:
    return "shout"


@node(output_name="loud")
def shout(text: str) -> str:
    return text.upper()


@node(output_name="tokens", cache=True)
def tokens(text: str):  # type: ignore[no-untyped-def]
    yield from text.split()


# ---------------------------------------------------------------------------------------- EV1/EV2


def test_events_are_frozen_dataclasses_with_base_fields() -> None:
    """EV1: events are frozen values carrying run_id, span_id, workflow_id and an epoch timestamp."""
    recorder = Recorder()
    before = time.time()
    SyncRunner().run(Graph([double]), {"x": 1}, event_processors=[recorder], workflow_id="wf-1")
    after = time.time()
    for event in recorder.events:
        assert event.run_id.startswith("run-") and event.span_id
        assert before <= event.timestamp <= after
        assert event.workflow_id == "wf-1"
        with pytest.raises(AttributeError):
            event.run_id = "other"  # type: ignore[misc]


def test_node_events_of_map_items_carry_the_item_index() -> None:
    """EV1: node events inside a map item carry that item's item_index."""
    recorder = Recorder()
    SyncRunner().map(Graph([double]), {"x": [1, 2]}, map_over="x", event_processors=[recorder])
    starts = [e for e in recorder.events if isinstance(e, NodeStartEvent)]
    assert [e.item_index for e in starts] == [0, 1]


def test_route_decision_event_points_at_the_gate_node_span() -> None:
    """EV2/EV3: RouteDecisionEvent carries the decision and node_span_id equal to the gate's node span."""
    recorder = Recorder()
    SyncRunner().run(Graph([pick, shout]), {"text": "hi"}, event_processors=[recorder])
    (decision,) = [e for e in recorder.events if isinstance(e, RouteDecisionEvent)]
    start = next(
        e for e in recorder.events if isinstance(e, NodeStartEvent) and e.node_name == "pick"
    )
    assert decision.decision == "shout"
    assert decision.node_span_id == decision.span_id == start.span_id


def test_run_end_status_is_a_run_status_member() -> None:
    """EV2: RunEndEvent.status is a RunStatus value and error is None on success."""
    recorder = Recorder()
    SyncRunner().run(Graph([double]), {"x": 1}, event_processors=[recorder])
    end = recorder.events[-1]
    assert isinstance(end, RunEndEvent)
    assert end.status is RunStatus.COMPLETED
    assert end.error is None
    assert end.duration_ms >= 0


# ---------------------------------------------------------------------------------------- EV3


def test_chunk_events_have_their_own_span_under_the_node_span() -> None:
    """EV3: each StreamingChunkEvent has its own span id and the node's span as parent."""
    recorder = Recorder()
    SyncRunner().run(Graph([tokens]), {"text": "a b"}, event_processors=[recorder])
    start = next(e for e in recorder.events if isinstance(e, NodeStartEvent))
    chunks = [e for e in recorder.events if isinstance(e, StreamingChunkEvent)]
    assert len(chunks) == 2
    assert all(c.parent_span_id == start.span_id for c in chunks)
    assert start.span_id not in {c.span_id for c in chunks}


def test_callers_parent_span_becomes_the_map_runs_parent() -> None:
    """EV3: a caller-supplied parent_span_id is the parent of the map-level run span."""
    recorder = Recorder()
    SyncRunner().map(
        Graph([double]),
        {"x": [1, 2]},
        map_over="x",
        event_processors=[recorder],
        parent_span_id="caller",
    )
    map_start, *items = [e for e in recorder.events if isinstance(e, RunStartEvent)]
    assert map_start.is_map and map_start.parent_span_id == "caller"
    assert [i.parent_span_id for i in items] == [map_start.span_id] * 2


# ---------------------------------------------------------------------------------------- EV4


def test_cached_generator_miss_orders_start_miss_chunks_end() -> None:
    """EV4/CA4: a cache-enabled generator on a miss emits NodeStart, CacheMiss, chunks, NodeEnd."""
    recorder = Recorder()
    SyncRunner(cache=InMemoryCache()).run(
        Graph([tokens]), {"text": "a b"}, event_processors=[recorder]
    )
    assert recorder.kinds("tokens") == [
        "NodeStartEvent",
        "CacheMissEvent",
        "StreamingChunkEvent",
        "StreamingChunkEvent",
        "NodeEndEvent",
    ]


def test_cached_gate_miss_orders_miss_before_route_decision() -> None:
    """EV4/CA4: a cache-enabled gate on a miss emits NodeStart, CacheMiss, RouteDecision, NodeEnd."""
    recorder = Recorder()
    SyncRunner(cache=InMemoryCache()).run(
        Graph([pick, shout]), {"text": "hi"}, event_processors=[recorder]
    )
    assert recorder.kinds("pick") == [
        "NodeStartEvent",
        "CacheMissEvent",
        "RouteDecisionEvent",
        "NodeEndEvent",
    ]


def test_nodes_without_cache_true_emit_no_cache_events_even_with_a_backend() -> None:
    """CA4: CacheMiss is emitted only for cache-enabled nodes; others go straight from start to end."""
    recorder = Recorder()
    SyncRunner(cache=InMemoryCache()).run(Graph([double]), {"x": 1}, event_processors=[recorder])
    assert recorder.kinds("double") == ["NodeStartEvent", "NodeEndEvent"]


# ---------------------------------------------------------------------------------------- EV5/EV6


def test_plain_processor_dispatches_every_typed_hook_it_defines() -> None:
    """EV5: the base on_event calls each typed method (run, superstep, node, error, gate, cache, chunk)."""
    seen: set[str] = set()
    hooks = (
        "on_run_start",
        "on_run_end",
        "on_superstep_start",
        "on_node_start",
        "on_node_end",
        "on_node_error",
        "on_route_decision",
        "on_cache_hit",
        "on_cache_miss",
        "on_streaming_chunk",
    )

    class AllHooks(EventProcessor):
        pass

    for hook in hooks:
        setattr(AllHooks, hook, lambda self, event, hook=hook: seen.add(hook))

    @node(output_name="failed")
    def boom(loud: str) -> str:
        raise ValueError("no")

    runner = SyncRunner(cache=InMemoryCache())
    graph = Graph([pick, shout, tokens, boom])
    for _ in range(2):
        runner.run(graph, {"text": "a b"}, event_processors=[AllHooks()], error_handling="continue")
    assert seen == set(hooks)


def test_async_event_processor_gets_sync_calls_under_sync_runner() -> None:
    """EV6: SyncRunner calls an AsyncEventProcessor's sync on_event and shutdown, never the async ones."""

    class Both(AsyncEventProcessor):
        def __init__(self) -> None:
            self.calls: list[str] = []

        def on_event(self, event: Any) -> None:
            self.calls.append("on_event")

        async def on_event_async(self, event: Any) -> None:
            self.calls.append("on_event_async")

        def shutdown(self) -> None:
            self.calls.append("shutdown")

        async def shutdown_async(self) -> None:
            self.calls.append("shutdown_async")

    processor = Both()
    SyncRunner().run(Graph([double]), {"x": 1}, event_processors=[processor])
    assert processor.calls[-1] == "shutdown"
    assert set(processor.calls) == {"on_event", "shutdown"}
    assert processor.calls.count("shutdown") == 1


def test_shutdown_once_for_a_nested_map_on_sync_runner() -> None:
    """EV5: a mapped GraphNode under SyncRunner shuts the processor down once, after the top run."""
    calls: list[str] = []

    class P(EventProcessor):
        def on_run_end(self, event: Any) -> None:
            calls.append("end")

        def shutdown(self) -> None:
            calls.append("shutdown")

    gn = Graph([double], name="inner").as_node().map_over("x")
    SyncRunner().run(Graph([gn], name="outer"), {"x": [1, 2]}, event_processors=[P()])
    assert calls == ["end"] * 4 + ["shutdown"]


def test_shutdown_once_when_a_sync_run_fails() -> None:
    """EV5: a SyncRunner run that raises still shuts its processors down exactly once."""
    calls: list[str] = []

    class P(EventProcessor):
        def shutdown(self) -> None:
            calls.append("shutdown")

    @node(output_name="y")
    def boom(x: int) -> int:
        raise RuntimeError("no")

    outer = Graph([Graph([boom], name="inner").as_node()], name="outer")
    with pytest.raises(RuntimeError):
        SyncRunner().run(outer, {"x": 1}, event_processors=[P()])
    assert calls == ["shutdown"]


# ---------------------------------------------------------------------------------------- CA8


def test_delegated_runner_without_a_cache_does_not_use_the_parents() -> None:
    """CA8/R12: a child on an uncached SyncRunner is not cached even though the parent has a backend."""
    calls: list[int] = []

    @node(output_name="y", cache=True)
    def expensive(x: int) -> int:
        calls.append(x)
        return x * 10

    parent_cache = InMemoryCache()
    child = Graph([expensive], name="child").as_node(runner=SyncRunner())
    parent = SyncRunner(cache=parent_cache)
    for _ in range(2):
        assert parent.run(Graph([child], name="outer"), {"x": 1})["y"] == 10
    assert calls == [1, 1]
    assert len(parent_cache) == 0


def test_delegated_runner_caches_only_in_its_own_backend() -> None:
    """CA8: with caches on both sides, the delegated child's results land in the child's backend only."""

    @node(output_name="y", cache=True)
    def expensive(x: int) -> int:
        return x * 10

    own, parent_cache = InMemoryCache(), InMemoryCache()
    child = Graph([expensive], name="child").as_node(runner=SyncRunner(cache=own))
    SyncRunner(cache=parent_cache).run(Graph([child], name="outer"), {"x": 1})
    assert (len(own), len(parent_cache)) == (1, 0)


def test_grandchild_inherits_the_delegated_runner_and_its_cache() -> None:
    """R12/CA8: a nested graph without an override inside a delegated child uses that child's runner and cache."""

    @node(output_name="y", cache=True)
    def expensive(x: int) -> int:
        return x * 10

    own, parent_cache = InMemoryCache(), InMemoryCache()
    grandchild = Graph([expensive], name="grandchild").as_node()
    child = Graph([grandchild], name="child").as_node(runner=SyncRunner(cache=own))
    SyncRunner(cache=parent_cache).run(Graph([child], name="outer"), {"x": 1})
    assert (len(own), len(parent_cache)) == (1, 0)
