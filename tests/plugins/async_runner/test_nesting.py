"""Nested graphs across runners: resolution, validation, and the returns_coroutine call table (SPEC R11-R14, AC6)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from hypergraph import (
    AsyncRunner,
    FunctionNode,
    Graph,
    IncompatibleRunnerError,
    RunStatus,
    SyncRunner,
    node,
)
from hypergraph.events import NodeStartEvent, RunStartEvent
from hypergraph.runners.nesting import NestedCall, nested_call


def async_inner(where: list[tuple[int, bool]]) -> Graph:
    """An inner graph with one async node that records its thread and whether a loop runs there."""

    @node(output_name="tripled")
    async def triple(x: int) -> int:
        await asyncio.sleep(0)
        where.append((threading.get_ident(), asyncio.get_running_loop().is_running()))
        return x * 3

    return Graph([triple], name="inner")


@node(output_name="result")
def add_one(tripled: int) -> int:
    return tripled + 1


def test_call_strategy_follows_returns_coroutine_of_parent_and_child() -> None:
    """R14: the four cells of the table are derived from the runners' returns_coroutine flags."""
    is_async = AsyncRunner().capabilities.returns_coroutine
    is_sync = SyncRunner().capabilities.returns_coroutine
    assert nested_call(is_async, is_async) is NestedCall.AWAIT
    assert nested_call(is_async, is_sync) is NestedCall.TO_THREAD
    assert nested_call(is_sync, is_async) is NestedCall.ASYNCIO_RUN
    assert nested_call(is_sync, is_sync) is NestedCall.DIRECT


def test_async_child_under_sync_runner_runs_with_asyncio_run_when_no_loop_runs() -> None:
    """R14 sync+async: with no running loop the AsyncRunner child runs on a fresh loop in this thread."""
    where: list[tuple[int, bool]] = []
    outer = Graph([async_inner(where).as_node(runner=AsyncRunner()), add_one], name="outer")
    result = SyncRunner().run(outer, {"x": 2})
    assert result.status == RunStatus.COMPLETED
    assert result["result"] == 7
    assert where == [(threading.get_ident(), True)]


def test_async_child_under_sync_runner_uses_a_helper_thread_inside_a_running_loop() -> None:
    """R14 sync+async: when a loop already runs in this thread the child gets its own loop in a helper thread."""
    where: list[tuple[int, bool]] = []
    outer = Graph([async_inner(where).as_node(runner=AsyncRunner()), add_one], name="outer")

    async def main() -> Any:
        return SyncRunner().run(outer, {"x": 2})

    result = asyncio.run(main())
    assert result["result"] == 7
    (thread, loop_running) = where[0]
    assert thread != threading.get_ident()
    assert loop_running


def test_sync_runner_child_under_async_runner_runs_in_a_thread() -> None:
    """R14 async+sync: a SyncRunner child runs through asyncio.to_thread, off the loop thread."""
    threads: list[int] = []

    @node(output_name="doubled")
    def double(x: int) -> int:
        threads.append(threading.get_ident())
        return x * 2

    outer = Graph([Graph([double], name="inner").as_node(runner=SyncRunner())], name="outer")

    async def main() -> tuple[Any, int]:
        return await AsyncRunner().run(outer, {"x": 4}), threading.get_ident()

    result, loop_thread = asyncio.run(main())
    assert result["doubled"] == 8
    assert threads and threads[0] != loop_thread


def test_sync_runner_child_does_not_block_the_event_loop() -> None:
    """R14: while a SyncRunner child sleeps 0.2 s in its thread, a sibling async node keeps ticking."""
    window: list[float] = []
    ticks: list[float] = []

    @node(output_name="slept")
    def blocking(x: int) -> int:
        window.append(time.perf_counter())
        time.sleep(0.2)
        window.append(time.perf_counter())
        return x

    @node(output_name="ticked")
    async def ticker(x: int) -> int:
        for _ in range(15):
            await asyncio.sleep(0.01)
            ticks.append(time.perf_counter())
        return len(ticks)

    sync_child = Graph([blocking], name="sync_child").as_node(runner=SyncRunner())
    result = asyncio.run(AsyncRunner().run(Graph([ticker, sync_child], name="outer"), {"x": 1}))
    assert result.status == RunStatus.COMPLETED
    start, end = window
    assert len([t for t in ticks if start < t < end]) >= 5


