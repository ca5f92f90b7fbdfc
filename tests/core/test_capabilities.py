"""RunnerCapabilities: equality with the docs' printouts and recursive graph validation."""

from __future__ import annotations

import pytest

from hypergraph import (
    FunctionNode,
    Graph,
    GraphNode,
    IfElseNode,
    IncompatibleRunnerError,
    RouteNode,
    RunnerCapabilities,
    SyncRunner,
    node,
)


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="fetched")
async def fetch(url: str) -> str:
    return url


def test_sync_runner_capabilities_equal_the_documented_printout() -> None:
    """TC15: SyncRunner's capabilities compare equal to the seed's printed value."""
    assert SyncRunner().capabilities == RunnerCapabilities(
        supports_cycles=True,
        supports_async_nodes=False,
        supports_streaming=False,
        returns_coroutine=False,
    )


def test_capabilities_repr_reads_like_the_docs() -> None:
    """The repr lists the four documented fields, one per line."""
    text = repr(SyncRunner().capabilities)
    assert text.startswith("RunnerCapabilities(\n    supports_cycles=True,")
    assert "returns_coroutine=False" in text


def test_capabilities_are_frozen_values() -> None:
    """Capabilities cannot be changed after construction."""
    caps = RunnerCapabilities()
    with pytest.raises(AttributeError):
        caps.supports_cycles = False  # type: ignore[misc]


def test_sync_runner_node_types_are_the_documented_set() -> None:
    """R6: SyncRunner executes exactly these node types."""
    assert SyncRunner().supported_node_types == {FunctionNode, GraphNode, IfElseNode, RouteNode}
    assert SyncRunner().default_max_iterations == 1000


def test_async_nodes_are_rejected_with_the_fix_in_the_message() -> None:
    """R5: the error names the node, the runner and suggests AsyncRunner."""
    with pytest.raises(IncompatibleRunnerError) as info:
        SyncRunner().capabilities.validate_graph(Graph([fetch]), runner_name="SyncRunner")
    assert str(info.value) == (
        "This graph has async nodes (fetch), but SyncRunner doesn't support async nodes. "
        "Use AsyncRunner instead."
    )
    assert info.value.node_name == "fetch"
    assert info.value.capability == "supports_async_nodes"


def test_validation_recurses_into_nested_graphs() -> None:
    """An async node two levels down is found."""
    inner = Graph([fetch], name="inner")
    middle = Graph([inner.as_node()], name="middle")
    outer = Graph([middle.as_node(), double])
    with pytest.raises(IncompatibleRunnerError, match="async nodes"):
        SyncRunner().run(outer, {"url": "u", "x": 1})


def test_cycles_are_rejected_with_the_design_docs_wording() -> None:
    """R5: a runner without cycle support rejects a loop in S2's words."""

    @node(output_name="count")
    def increment(count: int) -> int:
        return count + 1

    no_cycles = RunnerCapabilities(supports_cycles=False)
    graph = Graph([increment], edges=[(increment, increment, "count")])
    with pytest.raises(IncompatibleRunnerError, match=r"^This graph has cycles, but DaftRunner doesn't support cycles\.$"):
        no_cycles.validate_graph(graph, runner_name="DaftRunner")
