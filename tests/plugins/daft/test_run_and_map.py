"""DaftRunner.run() and map(): results, modes, clone, nested graphs, async and multi-output nodes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hypergraph import DaftRunner, Graph, MapResult, RunResult, RunStatus, node


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


class Payload:
    """An arbitrary Python object travelling between nodes."""

    def __init__(self, value: int, tag: str) -> None:
        self.value = value
        self.tag = tag


def test_run_returns_every_output_of_a_one_row_plan(runner: DaftRunner) -> None:
    """run() executes the chain once and returns a COMPLETED RunResult with all outputs."""
    result = runner.run(Graph([double, add_one]), {"x": 5})
    assert isinstance(result, RunResult)
    assert result.status == RunStatus.COMPLETED
    assert dict(result.values) == {"doubled": 10, "result": 11}
    assert result.run_id.startswith("run-")


def test_run_accepts_and_ignores_max_iterations(runner: DaftRunner) -> None:
    """max_iterations is accepted by run() and has no effect on a DAG (DF3)."""
    assert runner.run(Graph([double]), {"x": 1}, max_iterations=3)["doubled"] == 2


def test_map_returns_one_result_per_item_in_order(runner: DaftRunner) -> None:
    """map() over a list yields a MapResult aligned with the items."""
    results = runner.map(Graph([double, add_one]), {"x": [3, 1, 2]}, map_over="x")
    assert isinstance(results, MapResult)
    assert results["result"] == [7, 3, 5]
    assert results.map_over == ("x",)
    assert len({r.run_id for r in results}) == 3


def test_map_product_runs_every_combination_first_name_outermost(runner: DaftRunner) -> None:
    """product mode gives the Cartesian product in nested-loop order (MP3)."""

    @node(output_name="sum")
    def add(a: int, b: int) -> int:
        return a + b

    results = runner.map(
        Graph([add]), {"a": [1, 2], "b": [10, 20]}, map_over=["a", "b"], map_mode="product"
    )
    assert results["sum"] == [11, 21, 12, 22]


def test_map_zip_with_unequal_lengths_reports_each_length(runner: DaftRunner) -> None:
    """zip mode refuses lists of different lengths, naming both (MP3)."""

    @node(output_name="sum")
    def add(a: int, b: int) -> int:
        return a + b

    with pytest.raises(ValueError, match="a=2, b=3"):
        runner.map(Graph([add]), {"a": [1, 2], "b": [1, 2, 3]}, map_over=["a", "b"])


def test_map_broadcasts_values_that_are_not_mapped(runner: DaftRunner) -> None:
    """A non-mapped value reaches every item."""

    @node(output_name="scaled")
    def scale(x: int, factor: int) -> int:
        return x * factor

    assert runner.map(Graph([scale]), {"x": [1, 2], "factor": 10}, map_over="x")["scaled"] == [10, 20]


def test_clone_gives_each_item_its_own_copy_of_a_broadcast_value(runner: DaftRunner) -> None:
    """With clone=True every item appends to a fresh copy of the broadcast list (MP4)."""

    @node(output_name="seen")
    def remember(x: int, acc: list[int]) -> list[int]:
        acc.append(x)
        return list(acc)

    cloned = runner.map(Graph([remember]), {"x": [1, 2, 3], "acc": []}, map_over="x", clone=True)
    assert cloned["seen"] == [[1], [2], [3]]
    named = runner.map(
        Graph([remember]), {"x": [1, 2], "acc": []}, map_over="x", clone=["acc"]
    )
    assert named["seen"] == [[1], [2]]


def test_empty_map_is_completed_with_no_items(runner: DaftRunner) -> None:
    """An empty batch returns an empty COMPLETED MapResult at once (MP9)."""
    results = runner.map(Graph([double]), {"x": []}, map_over="x")
    assert len(results) == 0
    assert results.status == RunStatus.COMPLETED
    assert results.run_id is None


def test_python_objects_flow_between_nodes(runner: DaftRunner) -> None:
    """Arbitrary objects pass from node to node unchanged in kind."""

    @node(output_name="payload")
    def wrap(x: int) -> Payload:
        return Payload(x, "t")

    @node(output_name="label")
    def label(payload: Payload) -> str:
        return f"{payload.tag}:{payload.value}"

    results = runner.map(Graph([wrap, label]), {"x": [1, 2]}, map_over="x")
    assert results["label"] == ["t:1", "t:2"]
    assert all(isinstance(p, Payload) for p in results["payload"])


def test_multi_output_nodes_are_unnested_into_their_outputs(runner: DaftRunner) -> None:
    """A node with two outputs fills two values that downstream nodes read by name."""

    @node(output_name=("total", "diff"))
    def both(a: int, b: int) -> tuple[int, int]:
        return a + b, a - b

    @node(output_name="product")
    def times(total: int, diff: int) -> int:
        return total * diff

    results = runner.map(Graph([both, times]), {"a": [5, 3], "b": [1, 2]}, map_over=["a", "b"])
    assert results["total"] == [6, 5]
    assert results["diff"] == [4, 1]
    assert results["product"] == [24, 5]


def test_multi_output_node_returning_the_wrong_count_fails_with_core_message(
    runner: DaftRunner,
) -> None:
    """A wrong tuple length fails the node with the ValueError every runner raises (N7)."""

    @node(output_name=("a", "b"))
    def short(x: int) -> tuple[int]:
        return (x,)

    with pytest.raises(ValueError, match="declares 2 outputs"):
        runner.run(Graph([short]), {"x": 1})


def test_async_nodes_run_as_async_udfs_concurrently(runner: DaftRunner) -> None:
    """Async nodes are awaited inside Daft; many rows sleep concurrently, not one after another."""
    in_flight = {"now": 0, "peak": 0}

    @node(output_name="slow")
    async def slow_double(x: int) -> int:
        in_flight["now"] += 1
        in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
        await asyncio.sleep(0.01)
        in_flight["now"] -= 1
        return x * 2

    results = runner.map(Graph([slow_double]), {"x": list(range(40))}, map_over="x")
    assert results["slow"] == [x * 2 for x in range(40)]
    assert in_flight["peak"] > 1


def test_generators_are_drained_and_str_generators_joined(runner: DaftRunner) -> None:
    """Generator nodes store the list of chunks; a `-> str` generator stores the joined text (GN2)."""

    @node(output_name="numbers")
    def count_up(n: int):  # type: ignore[no-untyped-def]
        yield from range(n)

    @node(output_name="text")
    def spell(n: int) -> str:  # type: ignore[misc]
        for i in range(n):
            yield str(i)  # type: ignore[misc]

    @node(output_name="tokens")
    async def tokens(n: int):  # type: ignore[no-untyped-def]
        for i in range(n):
            yield i

    result = runner.run(Graph([count_up, spell, tokens]), {"n": 3})
    assert result["numbers"] == [0, 1, 2]
    assert result["text"] == "012"
    assert result["tokens"] == [0, 1, 2]


def test_defaults_and_bound_values_fill_inputs(runner: DaftRunner) -> None:
    """A parameter default and a bound value are used when the caller gives none."""

    @node(output_name="out")
    def combine(x: int, offset: int = 100, scale: int = 1) -> int:
        return x * scale + offset

    graph = Graph([combine]).bind(scale=3)
    assert runner.map(graph, {"x": [1, 2]}, map_over="x")["out"] == [103, 106]


def test_mutable_defaults_are_copied_for_every_row(runner: DaftRunner) -> None:
    """A list default starts empty on every row (X12)."""

    @node(output_name="items")
    def append(x: int, acc: list[int] = []) -> list[int]:  # noqa: B006
        acc.append(x)
        return acc

    assert runner.map(Graph([append]), {"x": [1, 2, 3]}, map_over="x")["items"] == [[1], [2], [3]]


def test_side_effect_nodes_run_for_every_row(runner: DaftRunner, tmp_path: Any) -> None:
    """A node with no outputs still runs once per row."""
    log = tmp_path / "log.txt"

    @node
    def record(x: int, path: str) -> None:
        with open(path, "a") as fh:
            fh.write(f"{x}\n")

    results = runner.map(Graph([record]), {"x": [1, 2, 3], "path": str(log)}, map_over="x")
    assert results.status == RunStatus.COMPLETED
    assert sorted(log.read_text().split()) == ["1", "2", "3"]


def test_graph_select_limits_the_returned_values(runner: DaftRunner) -> None:
    """Only the graph's selected outputs appear in each result."""
    graph = Graph([double, add_one]).select("result")
    assert dict(runner.run(graph, {"x": 1}).values) == {"result": 3}


