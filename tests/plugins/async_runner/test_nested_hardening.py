"""AsyncRunner: inner binds by reference, namespaced ports and scoped outputs of nested graphs."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from hypergraph import AsyncRunner, Graph, GraphConfigError, node


class Embedder:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls = 0

    def embed(self, text: str) -> list[float]:
        with self.lock:
            self.calls += 1
        return [float(len(text))]


@node(output_name="vector")
async def embed(query: str, embedder: Embedder) -> list[float]:
    return embedder.embed(query)


@node(output_name="out")
async def shout(x: str) -> str:
    return x.upper()


inner_graph = Graph([shout], name="inner")


def run(graph: Graph, values: dict[str, Any]) -> Any:
    return asyncio.run(AsyncRunner().run(graph, values))


def test_async_inner_bind_is_passed_by_reference() -> None:
    """An RLock-holding bound embedder reaches every run as the same object."""
    embedder = Embedder()
    outer = Graph([Graph([embed], name="retrieval").bind(embedder=embedder).as_node()])
    run(outer, {"query": "a"})
    run(outer, {"query": "b"})
    assert embedder.calls == 2


def test_async_runtime_value_overriding_an_inner_bind_warns() -> None:
    """A run-time value replacing an inner bind warns on AsyncRunner too."""
    bound, given = Embedder(), Embedder()
    outer = Graph([Graph([embed], name="retrieval").bind(embedder=bound).as_node()])
    with pytest.warns(UserWarning, match="'embedder'"):
        run(outer, {"query": "a", "embedder": given})
    assert (given.calls, bound.calls) == (1, 0)


def test_async_nested_dict_values_reach_a_namespaced_graph_node() -> None:
    """{"inner": {"x": ...}} feeds port inner.x on AsyncRunner."""
    outer = Graph([inner_graph.as_node(namespaced=True)])
    assert run(outer, {"inner": {"x": "hi"}})["inner.out"] == "HI"


def test_async_renamed_namespaced_copies_run_side_by_side() -> None:
    """Two namespaced copies renamed with with_name() do not collide."""
    a = inner_graph.as_node(namespaced=True).with_name("a")
    b = inner_graph.as_node(namespaced=True).with_name("b").map_over("x")
    result = run(Graph([a, b]), {"a.x": "p", "b.x": ["q", "r"]})
    assert (result["a.out"], result["b.out"]) == ("P", ["Q", "R"])


def test_async_graph_node_of_an_entrypoint_scoped_graph_exposes_active_outputs() -> None:
    """Only the active scope's outputs come back from an entrypoint-scoped nested graph."""

    @node(output_name="draft")
    async def write(topic: str) -> str:
        return topic

    @node(output_name="final")
    async def polish(draft: str) -> str:
        return draft + "!"

    gn = Graph([write, polish], name="edit", entrypoint="polish").as_node()
    assert run(Graph([gn]), {"draft": "d"}).values == {"final": "d!"}


def test_async_structure_checks_of_a_very_deep_graph() -> None:
    """AsyncRunner's pre-run checks and plan walk a nesting deeper than the recursion limit."""
    import sys

    from hypergraph.runners._support import check_structure

    @node(output_name="y")
    async def inc(x: int) -> int:
        return x + 1

    graph = Graph([inc], name="g0")
    for level in range(1, sys.getrecursionlimit() + 200):
        graph = Graph([graph.as_node(name=f"g{level}")], name=f"g{level}")
    with pytest.raises(GraphConfigError, match="levels deep"):  # not a RecursionError
        check_structure(AsyncRunner(), graph)
    assert graph.plan.total and len(graph.definition_hash) == 64
