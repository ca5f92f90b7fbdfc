"""Mistakes at construction are caught there, and messages say what the user needs (items 11-13)."""

from __future__ import annotations

import warnings

import pytest

from hypergraph import END, Graph, SyncRunner, node, route
from hypergraph.exceptions import GraphConfigError, RenameError
from hypergraph.nodes import HyperNode
from hypergraph.nodes._base import CallableNode


@node(output_name="y")
def f(x: int) -> int:
    return x + 1


@node(output_name="z")
def g(y: int) -> int:
    return y * 2


# -- item 11 ---------------------------------------------------------------------------------


def test_duplicate_output_names_are_rejected_at_decoration() -> None:
    """output_name=("r", "r") is a ValueError instead of the second value silently winning."""
    with pytest.raises(ValueError, match="'r' twice"):

        @node(output_name=("r", "r"))
        def pair(x: int) -> tuple[int, int]:
            return x, x


@pytest.mark.parametrize("name", ["a.b", "a/b"])
def test_a_graph_name_with_a_dot_or_slash_is_rejected(name: str) -> None:
    """'.' and '/' are reserved for nesting paths, so such a graph name fails at once."""
    with pytest.raises(GraphConfigError, match="reserved"):
        Graph([f], name=name)


def test_a_node_named_end_is_rejected() -> None:
    """A node named END could never be routed to: GraphConfigError."""
    with pytest.raises(GraphConfigError, match="'END' is reserved"):
        Graph([f.with_name("END")])


def test_select_with_a_repeated_name_is_rejected() -> None:
    """select("y", "y") is a ValueError naming the repeated output."""
    with pytest.raises(ValueError, match="'y' more than once"):
        Graph([f, g]).select("y", "y")


@pytest.mark.parametrize("base", [HyperNode, CallableNode])
def test_the_abstract_node_bases_cannot_be_instantiated(base: type) -> None:
    """HyperNode() is a TypeError pointing to the real node types."""
    with pytest.raises(TypeError, match="@node"):
        base()


# -- item 12 ---------------------------------------------------------------------------------


def test_rename_with_no_mapping_returns_an_unchanged_copy() -> None:
    """rename_inputs() / rename_outputs() without renames give an equal, separate node."""
    same_in, same_out = f.rename_inputs(), f.rename_outputs()
    assert same_in is not f and same_in.inputs == f.inputs
    assert same_out is not f and same_out.outputs == f.outputs


def test_route_targets_are_deduplicated_and_list_the_fallback() -> None:
    """targets=["a", "a"] with fallback "b" reads ["a", "b"]."""

    @route(["a", "a", END], fallback="b")
    def decide(x: int) -> str:
        return "a"

    assert decide.targets == ["a", END, "b"]


def test_returning_the_fallback_target_is_allowed() -> None:
    """A route may return its fallback's name, since it is one of its targets."""

    @route(["f"], fallback="g2")
    def decide(x: int) -> str:
        return "g2"

    @node(output_name="w")
    def g2(x: int) -> int:
        return -x

    result = SyncRunner().run(Graph([decide, f, g2]), {"x": 3})
    assert result.values == {"w": -3}


def test_a_bound_input_made_inactive_by_select_is_accepted_with_a_warning() -> None:
    """Passing a bound name that select() left unused warns instead of raising."""

    @node(output_name="other")
    def side(k: int) -> int:
        return k

    graph = Graph([f, side]).bind(k=1).select("y")
    with pytest.warns(UserWarning, match="'k' is bound"):
        result = SyncRunner().run(graph, x=1, k=2)
    assert result.values == {"y": 2}


# -- item 13 ---------------------------------------------------------------------------------


def test_rename_history_error_shows_every_hop() -> None:
    """After a -> x -> z, renaming 'a' again explains the whole chain."""

    @node(output_name="out")
    def h(a: int) -> int:
        return a

    with pytest.raises(RenameError, match=r"a -> x -> z"):
        h.rename_inputs(a="x").rename_inputs(x="z").rename_inputs(a="q")


def test_signature_error_names_every_offending_parameter() -> None:
    """Positional-only, *args and **kwargs are all listed in one TypeError."""
    with pytest.raises(TypeError) as caught:

        @node(output_name="y")
        def bad(a, /, *rest, **extra):  # type: ignore[no-untyped-def]
            return a

    message = str(caught.value)
    assert "'a'" in message and "'*rest'" in message and "'**extra'" in message


def test_unreachable_select_error_lists_the_producible_outputs() -> None:
    """The error says which outputs the entrypoints can still produce."""
    with pytest.raises(GraphConfigError, match="can produce: 'z'"):
        Graph([f, g], entrypoint="g").select("y")


def test_invalid_output_name_error_suggests_renaming_the_output() -> None:
    """A keyword output name points to rename_outputs, not to with_name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = node(output_name="class")(lambda x: x)
    with pytest.raises(GraphConfigError) as caught:
        Graph([bad.with_name("ok")])
    message = str(caught.value)
    assert "rename_outputs" in message and "with_name" not in message
