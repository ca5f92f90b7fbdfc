"""Graph walks are iterative: hashes, interrupt detection, plans and checks at any nesting depth."""

from __future__ import annotations

import sys

import pytest

from hypergraph import Graph, GraphConfigError, SyncRunner, interrupt, node
from hypergraph.runners._support import check_structure


@node(output_name="y")
def inc(x: int) -> int:
    return x + 1


def nest(depth: int, leaf: Graph) -> Graph:
    graph = leaf
    for level in range(1, depth):
        graph = Graph([graph.as_node(name=f"g{level}")], name=f"g{level}")
    return graph


DEPTH = sys.getrecursionlimit() + 200


@pytest.fixture(scope="module")
def deep() -> Graph:
    return nest(DEPTH, Graph([inc], name="g0"))


def test_definition_and_code_hashes_of_a_very_deep_graph(deep: Graph) -> None:
    """definition_hash and code_hash work beyond the interpreter's recursion limit."""
    assert len(deep.definition_hash) == 64 and len(deep.code_hash) == 64
    assert deep.definition_hash != nest(DEPTH - 1, Graph([inc], name="g0")).definition_hash


def test_has_interrupts_of_a_very_deep_graph() -> None:
    """An interrupt at the bottom of a very deep nesting is found without recursion."""

    @interrupt(output_name="answer")
    def ask(question: str) -> None:
        return None

    deep_with_pause = nest(DEPTH, Graph([ask], name="g0"))
    assert deep_with_pause.has_interrupts
    assert not nest(DEPTH, Graph([inc], name="g0")).has_interrupts


def test_plan_and_structure_checks_of_a_very_deep_graph(deep: Graph) -> None:
    """Building the plan and checking the runner's node types do not recurse per level; the
    check ends with the clear depth error, not a RecursionError."""
    with pytest.raises(GraphConfigError, match="levels deep"):
        check_structure(SyncRunner(), deep)
    assert deep.plan.total


def test_strict_types_across_a_very_deep_nesting(deep: Graph) -> None:
    """strict_types resolves a port's types through every nesting level without recursion."""
    Graph([deep.as_node(name="top")], strict_types=True)
