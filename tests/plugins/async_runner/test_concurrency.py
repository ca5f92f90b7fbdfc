"""AsyncRunner concurrency: supersteps, the shared max_concurrency budget, failures (SPEC AC, MP8, MP12, TC8, TC14)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from hypergraph import AsyncRunner, FunctionNode, Graph, RunStatus, node


def sleepers(count: int, seconds: float, in_flight: Any = None) -> list[FunctionNode]:
    """``count`` independent async nodes, each sleeping ``seconds``."""

    def make(i: int) -> FunctionNode:
        async def sleeper(x: int) -> int:
            if in_flight is None:
                await asyncio.sleep(seconds)
            else:
                with in_flight:
                    await asyncio.sleep(seconds)
            return x + i

        return FunctionNode(sleeper, name=f"sleeper_{i}", output_name=f"out_{i}")

    return [make(i) for i in range(count)]


def test_independent_async_nodes_run_concurrently() -> None:
    """Ten independent async nodes sleeping 50 ms finish in well under the 500 ms a sequence takes."""
    graph = Graph(sleepers(10, 0.05))
    start = time.perf_counter()
    result = asyncio.run(AsyncRunner().run(graph, {"x": 0}))
    elapsed = time.perf_counter() - start
    assert dict(result.values) == {f"out_{i}": i for i in range(10)}
    assert elapsed < 0.25


def test_sync_nodes_run_after_the_supersteps_async_work() -> None:
    """A sync sibling runs inline after the superstep's async nodes have been awaited, even if listed first."""
    order: list[str] = []

    @node(output_name="s")
    def sync_first(x: int) -> int:
        order.append("sync")
        return x

    @node(output_name="a")
    async def async_one(x: int) -> int:
        order.append("a start")
        await asyncio.sleep(0.02)
        order.append("a end")
        return x

    @node(output_name="b")
    async def async_two(x: int) -> int:
        order.append("b start")
        await asyncio.sleep(0.01)
        order.append("b end")
        return x

    asyncio.run(AsyncRunner().run(Graph([sync_first, async_one, async_two]), {"x": 1}))
    assert order[:2] == ["a start", "b start"]
    assert sorted(order[2:4]) == ["a end", "b end"]
    assert order[4:] == ["sync"]


def test_sync_nodes_run_on_the_event_loop_thread() -> None:
    """Sync nodes are not sent to worker threads: they run on the thread running the loop."""
    threads: list[int] = []

    @node(output_name="y")
    def where(x: int) -> int:
        threads.append(threading.get_ident())
        return x

    @node(output_name="z")
    async def sibling(x: int) -> int:
        return x

    async def main() -> int:
        await AsyncRunner().run(Graph([where, sibling]), {"x": 1})
        return threading.get_ident()

    assert threads == [asyncio.run(main())]


def test_max_concurrency_one_serializes_async_nodes(in_flight: Any) -> None:
    """With max_concurrency=1 never more than one async node is in flight."""
    graph = Graph(sleepers(5, 0.01, in_flight))
    result = asyncio.run(AsyncRunner().run(graph, {"x": 0}, max_concurrency=1))
    assert result.status == RunStatus.COMPLETED
    assert in_flight.peak == 1


def test_unlimited_run_has_every_independent_node_in_flight(in_flight: Any) -> None:
    """Without a limit all independent async nodes of a superstep are in flight together."""
    asyncio.run(AsyncRunner().run(Graph(sleepers(5, 0.01, in_flight)), {"x": 0}))
    assert in_flight.peak == 5


def nested_map_graph(in_flight: Any) -> Graph:
    """TC14: an inner async node sleeping 20 ms, mapped over a 4-element list."""

    @node(output_name="y")
    async def leaf(x: int) -> int:
        with in_flight:
            await asyncio.sleep(0.02)
        return x * 2

    inner = Graph([leaf], name="inner")
    return Graph([inner.as_node().map_over("x")], name="outer")


