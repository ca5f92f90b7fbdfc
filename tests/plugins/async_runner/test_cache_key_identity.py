"""AsyncRunner cache keys identify what a function computes, like SyncRunner's (CA2)."""

from __future__ import annotations

import asyncio
import threading
import warnings
from typing import Any

from hypergraph import AsyncRunner, FunctionNode, Graph, InMemoryCache, node


def make_scaler(factor: int) -> FunctionNode:
    @node(output_name="y", cache=True)
    async def scale(x: int) -> int:
        return x * factor

    return scale


class Model:
    def __init__(self, weight: int) -> None:
        self.weight = weight

    def predict(self, x: int) -> int:
        return x * self.weight


def run_twice(first: FunctionNode, second: FunctionNode) -> tuple[Any, Any]:
    runner = AsyncRunner(cache=InMemoryCache())

    async def main() -> tuple[Any, Any]:
        a = await runner.run(Graph([first]), {"x": 5})
        b = await runner.run(Graph([second]), {"x": 5})
        return a["y"], b["y"]

    return asyncio.run(main())


def test_async_closures_from_one_factory_do_not_share_cache_entries() -> None:
    """make_scaler(2) and make_scaler(3) return their own results on AsyncRunner."""
    assert run_twice(make_scaler(2), make_scaler(3)) == (10, 15)


def test_async_bound_methods_of_different_instances_do_not_share_entries() -> None:
    """Model(2).predict and Model(7).predict differ by instance state on AsyncRunner."""
    first = FunctionNode(Model(2).predict, output_name="y", cache=True)
    second = FunctionNode(Model(7).predict, output_name="y", cache=True)
    assert run_twice(first, second) == (10, 35)


def test_async_two_lambdas_on_one_line_do_not_share_entries() -> None:
    """Lambdas on one line are told apart by their code on AsyncRunner."""
    double, triple = (lambda x: x * 2), (lambda x: x * 3)
    first = FunctionNode(double, name="f", output_name="y", cache=True)
    second = FunctionNode(triple, name="f", output_name="y", cache=True)
    assert run_twice(first, second) == (10, 15)


def test_async_unhashable_closure_runs_uncached_with_one_warning() -> None:
    """A closure holding a lock runs every time, with one UserWarning naming the node."""
    lock = threading.Lock()
    calls: list[int] = []

    @node(output_name="y", cache=True)
    def guarded(x: int) -> int:
        with lock:
            calls.append(x)
        return x

    runner = AsyncRunner(cache=InMemoryCache())

    async def main() -> None:
        await runner.run(Graph([guarded]), {"x": 1})
        await runner.run(Graph([guarded]), {"x": 1})

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(main())
    assert calls == [1, 1]
    messages = [str(w.message) for w in caught if "uncached" in str(w.message)]
    assert len(messages) == 1 and "'guarded'" in messages[0]
