"""Node caching through SyncRunner: opt-in on both sides, events, gates, generators, scope."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest

from hypergraph import END, Graph, InMemoryCache, SyncRunner, node, route
from hypergraph.events import (
    CacheHitEvent,
    CacheMissEvent,
    EventProcessor,
    NodeEndEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    StreamingChunkEvent,
)

calls: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def reset_calls() -> None:
    calls.clear()


@node(output_name="embedding", cache=True)
def embed(text: str) -> list[float]:
    calls["embed"] += 1
    return [float(len(text)), 1.0]


@node(output_name="norm")
def norm(embedding: list[float]) -> float:
    calls["norm"] += 1
    return sum(v * v for v in embedding) ** 0.5


class Recorder(EventProcessor):
    def __init__(self) -> None:
        self.events: list[Any] = []

    def on_event(self, event: Any) -> None:
        self.events.append(event)

    def kinds(self, node_name: str) -> list[str]:
        return [type(e).__name__ for e in self.events if getattr(e, "node_name", None) == node_name]


def test_second_run_with_same_inputs_is_a_hit() -> None:
    """The seed's promise: the second call returns the cached result without calling the function."""
    runner = SyncRunner(cache=InMemoryCache())
    graph = Graph([embed, norm])
    first = runner.run(graph, {"text": "hello"})
    second = runner.run(graph, {"text": "hello"})
    assert first.values == second.values
    assert calls == {"embed": 1, "norm": 2}


def test_nodes_without_cache_true_are_never_cached() -> None:
    """CA1: the runner's backend alone does not cache a node."""
    runner = SyncRunner(cache=InMemoryCache())
    graph = Graph([embed, norm])
    runner.run(graph, {"text": "a"})
    runner.run(graph, {"text": "a"})
    assert calls["norm"] == 2


def test_runner_without_a_backend_never_caches() -> None:
    """CA1: cache=True alone does not cache either."""
    runner = SyncRunner()
    runner.run(Graph([embed]), {"text": "a"})
    runner.run(Graph([embed]), {"text": "a"})
    assert calls["embed"] == 2


def test_other_input_values_miss() -> None:
    """The key includes the input values."""
    runner = SyncRunner(cache=InMemoryCache())
    runner.run(Graph([embed]), {"text": "a"})
    runner.run(Graph([embed]), {"text": "b"})
    assert calls["embed"] == 2


def test_hit_events_come_in_documented_order() -> None:
    """CA4: NodeStart -> CacheHit -> NodeEnd(cached=True, duration_ms=0.0)."""
    runner = SyncRunner(cache=InMemoryCache())
    runner.run(Graph([embed]), {"text": "a"})
    recorder = Recorder()
    runner.run(Graph([embed]), {"text": "a"}, event_processors=[recorder])
    assert recorder.kinds("embed") == ["NodeStartEvent", "CacheHitEvent", "NodeEndEvent"]
    end = next(e for e in recorder.events if isinstance(e, NodeEndEvent))
    assert end.cached is True and end.duration_ms == 0.0
    hit = next(e for e in recorder.events if isinstance(e, CacheHitEvent))
    start = next(e for e in recorder.events if isinstance(e, NodeStartEvent))
    assert hit.span_id == start.span_id and len(hit.cache_key) == 64


def test_miss_events_say_why() -> None:
    """CA4 and the miss explanation, each compared with the node's previous execution."""
    runner = SyncRunner(cache=InMemoryCache())
    recorder = Recorder()
    runner.run(Graph([embed]), {"text": "a"}, event_processors=[recorder])
    runner.run(Graph([embed]), {"text": "b"}, event_processors=[recorder])
    runner.run(Graph([embed]), {"text": "a"}, event_processors=[recorder])  # a hit
    misses = [e for e in recorder.events if isinstance(e, CacheMissEvent)]
    assert [m.reason for m in misses] == ["first time seen", "input changed: 'text'"]
    assert recorder.kinds("embed")[:3] == ["NodeStartEvent", "CacheMissEvent", "NodeEndEvent"]
    ends = [e for e in recorder.events if isinstance(e, NodeEndEvent)]
    assert [e.cached for e in ends] == [False, False, True]