def test_nested_map_under_max_concurrency_three_peaks_at_three(in_flight: Any) -> None:
    """TC14: a 4-item map of a 4-item nested map with max_concurrency=3 never has more than 3 leaves in flight."""
    items = [[1, 2, 3, 4]] * 4
    results = asyncio.run(
        AsyncRunner().map(nested_map_graph(in_flight), {"x": items}, map_over="x", max_concurrency=3)
    )
    assert results["y"] == [[2, 4, 6, 8]] * 4
    assert in_flight.peak == 3


def test_nested_map_without_a_limit_peaks_at_sixteen(in_flight: Any) -> None:
    """TC14: the same nested map without a limit has all 16 leaves in flight at once."""
    items = [[1, 2, 3, 4]] * 4
    asyncio.run(AsyncRunner().map(nested_map_graph(in_flight), {"x": items}, map_over="x"))
    assert in_flight.peak == 16


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_concurrency_below_one_or_not_an_int_is_rejected(bad: Any) -> None:
    """max_concurrency must be None or an int >= 1, for run() and map() alike."""
    graph = Graph(sleepers(1, 0))
    with pytest.raises(ValueError, match="max_concurrency"):
        asyncio.run(AsyncRunner().run(graph, {"x": 0}, max_concurrency=bad))
    with pytest.raises(ValueError, match="max_concurrency"):
        asyncio.run(AsyncRunner().map(graph, {"x": [0]}, map_over="x", max_concurrency=bad))


def test_map_of_more_than_10000_items_without_a_limit_is_rejected_before_running() -> None:
    """MP12: 10,001 items and no max_concurrency raise ValueError saying how to set one; nothing runs."""
    ran: list[int] = []

    @node(output_name="y")
    async def record(x: int) -> int:
        ran.append(x)
        return x

    with pytest.raises(ValueError, match=r"max_concurrency=") as info:
        asyncio.run(AsyncRunner().map(Graph([record]), {"x": list(range(10_001))}, map_over="x"))
    assert "10001" in str(info.value)
    assert ran == []


def test_map_of_exactly_10000_items_without_a_limit_runs() -> None:
    """MP12: the guard fires above 10,000 items, not at 10,000."""

    @node(output_name="y")
    def ident(x: int) -> int:
        return x

    results = asyncio.run(AsyncRunner().map(Graph([ident]), {"x": list(range(10_000))}, map_over="x"))
    assert len(results) == 10_000


def test_huge_nested_map_inside_a_limited_parent_is_not_guarded() -> None:
    """MP12: a nested map of 10,001 items under a parent run with max_concurrency does not trip the guard."""

    @node(output_name="y")
    def ident(x: int) -> int:
        return x

    graph = Graph([Graph([ident], name="inner").as_node().map_over("x")], name="outer")
    xs = list(range(10_001))
    result = asyncio.run(AsyncRunner().run(graph, {"x": xs}, max_concurrency=50))
    assert result["y"] == xs


@node(output_name="a")
def ok(x: int) -> int:
    return x


@node(output_name=None)
def bad(x: int) -> None:
    raise RuntimeError("bad node")


@node(output_name="c")
def ok2(x: int) -> int:
    return x * 3


def test_tc8_failing_superstep_keeps_every_siblings_output() -> None:
    """TC8: in continue mode the siblings of a failing node all finish and their outputs are kept."""
    result = asyncio.run(
        AsyncRunner().run(Graph([ok, bad, ok2]), {"x": 1}, error_handling="continue")
    )
    assert result.status == RunStatus.FAILED
    assert dict(result.values) == {"a": 1, "c": 3}


def test_tc8_failed_result_carries_the_very_exception_raised() -> None:
    """TC8: result.error is the exception object the node raised, not a wrapper."""
    raised: list[BaseException] = []

    @node(output_name=None)
    def bad_and_remembered(x: int) -> None:
        error = RuntimeError("bad node")
        raised.append(error)
        raise error

    result = asyncio.run(
        AsyncRunner().run(Graph([ok, bad_and_remembered, ok2]), {"x": 1}, error_handling="continue")
    )
    assert result.error is raised[0]


