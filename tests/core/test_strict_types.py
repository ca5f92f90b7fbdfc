"""Graph(strict_types=True): connected outputs and inputs must have compatible annotations (ER1)."""

from __future__ import annotations

import pytest

from hypergraph import Graph, GraphConfigError, interrupt, node


@node(output_name="y")
def make_int(x: int) -> int:
    return x


@node(output_name="z")
def wants_str(y: str) -> str:
    return y


@node(output_name="z")
def wants_float(y: float | None) -> float:
    return float(y or 0)


def test_mismatched_annotations_are_rejected_naming_both_nodes() -> None:
    """An int output wired into a str parameter fails at construction."""
    with pytest.raises(GraphConfigError, match=r"'make_int' produces 'y' as int, but node 'wants_str' expects str"):
        Graph([make_int, wants_str], strict_types=True)


def test_same_graph_builds_without_strict_types() -> None:
    """The check is opt-in."""
    Graph([make_int, wants_str])


def test_subclasses_and_unions_are_compatible() -> None:
    """bool fits ``int | None``; int does not fit ``float | None`` (no numeric promotion)."""

    @node(output_name="y")
    def make_bool(x: int) -> bool:
        return bool(x)

    @node(output_name="z")
    def wants_optional_int(y: int | None) -> int:
        return y or 0

    Graph([make_bool, wants_optional_int], strict_types=True)
    with pytest.raises(GraphConfigError, match="expects"):
        Graph([make_int, wants_float], strict_types=True)


def test_generic_containers_compare_their_arguments() -> None:
    """list[int] fits list and list[int], not list[str]."""

    @node(output_name="y")
    def make(x: int) -> list[int]:
        return [x]

    @node(output_name="z")
    def plain(y: list) -> int:
        return len(y)

    @node(output_name="z")
    def strings(y: list[str]) -> int:
        return len(y)

    Graph([make, plain], strict_types=True)
    with pytest.raises(GraphConfigError, match="expects"):
        Graph([make, strings], strict_types=True)


def test_missing_annotation_is_reported() -> None:
    """Strict mode needs both sides annotated, and says which one is missing."""

    @node(output_name="y")
    def untyped(x):  # type: ignore[no-untyped-def]
        return x

    with pytest.raises(GraphConfigError, match="output 'y' of node 'untyped' has no type annotation"):
        Graph([untyped, wants_str], strict_types=True)


def test_tuple_return_annotations_type_each_output() -> None:
    """A ``tuple[A, B]`` return types the outputs by position."""

    @node(output_name=("name", "size"))
    def describe(x: int) -> tuple[str, int]:
        return "x", x

    @node(output_name="label")
    def label(name: str, size: int) -> str:
        return f"{name}{size}"

    Graph([describe, label], strict_types=True)


def test_interrupt_outputs_drop_the_none_that_means_pause() -> None:
    """An interrupt annotated ``-> str | None`` produces a str."""

    @interrupt(output_name="y")
    def ask(x: int) -> str | None:
        return None

    Graph([ask, wants_str], strict_types=True)


def test_nested_graph_ports_use_the_inner_annotations() -> None:
    """A nested graph's output port has the inner producer's type."""
    inner = Graph([make_int], name="inner")
    with pytest.raises(GraphConfigError, match="'inner' produces 'y' as int"):
        Graph([inner.as_node(), wants_str], strict_types=True)