def test_map_items_are_compared_with_the_previous_item() -> None:
    """Map items share the runner's explainer: item 2 differs from item 1 in its input."""
    runner = SyncRunner(cache=InMemoryCache())
    recorder = Recorder()
    runner.map(Graph([embed]), {"text": ["a", "bb", "a"]}, map_over="text",
               event_processors=[recorder])
    misses = [e.reason for e in recorder.events if isinstance(e, CacheMissEvent)]
    assert misses == ["first time seen", "input changed: 'text'"]
    assert calls["embed"] == 2


def test_same_named_nodes_of_two_graphs_do_not_keep_saying_code_changed() -> None:
    """Two graphs, each with its own ``embed``: "code changed" only for the second's first run."""

    @node(output_name="embedding", cache=True, name="embed")
    def embed_v2(text: str) -> list[float]:
        return [0.0]

    runner = SyncRunner(cache=InMemoryCache())
    recorder = Recorder()
    for graph, text in [
        (Graph([embed]), "a"), (Graph([embed_v2]), "a"),
        (Graph([embed]), "b"), (Graph([embed_v2]), "b"),
    ]:
        runner.run(graph, {"text": text}, event_processors=[recorder])
    misses = [e.reason for e in recorder.events if isinstance(e, CacheMissEvent)]
    assert misses == [
        "first time seen", "code changed", "input changed: 'text'", "input changed: 'text'"
    ]


def test_changed_code_misses_and_says_so() -> None:
    """Editing the function changes definition_hash, hence every key (CA2)."""

    def make(offset: int) -> Any:
        source = f"def embed(text):\n    return len(text) + {offset}\n"
        namespace: dict[str, Any] = {}
        exec(source, namespace)
        return node(output_name="embedding", cache=True)(namespace["embed"])

    runner = SyncRunner(cache=InMemoryCache())
    recorder = Recorder()
    runner.run(Graph([make(1)]), {"text": "a"})
    result = runner.run(Graph([make(2)]), {"text": "a"}, event_processors=[recorder])
    assert result["embedding"] == 3
    miss = next(e for e in recorder.events if isinstance(e, CacheMissEvent))
    assert miss.reason == "code changed"


def test_failed_executions_are_not_stored() -> None:
    """CA3: only successful executions are cached."""

    @node(output_name="y", cache=True)
    def flaky(x: int) -> int:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise RuntimeError("first call fails")
        return x

    runner = SyncRunner(cache=InMemoryCache())
    with pytest.raises(RuntimeError):
        runner.run(Graph([flaky]), {"x": 1})
    assert runner.run(Graph([flaky]), {"x": 1})["y"] == 1
    assert runner.run(Graph([flaky]), {"x": 1})["y"] == 1
    assert calls["flaky"] == 2


def test_gate_decisions_are_cached_and_replayed() -> None:
    """GT14: a cached gate is not called again, and its RouteDecisionEvent is replayed."""

    @route(targets=["shout", END], cache=True)
    def pick(text: str) -> object:
        calls["pick"] += 1
        return "shout" if text else END

    @node(output_name="loud")
    def shout(text: str) -> str:
        return text.upper()

    runner = SyncRunner(cache=InMemoryCache())
    graph = Graph([pick, shout])
    assert runner.run(graph, {"text": "hi"})["loud"] == "HI"
    recorder = Recorder()
    assert runner.run(graph, {"text": "hi"}, event_processors=[recorder])["loud"] == "HI"
    assert calls["pick"] == 1
    assert recorder.kinds("pick") == [
        "NodeStartEvent", "CacheHitEvent", "RouteDecisionEvent", "NodeEndEvent",
    ]
    decision = next(e for e in recorder.events if isinstance(e, RouteDecisionEvent))
    assert decision.decision == "shout"


def test_generators_cache_the_drained_list_and_replay_no_chunks() -> None:
    """CA9 / GN4: the cached value is the list; a hit emits no StreamingChunkEvent."""

    @node(output_name="tokens", cache=True)
    def tokens(text: str):  # type: ignore[no-untyped-def]
        calls["tokens"] += 1
        yield from text.split()

    runner = SyncRunner(cache=InMemoryCache())
    first = Recorder()
    second = Recorder()
    runner.run(Graph([tokens]), {"text": "a b c"}, event_processors=[first])
    result = runner.run(Graph([tokens]), {"text": "a b c"}, event_processors=[second])
    assert result["tokens"] == ["a", "b", "c"]
    assert calls["tokens"] == 1
    assert sum(isinstance(e, StreamingChunkEvent) for e in first.events) == 3
    assert not any(isinstance(e, StreamingChunkEvent) for e in second.events)


