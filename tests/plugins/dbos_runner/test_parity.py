"""DB1: DBOSAsyncRunner gives what AsyncRunner gives: values, statuses, errors, events, caching."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hypergraph import END, AsyncRunner, DBOSAsyncRunner, Graph, InMemoryCache, ifelse, node, route
from hypergraph.events import EventProcessor


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="squared")
async def square(x: int) -> int:
    await asyncio.sleep(0)
    return x * x


@node(output_name="negated")
async def negate(x: int) -> int:
    return -x


@node(output_name="total")
def combine(doubled: int, squared: int, negated: int) -> int:
    return doubled + squared + negated


@ifelse(when_true="big", when_false="small")
def is_big(x: int) -> bool:
    return x > 10


@node(output_name="label")
def big(x: int) -> str:
    return f"big {x}"


@node(output_name="label")
def small(x: int) -> str:
    return f"small {x}"


@route(targets=["shout", END])
def pick(word: str) -> object:
    return "shout" if word else END


@node(output_name="text")
def shout(word: str) -> str:
    return word.upper()


@node(output_name="count")
def increment(count: int) -> int:
    return count + 1


@route(targets=["increment", END])
def until_five(count: int) -> object:
    return END if count >= 5 else "increment"


@node(output_name="numbers")
def count_up(n: int):  # type: ignore[no-untyped-def]
    yield from range(n)


@node(output_name="sum_of_numbers")
def total_of(numbers: list[int]) -> int:
    return sum(numbers)


@node(output_name="boom")
def explode(doubled: int) -> int:
    raise ArithmeticError(f"cannot handle {doubled}")


INNER = Graph([double], name="parity_inner")
RUN_CASES: dict[str, tuple[Graph, dict[str, Any], dict[str, Any]]] = {
    "fan_out_and_join": (Graph([double, square, negate, combine], name="p_fan"), {"x": 3}, {}),
    "ifelse": (Graph([is_big, big, small], name="p_ifelse"), {"x": 12}, {}),
    "route_end": (Graph([pick, shout], name="p_route"), {"word": ""}, {}),
    "cycle": (Graph([increment, until_five], entrypoint="increment", name="p_cycle"), {"count": 0}, {}),
    "generator": (Graph([count_up, total_of], name="p_gen"), {"n": 4}, {}),
    "nested": (Graph([INNER.as_node(name="inner")], name="p_nested"), {"x": 3}, {}),
    "nested_map": (Graph([INNER.as_node(name="inner").map_over("x")], name="p_nmap"), {"x": [1, 2, 3]}, {}),
    "error_continue": (
        Graph([double, explode], name="p_error"), {"x": 2}, {"error_handling": "continue"},
    ),
}


def summarize(result: Any) -> tuple[Any, ...]:
    error = None if result.error is None else f"{type(result.error).__name__}: {result.error}"
    return (result.status, dict(result.values), error)


class Kinds(EventProcessor):
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def on_event(self, event: Any) -> None:
        self.kinds.append(f"{type(event).__name__}:{getattr(event, 'node_name', '')}")


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_run_gives_the_same_result_and_events_as_asyncrunner(case: str) -> None:
    """Same status, values, error text and event sequence as AsyncRunner for each graph shape."""
    graph, values, options = RUN_CASES[case]
    expected_events, got_events = Kinds(), Kinds()
    expected = asyncio.run(
        AsyncRunner().run(graph, values, event_processors=[expected_events], **options)
    )
    got = asyncio.run(
        DBOSAsyncRunner().run(graph, values, event_processors=[got_events], **options)
    )
    assert summarize(got) == summarize(expected)
    assert sorted(got_events.kinds) == sorted(expected_events.kinds)


def test_error_in_raise_mode_reraises_the_nodes_own_exception() -> None:
    """R10: the node's exception type and message reach the caller."""
    graph = Graph([double, explode], name="p_raise")
    with pytest.raises(ArithmeticError, match="cannot handle 4"):
        asyncio.run(DBOSAsyncRunner().run(graph, {"x": 2}))


def test_map_gives_the_same_items_as_asyncrunner() -> None:
    """map() without a workflow id: one workflow per item, same statuses and values."""
    graph = Graph([double, explode], name="p_map")
    expected = asyncio.run(
        AsyncRunner().map(graph, {"x": [1, 2]}, map_over="x", error_handling="continue")
    )
    got = asyncio.run(
        DBOSAsyncRunner().map(graph, {"x": [1, 2]}, map_over="x", error_handling="continue")
    )
    assert [summarize(r) for r in got] == [summarize(r) for r in expected]


_CACHE_CALLS: list[int] = []


def test_a_cache_hit_skips_the_node_under_dbos_too() -> None:
    """CA: the second run with the same inputs is served from the cache; the node runs once."""
    calls = _CACHE_CALLS  # module-level: a closure's values are part of the node's cache key
    calls.clear()

    @node(output_name="y", cache=True)
    def slow(x: int) -> int:
        _CACHE_CALLS.append(x)
        return x + 1

    graph = Graph([slow], name="p_cache")
    runner = DBOSAsyncRunner(cache=InMemoryCache())

    async def twice() -> list[int]:
        first = await runner.run(graph, {"x": 1})
        second = await runner.run(graph, {"x": 1})
        return [first.values["y"], second.values["y"]]

    assert asyncio.run(twice()) == [2, 2]
    assert calls == [1]


def test_iter_streams_the_events_of_a_durable_run() -> None:
    """``.iter()`` yields the run's events and exposes the result afterwards."""
    graph = Graph([count_up, total_of], name="p_iter")

    async def stream() -> tuple[list[str], Any]:
        names = []
        iterator = DBOSAsyncRunner().iter(graph, {"n": 3})
        async for event in iterator:
            names.append(type(event).__name__)
        return names, iterator.result

    names, result = asyncio.run(stream())
    assert names[0] == "RunStartEvent" and names[-1] == "RunEndEvent"
    assert names.count("StreamingChunkEvent") == 3
    assert result.values["sum_of_numbers"] == 3


def test_nested_map_items_and_outer_items_are_all_in_flight_together() -> None:
    """AC: a 4-item map of a 4-item nested map has all 16 leaves running at once (a barrier)."""

    async def scenario() -> list[Any]:
        arrived = 0
        everyone = asyncio.Event()

        @node(output_name="y")
        async def leaf(x: int) -> int:
            nonlocal arrived
            arrived += 1
            if arrived == 16:
                everyone.set()
            await asyncio.wait_for(everyone.wait(), timeout=20)  # fails unless all 16 overlap
            return x * 2

        inner = Graph([leaf], name="p_barrier_inner")
        outer = Graph([inner.as_node(name="inner").map_over("x")], name="p_barrier")
        result = await DBOSAsyncRunner().map(outer, {"x": [[1, 2, 3, 4]] * 4}, map_over="x")
        return [r.values["y"] for r in result]

    assert asyncio.run(scenario()) == [[2, 4, 6, 8]] * 4
