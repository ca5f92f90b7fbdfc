"""Caller mistakes in run()/map() arguments get specific errors (clone, map_over, values, graph)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from hypergraph import Graph, SyncRunner, node
from hypergraph.exceptions import GraphConfigError


@node(output_name="y")
def append(x: int, config: list[int]) -> list[int]:
    config.append(x)
    return list(config)


graph = Graph([append], name="g")


def test_clone_given_as_a_string_clones_that_one_input() -> None:
    """clone="config" deep-copies config per item instead of iterating its letters."""
    config: list[int] = []
    result = SyncRunner().map(graph, {"x": [1, 2], "config": config}, map_over="x", clone="config")
    assert result["y"] == [[1], [2]]
    assert config == []


def test_clone_naming_a_mapped_input_is_a_type_error() -> None:
    """A mapped name in clone is a mistake: each item already gets its own element."""
    with pytest.raises(TypeError, match="'x'"):
        SyncRunner().map(graph, {"x": [1], "config": []}, map_over="x", clone=["x"])


def test_clone_with_a_non_string_entry_is_a_type_error() -> None:
    """clone entries must be input names."""
    with pytest.raises(TypeError, match="input names"):
        SyncRunner().map(graph, {"x": [1], "config": []}, map_over="x", clone=[1])


def test_clone_ignores_unknown_names() -> None:
    """Names in clone that are no input are ignored (MP4)."""
    result = SyncRunner().map(
        graph, {"x": [1, 2], "config": []}, map_over="x", clone=["config", "nope"]
    )
    assert result["y"] == [[1], [2]]


def test_clone_true_with_an_uncopyable_value_names_the_parameter() -> None:
    """clone=True with a lock-holding value raises GraphConfigError naming the input."""

    @node(output_name="y")
    def use(x: int, guard: Any) -> int:
        return x

    with pytest.raises(GraphConfigError, match="'guard'"):
        SyncRunner().map(
            Graph([use]), {"x": [1], "guard": threading.Lock()}, map_over="x", clone=True
        )


def test_map_over_a_name_that_is_not_an_input_fails_early() -> None:
    """A typo in map_over is a ValueError listing the inputs, before any item runs."""
    with pytest.raises(ValueError, match=r"'z'.*Inputs: 'x', 'config'"):
        SyncRunner().map(graph, {"x": [1], "config": [], "z": [1]}, map_over=["x", "z"])


def test_map_over_with_a_duplicate_name_fails_early() -> None:
    """map_over=["x", "x"] is a ValueError, not 9 items for 3."""
    with pytest.raises(ValueError, match="twice"):
        SyncRunner().map(
            graph, {"x": [1, 2, 3], "config": []}, map_over=["x", "x"], map_mode="product"
        )


def test_map_over_a_value_that_is_not_a_list_is_a_type_error() -> None:
    """A mapped scalar is a TypeError naming the input."""
    with pytest.raises(TypeError, match="'x'"):
        SyncRunner().map(graph, {"x": 5, "config": []}, map_over="x")


def test_a_non_string_key_in_values_is_a_type_error_naming_it() -> None:
    """values={1: 2} says input names must be strings, not AttributeError."""
    with pytest.raises(TypeError, match="key 1"):
        SyncRunner().run(graph, {1: 2})  # type: ignore[dict-item]


@pytest.mark.parametrize("bad", [None, "graph", append, [append]])
def test_run_with_something_other_than_a_graph_is_a_type_error(bad: Any) -> None:
    """runner.run(None) (or a string, a node, a list) says a Graph is expected."""
    with pytest.raises(TypeError, match="expects a Graph"):
        SyncRunner().run(bad, {"x": 1})
    with pytest.raises(TypeError, match="expects a Graph"):
        SyncRunner().map(bad, {"x": [1]}, map_over="x")


def test_output_name_that_is_not_a_string_explains_what_is_expected() -> None:
    """output_name=1 is a TypeError describing a valid output_name."""
    with pytest.raises(TypeError, match="output_name must be a string"):

        @node(output_name=1)  # type: ignore[arg-type]
        def f(x: int) -> int:
            return x


def test_a_nested_map_clone_given_as_a_string_clones_that_input() -> None:
    """as_node().map_over(..., clone="config") treats the string as one name."""
    config: list[int] = []
    gn = graph.as_node().map_over("x", clone="config")
    result = SyncRunner().run(Graph([gn]), {"x": [1, 2], "config": config})
    assert result["y"] == [[1], [2]] and config == []