def test_nested_graph_nodes_are_inlined_with_renames(runner: DaftRunner) -> None:
    """A nested graph runs as part of the same plan, with renamed inputs and outputs."""
    inner = Graph([double, add_one], name="inner")
    gn = inner.as_node().rename_inputs(x="start").rename_outputs(result="final")

    @node(output_name="shown")
    def show(final: int) -> str:
        return f"={final}"

    results = runner.map(Graph([gn, show]), {"start": [1, 5]}, map_over="start")
    assert results["final"] == [3, 11]
    assert results["shown"] == ["=3", "=11"]
    assert "doubled" in results[0].values


def test_nested_graph_with_select_keeps_its_private_values_private(runner: DaftRunner) -> None:
    """Values the inner graph does not expose are not outputs of the outer run."""
    inner = Graph([double, add_one], name="inner").select("result")
    result = runner.run(Graph([inner.as_node()]), {"x": 2})
    assert dict(result.values) == {"result": 5}


def test_mapped_nested_graph_returns_lists_per_row(runner: DaftRunner) -> None:
    """A GraphNode with map_over turns each row's list into a list of results (MP11)."""
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node().map_over("x")])
    assert runner.map(outer, {"x": [[1, 2], [], [5]]}, map_over="x")["doubled"] == [
        [2, 4], [], [10],
    ]