def test_nested_graphs_and_map_items_share_the_runners_backend() -> None:
    """CA8: a hit carries across map items and into nested graphs."""
    runner = SyncRunner(cache=InMemoryCache())
    inner = Graph([embed], name="inner")
    outer = Graph([inner.as_node(), norm])
    runner.map(outer, {"text": ["a", "a", "b"]}, map_over="text")
    runner.run(Graph([embed]), {"text": "b"})
    assert calls["embed"] == 2


def test_delegated_runner_uses_its_own_cache() -> None:
    """CA8: as_node(runner=r) uses r's backend, not the parent's."""
    own = InMemoryCache()
    inner = Graph([embed], name="inner")
    outer = Graph([inner.as_node(runner=SyncRunner(cache=own)), norm])
    SyncRunner().run(outer, {"text": "a"})
    SyncRunner().run(outer, {"text": "a"})
    assert calls["embed"] == 1


def test_renamed_inputs_take_part_in_the_key() -> None:
    """CA2: the key uses the graph-facing input names, not the node name."""
    runner = SyncRunner(cache=InMemoryCache())
    runner.run(Graph([embed]), {"text": "a"})
    runner.run(Graph([embed.with_name("other")]), {"text": "a"})
    assert calls["embed"] == 1
    runner.run(Graph([embed.rename_inputs(text="query")]), {"query": "a"})
    assert calls["embed"] == 2


class ExplodingPickle:
    """An input whose ``__reduce__`` raises something pickle itself never would."""

    def __reduce__(self) -> tuple[object, ...]:
        raise RuntimeError("cannot reduce me")


def test_an_input_that_fails_to_pickle_with_any_error_runs_uncached(caplog: pytest.LogCaptureFixture) -> None:
    """CA2: the node runs and returns its value, a warning is logged, nothing is stored."""

    @node(output_name="label", cache=True)
    def describe(thing: object) -> str:
        calls["describe"] += 1
        return type(thing).__name__

    backend = InMemoryCache()
    runner = SyncRunner(cache=backend)
    recorder = Recorder()
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        first = runner.run(Graph([describe]), {"thing": ExplodingPickle()},
                           event_processors=[recorder])
        second = runner.run(Graph([describe]), {"thing": ExplodingPickle()})
    assert first["label"] == second["label"] == "ExplodingPickle"
    assert calls["describe"] == 2
    assert len(backend) == 0
    assert "'describe'" in caplog.text and "RuntimeError: cannot reduce me" in caplog.text
    miss = next(e for e in recorder.events if isinstance(e, CacheMissEvent))
    assert miss.reason == "inputs cannot be pickled"


def test_a_consumer_mutating_a_cached_value_does_not_change_the_next_hit() -> None:
    """InMemoryCache hits are fresh copies: a downstream node appending to the list sees 103 each time."""

    @node(output_name="numbers", cache=True)
    def numbers(n: int) -> list[int]:
        calls["numbers"] += 1
        return [n]

    @node(output_name="total")
    def total(numbers: list[int]) -> int:
        numbers.append(100)  # a careless consumer mutates its input
        return sum(numbers)

    runner = SyncRunner(cache=InMemoryCache())
    graph = Graph([numbers, total])
    totals = [runner.run(graph, {"n": 3})["total"] for _ in range(3)]
    assert totals == [103, 103, 103]
    assert calls["numbers"] == 1


def test_unpicklable_outputs_are_not_cached_and_the_run_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    """Both backends need picklable outputs: otherwise a warning, no entry, the node runs again."""
    import threading

    @node(output_name="lock", cache=True)
    def make_lock(x: int) -> object:
        calls["make_lock"] += 1
        return threading.Lock()

    backend = InMemoryCache()
    runner = SyncRunner(cache=backend)
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        runner.run(Graph([make_lock]), {"x": 1})
        result = runner.run(Graph([make_lock]), {"x": 1})
    assert result["lock"] is not None
    assert calls["make_lock"] == 2
    assert len(backend) == 0
    assert "cannot be pickled" in caplog.text
