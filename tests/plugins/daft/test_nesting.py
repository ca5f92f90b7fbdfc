"""DaftRunner as the runner of a nested graph under SyncRunner and AsyncRunner (R12, R14)."""

from __future__ import annotations

import asyncio

import pytest

from hypergraph import AsyncRunner, DaftRunner, Graph, RunStatus, SyncRunner, node


@node(output_name="cleaned")
def clean(text: str) -> str:
    return text.strip().lower()


@node(output_name="length")
def measure(cleaned: str) -> int:
    return len(cleaned)


@node(output_name="total")
def add_up(length: list[int]) -> int:
    return sum(length)


INNER = Graph([clean, measure], name="features")


def test_mapped_daft_graph_under_sync_runner() -> None:
    """SyncRunner calls DaftRunner.map directly for a mapped nested graph; outputs are lists."""
    gn = INNER.as_node(runner=DaftRunner()).map_over("text")
    result = SyncRunner().run(Graph([gn, add_up]), {"text": [" Ab ", "CDE", "f"]})
    assert result.status == RunStatus.COMPLETED
    assert result["length"] == [2, 3, 1]
    assert result["total"] == 6


def test_daft_graph_under_async_runner_runs_in_a_thread() -> None:
    """AsyncRunner runs the Daft child off the event loop (to_thread) and gets its outputs."""
    gn = INNER.as_node(runner=DaftRunner())

    @node(output_name="shout")
    async def shout(cleaned: str) -> str:
        await asyncio.sleep(0)
        return cleaned.upper()

    result = asyncio.run(AsyncRunner().run(Graph([gn, shout]), {"text": " Hello "}))
    assert result["length"] == 5
    assert result["shout"] == "HELLO"


def test_failure_inside_the_daft_child_reaches_the_parent_with_its_type() -> None:
    """A node error inside the Daft-run child is the parent's error, type intact (R11)."""

    @node(output_name="cleaned")
    def broken(text: str) -> str:
        raise LookupError(f"cannot clean {text!r}")

    gn = Graph([broken], name="broken").as_node(runner=DaftRunner()).map_over("text")
    with pytest.raises(LookupError, match="cannot clean 'x'"):
        SyncRunner().run(Graph([gn]), {"text": ["x"]})
    result = SyncRunner().run(Graph([gn]), {"text": ["x"]}, error_handling="continue")
    assert result.status == RunStatus.FAILED
    assert isinstance(result.error, LookupError)


def test_daft_runner_never_returns_a_coroutine() -> None:
    """returns_coroutine is False, so sync parents call it directly (R14)."""
    assert DaftRunner().capabilities.returns_coroutine is False


def test_a_nested_graph_given_another_daft_runner_joins_the_same_plan() -> None:
    """as_node(runner=DaftRunner()) inside a DaftRunner graph is inlined, not refused."""
    gn = INNER.as_node(runner=DaftRunner())
    results = DaftRunner().map(Graph([gn]), {"text": [" A ", "bb"]}, map_over="text")
    assert results["length"] == [1, 2]


def test_nested_graphs_naming_sync_or_async_runner_run_on_them_per_row() -> None:
    """A graph node naming SyncRunner or AsyncRunner is called on that runner for each row."""

    @node(output_name="shout")
    async def shout(cleaned: str) -> str:
        await asyncio.sleep(0)
        return cleaned.upper()

    on_sync = INNER.as_node(runner=SyncRunner())
    on_async = Graph([shout], name="loud").as_node(runner=AsyncRunner())
    results = DaftRunner().map(
        Graph([on_sync, on_async]), {"text": [" Ab ", "c"]}, map_over="text"
    )
    assert results["length"] == [2, 1]
    assert results["shout"] == ["AB", "C"]


def test_mapped_nested_graph_on_sync_runner_inside_daft() -> None:
    """A mapped graph node naming SyncRunner maps each row's list on it; failures keep types."""
    gn = INNER.as_node(runner=SyncRunner()).map_over("text")
    results = DaftRunner().map(Graph([gn]), {"text": [["a ", "bb"], ["ccc"]]}, map_over="text")
    assert results["length"] == [[1, 2], [3]]

    @node(output_name="cleaned")
    def broken(text: str) -> str:
        raise LookupError(text)

    failing = Graph([broken], name="broken").as_node(runner=SyncRunner())
    with pytest.raises(LookupError, match="x"):
        DaftRunner().run(Graph([failing]), {"text": "x"})