def test_mapped_nested_graph_in_continue_mode_puts_none_for_failed_items(
    runner: DaftRunner,
) -> None:
    """Inner items that fail become None in the output lists when the node maps in continue mode."""

    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 2:
            raise ValueError("no twos")
        return x

    inner = Graph([picky], name="inner")
    outer = Graph([inner.as_node().map_over("x", error_handling="continue")])
    assert runner.run(outer, {"x": [1, 2, 3]})["y"] == [1, None, 3]


def test_mapped_nested_graph_product_mode(runner: DaftRunner) -> None:
    """A mapped GraphNode in product mode combines its list inputs."""

    @node(output_name="pair")
    def pair(a: int, b: str) -> str:
        return f"{a}{b}"

    inner = Graph([pair], name="pairs")
    outer = Graph([inner.as_node().map_over("a", "b", mode="product")])
    assert runner.run(outer, {"a": [1, 2], "b": ["x", "y"]})["pair"] == ["1x", "1y", "2x", "2y"]


def test_keyword_inputs_and_option_names_follow_core_rules(runner: DaftRunner) -> None:
    """Keyword shorthand works; a map option passed to run() is refused (X15)."""
    assert runner.run(Graph([double]), x=4)["doubled"] == 8
    with pytest.raises(ValueError, match="map_over"):
        runner.run(Graph([double]), {"x": 1}, map_over="x")
    with pytest.raises(ValueError, match="max_iterations"):
        runner.map(Graph([double]), {"x": [1]}, map_over="x", max_iterations=3)


def test_map_result_reads_like_any_map_result(runner: DaftRunner) -> None:
    """Indexing, slicing, iteration, get() and summary() agree with the per-item results."""

    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 1:
            raise ValueError("one")
        return x * 10

    results = runner.map(Graph([picky]), {"x": [0, 1, 2]}, map_over="x", error_handling="continue")
    assert isinstance(results, MapResult)
    assert len(results) == 3
    assert [r.get("y") for r in results] == results["y"] == [0, None, 20]
    assert results.get("y", -1) == [0, -1, 20]
    assert results.get("missing") == [None, None, None]
    assert results[-1]["y"] == 20
    assert results[0] is results[0]
    assert [r["y"] for r in results[0:3:2]] == [0, 20]
    assert [r.status for r in results.failures] == [RunStatus.FAILED]
    assert results.summary().startswith("3 items (2 completed, 1 failed)")
    with pytest.raises(IndexError):
        results[3]