def test_tc8_async_siblings_of_a_failing_async_node_finish() -> None:
    """TC8 with async nodes: a slower async sibling still finishes and its output is kept."""

    @node(output_name=None)
    async def fails_fast(x: int) -> None:
        raise RuntimeError("fast failure")

    @node(output_name="slow")
    async def slow(x: int) -> int:
        await asyncio.sleep(0.02)
        return x + 10

    result = asyncio.run(
        AsyncRunner().run(Graph([fails_fast, slow, ok]), {"x": 1}, error_handling="continue")
    )
    assert dict(result.values) == {"slow": 11, "a": 1}
    assert str(result.error) == "fast failure"


def test_raise_mode_reraises_the_first_failure_in_node_order() -> None:
    """R9: when two siblings fail, the one first in node order is raised, whichever failed first in time."""

    @node(output_name="p")
    async def first_but_slow(x: int) -> int:
        await asyncio.sleep(0.02)
        raise ValueError("first in node order")

    @node(output_name="q")
    async def second_but_fast(x: int) -> int:
        raise KeyError("second in node order")

    with pytest.raises(ValueError, match="first in node order"):
        asyncio.run(AsyncRunner().run(Graph([first_but_slow, second_but_fast]), {"x": 1}))


def test_map_raise_mode_reraises_the_lowest_index_failure_after_all_items() -> None:
    """MP8: without a limit every item runs, then the failure with the lowest index is re-raised."""
    finished: list[int] = []

    @node(output_name="y")
    async def item(x: int) -> int:
        await asyncio.sleep(0.03 if x == 1 else 0.0)
        finished.append(x)
        if x in (1, 3):
            raise ValueError(f"item {x} failed")
        return x

    with pytest.raises(ValueError, match="item 1 failed"):
        asyncio.run(AsyncRunner().map(Graph([item]), {"x": [0, 1, 2, 3, 4]}, map_over="x"))
    assert sorted(finished) == [0, 1, 2, 3, 4]


def test_limited_map_stops_starting_items_after_a_failure() -> None:
    """MP8: with max_concurrency, no new item starts once an item has failed."""
    started: list[int] = []

    @node(output_name="y")
    async def item(x: int) -> int:
        started.append(x)
        await asyncio.sleep(0)
        if x == 0:
            raise ValueError("item 0 failed")
        return x

    with pytest.raises(ValueError, match="item 0 failed"):
        asyncio.run(
            AsyncRunner().map(Graph([item]), {"x": list(range(10))}, map_over="x", max_concurrency=1)
        )
    assert started == [0]


def test_limited_map_keeps_at_most_max_concurrency_items_in_flight(in_flight: Any) -> None:
    """AC5: a map with max_concurrency=2 over 6 items has at most 2 items running."""

    @node(output_name="y")
    async def item(x: int) -> int:
        with in_flight:
            await asyncio.sleep(0.01)
        return x

    results = asyncio.run(
        AsyncRunner().map(Graph([item]), {"x": list(range(6))}, map_over="x", max_concurrency=2)
    )
    assert results["y"] == list(range(6))
    assert in_flight.peak == 2


def test_max_concurrency_is_shared_with_nested_graphs(in_flight: Any) -> None:
    """AC3: async nodes of a nested graph and of its parent draw from the one budget."""
    inner = Graph(sleepers(3, 0.01, in_flight), name="inner")

    @node(output_name="outer_out")
    async def outer_sleeper(x: int) -> int:
        with in_flight:
            await asyncio.sleep(0.01)
        return x

    graph = Graph([inner.as_node(), outer_sleeper], name="outer")
    asyncio.run(AsyncRunner().run(graph, {"x": 0}, max_concurrency=2))
    assert in_flight.peak == 2


def test_huge_nested_map_in_an_unlimited_run_is_rejected_before_running() -> None:
    """MP12: a nested map of 10,001 items with no budget anywhere raises ValueError before any item runs."""
    ran: list[int] = []

    @node(output_name="y")
    def record(x: int) -> int:
        ran.append(x)
        return x

    graph = Graph([Graph([record], name="inner").as_node().map_over("x")], name="outer")
    with pytest.raises(ValueError, match="max_concurrency="):
        asyncio.run(AsyncRunner().run(graph, {"x": list(range(10_001))}))
    assert ran == []
