"""How a parent calls a nested runner is derived from returns_coroutine alone (SPEC R14)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from hypergraph import Graph, RunnerCapabilities, SyncRunner, node
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.nesting import NestedCall, call_from_async, call_from_sync, nested_call


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


class TinySyncRunner(BaseRunner):
    """A minimal third-party sync runner: records the thread it ran on."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    @property
    def capabilities(self) -> RunnerCapabilities:
        return RunnerCapabilities()

    def run(self, graph: Graph, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self.threads.append(threading.get_ident())
        return SyncRunner().run(graph, values, **kwargs)

    def map(self, graph: Graph, values: dict[str, Any] | None = None, *, map_over: Any, **kwargs: Any) -> Any:
        return SyncRunner().map(graph, values, map_over=map_over, **kwargs)


class TinyAsyncRunner(BaseRunner):
    """A minimal third-party runner whose run() returns a coroutine."""

    def __init__(self) -> None:
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.threads: list[int] = []

    @property
    def capabilities(self) -> RunnerCapabilities:
        return RunnerCapabilities(returns_coroutine=True)

    async def run(self, graph: Graph, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self.loops.append(asyncio.get_running_loop())
        self.threads.append(threading.get_ident())
        return SyncRunner().run(graph, values, **kwargs)

    async def map(self, graph: Graph, values: dict[str, Any] | None = None, *, map_over: Any, **kwargs: Any) -> Any:
        return SyncRunner().map(graph, values, map_over=map_over, **kwargs)


@pytest.mark.parametrize(
    ("parent", "child", "expected"),
    [
        (True, True, NestedCall.AWAIT),
        (True, False, NestedCall.TO_THREAD),
        (False, True, NestedCall.ASYNCIO_RUN),
        (False, False, NestedCall.DIRECT),
    ],
)
def test_strategy_table_follows_the_two_flags(parent: bool, child: bool, expected: NestedCall) -> None:
    """The four cells of the returns_coroutine table."""
    assert nested_call(parent, child) is expected


def test_sync_child_of_sync_parent_is_called_directly() -> None:
    """sync + sync: a plain call on the caller's own thread."""
    child = TinySyncRunner()
    result = call_from_sync(False, lambda: child.run(Graph([double]), {"x": 2}))
    assert result["doubled"] == 4
    assert child.threads == [threading.get_ident()]


def test_async_child_of_sync_parent_runs_with_asyncio_run() -> None:
    """sync + async with no running loop: the coroutine gets a fresh loop on this thread."""
    child = TinyAsyncRunner()
    result = call_from_sync(True, lambda: child.run(Graph([double]), {"x": 3}))
    assert result["doubled"] == 6
    assert child.threads == [threading.get_ident()]


def test_async_child_of_sync_parent_inside_a_running_loop_uses_a_helper_thread() -> None:
    """sync + async while a loop runs here: the child gets its own loop in a helper thread."""
    child = TinyAsyncRunner()

    async def caller() -> Any:
        outer_loop = asyncio.get_running_loop()
        result = call_from_sync(True, lambda: child.run(Graph([double]), {"x": 5}))
        return result, outer_loop

    result, outer_loop = asyncio.run(caller())
    assert result["doubled"] == 10
    assert child.loops[0] is not outer_loop
    assert child.threads[0] != threading.get_ident()


def test_sync_child_of_async_parent_runs_in_a_worker_thread() -> None:
    """async + sync: asyncio.to_thread, so the event loop is never blocked."""
    child = TinySyncRunner()

    async def caller() -> Any:
        return await call_from_async(False, lambda: child.run(Graph([double]), {"x": 1}))

    assert asyncio.run(caller())["doubled"] == 2
    assert child.threads[0] != threading.get_ident()


def test_async_child_of_async_parent_is_awaited_on_the_same_loop() -> None:
    """async + async: a direct await on the parent's loop."""
    child = TinyAsyncRunner()

    async def caller() -> Any:
        result = await call_from_async(True, lambda: child.run(Graph([double]), {"x": 7}))
        return result, asyncio.get_running_loop()

    result, loop = asyncio.run(caller())
    assert result["doubled"] == 14
    assert child.loops == [loop]


def test_sync_runner_nests_a_third_party_async_runner() -> None:
    """A SyncRunner graph runs a nested graph on a coroutine-returning runner (PL6)."""
    child = TinyAsyncRunner()
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node(runner=child), add_one])
    assert SyncRunner().run(outer, {"x": 4})["result"] == 9
    assert len(child.loops) == 1


def test_sync_runner_nests_a_third_party_sync_runner() -> None:
    """A SyncRunner graph calls a nested sync runner directly."""
    child = TinySyncRunner()
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node(runner=child), add_one])
    assert SyncRunner().run(outer, {"x": 4})["result"] == 9
    assert child.threads == [threading.get_ident()]
