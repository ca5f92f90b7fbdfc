"""AsyncRunner: caller mistakes in run()/map() arguments get the same specific errors."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from hypergraph import AsyncRunner, Graph, node
from hypergraph.exceptions import GraphConfigError


@node(output_name="y")
async def append(x: int, config: list[int]) -> list[int]:
    config.append(x)
    return list(config)


graph = Graph([append], name="g")


def amap(g: Any, values: Any, **options: Any) -> Any:
    return asyncio.run(AsyncRunner().map(g, values, **options))


def test_async_clone_given_as_a_string_clones_that_one_input() -> None:
    """clone="config" deep-copies config per item on AsyncRunner."""
    config: list[int] = []
    result = amap(graph, {"x": [1, 2], "config": config}, map_over="x", clone="config")
    assert result["y"] == [[1], [2]] and config == []


def test_async_clone_naming_a_mapped_input_is_a_type_error() -> None:
    """A mapped name in clone is a TypeError on AsyncRunner."""
    with pytest.raises(TypeError, match="'x'"):
        amap(graph, {"x": [1], "config": []}, map_over="x", clone=["x"])


def test_async_clone_true_with_an_uncopyable_value_names_the_parameter() -> None:
    """clone=True with a lock raises GraphConfigError naming the input on AsyncRunner."""
    with pytest.raises(GraphConfigError, match="'config'"):
        amap(graph, {"x": [1], "config": threading.Lock()}, map_over="x", clone=True)


def test_async_map_over_mistakes_fail_early() -> None:
    """Unknown and duplicate map_over names are ValueErrors on AsyncRunner."""
    with pytest.raises(ValueError, match="'z'"):
        amap(graph, {"x": [1], "config": [], "z": [1]}, map_over=["x", "z"])
    with pytest.raises(ValueError, match="twice"):
        amap(graph, {"x": [1], "config": []}, map_over=["x", "x"])


def test_async_bad_values_and_graph_arguments_are_type_errors() -> None:
    """A non-string key and a non-Graph first argument are TypeErrors on AsyncRunner."""
    with pytest.raises(TypeError, match="key 1"):
        asyncio.run(AsyncRunner().run(graph, {1: 2}))
    with pytest.raises(TypeError, match="expects a Graph"):
        asyncio.run(AsyncRunner().run(None, {"x": 1}))  # type: ignore[arg-type]


def test_async_bound_input_made_inactive_by_select_is_accepted_with_a_warning() -> None:
    """AsyncRunner warns instead of rejecting a bound keyword that select() left unused."""

    @node(output_name="y")
    async def f(x: int) -> int:
        return x + 1

    @node(output_name="other")
    async def side(k: int) -> int:
        return k

    selected = Graph([f, side]).bind(k=1).select("y")
    with pytest.warns(UserWarning, match="'k' is bound"):
        result = asyncio.run(AsyncRunner().run(selected, x=1, k=2))
    assert result.values == {"y": 2}


def test_async_route_may_return_its_fallback() -> None:
    """On AsyncRunner a route returning its fallback's name activates it."""
    from hypergraph import route

    @route(["f"], fallback="g")
    def decide(x: int) -> str:
        return "g"

    @node(output_name="y")
    async def f(x: int) -> int:
        return x

    @node(output_name="w")
    async def g(x: int) -> int:
        return -x

    result = asyncio.run(AsyncRunner().run(Graph([decide, f, g]), {"x": 3}))
    assert result.values == {"w": -3}