def test_async_child_under_async_runner_is_awaited_on_the_same_loop() -> None:
    """R14 async+async: an AsyncRunner child (explicit or inherited) runs on the parent's loop and thread."""
    where: list[tuple[int, bool]] = []
    explicit = async_inner(where).as_node(name="explicit", runner=AsyncRunner())
    inherited = async_inner(where).as_node(name="inherited").rename_outputs(tripled="again")
    outer = Graph([explicit, inherited], name="outer")

    async def main() -> tuple[Any, int]:
        return await AsyncRunner().run(outer, {"x": 1}), threading.get_ident()

    result, loop_thread = asyncio.run(main())
    assert result.status == RunStatus.COMPLETED
    assert where == [(loop_thread, True), (loop_thread, True)]


def test_nested_graph_inherits_the_async_runner() -> None:
    """R12: without runner= a nested graph with async nodes runs on the parent AsyncRunner."""
    where: list[tuple[int, bool]] = []
    outer = Graph([async_inner(where).as_node(), add_one], name="outer")
    assert asyncio.run(AsyncRunner().run(outer, {"x": 1}))["result"] == 4


def test_incompatible_override_is_rejected_at_as_node_time() -> None:
    """R13: as_node(runner=SyncRunner()) on a graph with async nodes raises right away."""
    inner = async_inner([])
    with pytest.raises(IncompatibleRunnerError, match="async nodes") as info:
        inner.as_node(runner=SyncRunner())
    assert "triple" in str(info.value)
    assert "AsyncRunner" in str(info.value)


def test_sync_runner_rejects_an_inherited_async_child_before_running() -> None:
    """R12/R13: a nested async graph without an override inherits SyncRunner, which refuses it."""
    ran: list[tuple[int, bool]] = []
    outer = Graph([async_inner(ran).as_node(), add_one], name="outer")
    with pytest.raises(IncompatibleRunnerError, match="AsyncRunner"):
        SyncRunner().run(outer, {"x": 1})
    assert ran == []


def test_child_on_another_loop_does_not_inherit_the_limiter() -> None:
    """AC6: a grandchild AsyncRunner run started in a worker thread gets no share of the parent's budget."""
    in_flight = {"now": 0, "peak": 0}

    def make(i: int) -> FunctionNode:
        async def sleeper(x: int) -> int:
            in_flight["now"] += 1
            in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
            await asyncio.sleep(0.01)
            in_flight["now"] -= 1
            return x

        return FunctionNode(sleeper, name=f"sleeper_{i}", output_name=f"out_{i}")

    grandchild = Graph([make(i) for i in range(3)], name="grandchild")
    child = Graph([grandchild.as_node(runner=AsyncRunner())], name="child")
    outer = Graph([child.as_node(runner=SyncRunner())], name="outer")
    result = asyncio.run(AsyncRunner().run(outer, {"x": 0}, max_concurrency=1))
    assert result.status == RunStatus.COMPLETED
    assert in_flight["peak"] == 3


def test_nested_failure_propagates_as_the_inner_exception() -> None:
    """R11: a failing inner node raises its own exception out of the outer run (raise mode)."""

    @node(output_name="y")
    async def boom(x: int) -> int:
        raise ArithmeticError("inner failure")

    outer = Graph([Graph([boom], name="inner").as_node()], name="outer")
    with pytest.raises(ArithmeticError, match="inner failure"):
        asyncio.run(AsyncRunner().run(outer, {"x": 1}))


def test_nested_failure_in_continue_mode_fails_the_outer_result() -> None:
    """R11: in continue mode the outer result is FAILED and carries the inner exception."""

    @node(output_name="y")
    async def boom(x: int) -> int:
        raise ArithmeticError("inner failure")

    outer = Graph([Graph([boom], name="inner").as_node()], name="outer")
    result = asyncio.run(AsyncRunner().run(outer, {"x": 1}, error_handling="continue"))
    assert result.status == RunStatus.FAILED
    assert isinstance(result.error, ArithmeticError)


def test_child_run_events_sit_under_the_graph_nodes_span(recorder: Any) -> None:
    """EV3/EV4: the child run's RunStart has the GraphNode's node span as parent and its own run_id."""
    outer = Graph([async_inner([]).as_node(), add_one], name="outer")
    asyncio.run(AsyncRunner().run(outer, {"x": 1}, event_processors=[recorder]))
    top, child = recorder.of(RunStartEvent)
    gn_start = next(e for e in recorder.of(NodeStartEvent) if e.node_name == "inner")
    assert child.parent_span_id == gn_start.span_id
    assert child.run_id != top.run_id
    names = [(type(e).__name__, getattr(e, "node_name", None)) for e in recorder.events]
    assert names.index(("NodeStartEvent", "inner")) < names.index(("NodeStartEvent", "triple"))
    assert names.index(("NodeEndEvent", "triple")) < names.index(("NodeEndEvent", "inner"))
