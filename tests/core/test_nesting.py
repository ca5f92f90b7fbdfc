"""Nested graphs as nodes: wiring, failures, scoped values, mapped nodes and child-run events."""

from __future__ import annotations

import pytest

from hypergraph import (
    Graph,
    NodeEndEvent,
    NodeStartEvent,
    RunStartEvent,
    SyncRunner,
    node,
)
from hypergraph.events import EventProcessor


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="total")
def add(doubled: int, y: int) -> int:
    return doubled + y


class Recorder(EventProcessor):
    """Keeps every event in order and counts shutdowns."""

    def __init__(self) -> None:
        self.events: list = []
        self.shutdowns = 0

    def on_event(self, event) -> None:
        self.events.append(event)

    def shutdown(self) -> None:
        self.shutdowns += 1


# ---------------------------------------------------------------------------- R11 wiring


def test_nested_graph_wires_by_name():
    """R11: the overview's inner/outer example feeds the inner output to the outer node."""
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node(), add], name="outer")
    result = SyncRunner().run(outer, {"x": 5, "y": 1})
    assert result.values == {"doubled": 10, "total": 11}


def test_nested_graph_ports_follow_renames():
    """R11: renamed ports translate into and out of the inner run."""
    inner = Graph([double], name="inner")
    gn = inner.as_node().rename_inputs(x="value").rename_outputs(doubled="d")

    @node(output_name="shown")
    def show(d: int) -> str:
        return f"d={d}"

    result = SyncRunner().run(Graph([gn, show]), {"value": 4})
    assert result.values == {"d": 8, "shown": "d=8"}


def test_inner_failure_propagates_the_inner_exception():
    """R11: a failing inner node raises its own exception object through the parent."""
    raised: list[Exception] = []

    @node(output_name="y")
    def boom(x: int) -> int:
        error = KeyError("inner")
        raised.append(error)
        raise error

    outer = Graph([Graph([boom], name="inner").as_node()])
    with pytest.raises(KeyError) as info:
        SyncRunner().run(outer, {"x": 1})
    assert info.value is raised[0]


def test_inner_failure_in_continue_mode_fails_the_outer_run():
    """R11: with error_handling="continue" the outer result is FAILED with the inner error."""

    @node(output_name="y")
    def boom(x: int) -> int:
        raise RuntimeError("inner")

    @node(output_name="before")
    def first(x: int) -> int:
        return x

    outer = Graph([first, Graph([boom], name="inner").as_node()])
    result = SyncRunner().run(outer, {"x": 1}, error_handling="continue")
    assert result.status == "failed"
    assert isinstance(result.error, RuntimeError)
    assert result.values == {"before": 1}


# ---------------------------------------------------------------------------- G14 scoped values


@node(output_name="outer_x")
def echo(x: int) -> int:
    return x


def test_dotted_key_overrides_a_flat_value_for_one_subgraph():
    """G14: "gn.x" reaches only the subgraph gn; other consumers get the flat x."""
    gn = Graph([double], name="gn").as_node()
    result = SyncRunner().run(Graph([echo, gn]), {"x": 1, "gn.x": 10})
    assert result.values == {"outer_x": 1, "doubled": 20}


def test_nested_dict_overrides_a_flat_value_for_one_subgraph():
    """G14: {"gn": {"x": ...}} is the nested form of "gn.x"."""
    gn = Graph([double], name="gn").as_node()
    result = SyncRunner().run(Graph([echo, gn]), {"x": 1, "gn": {"x": 10}})
    assert result.values == {"outer_x": 1, "doubled": 20}


def test_dotted_key_alone_satisfies_the_subgraph_input():
    """G14: a subgraph's input given only by dotted key is not reported missing."""
    gn = Graph([double], name="gn").as_node()
    assert SyncRunner().run(Graph([gn]), {"gn.x": 3}).values == {"doubled": 6}


def test_dotted_key_as_keyword_points_to_values():
    """G14: dotted keys cannot be keywords; the error points to values={...}."""
    gn = Graph([double], name="gn").as_node()
    with pytest.raises(ValueError, match=r"values=\{"):
        SyncRunner().run(Graph([gn]), **{"gn.x": 3})


# ---------------------------------------------------------------------------- MP11 mapped nodes


def test_mapped_graph_node_outputs_lists():
    """MP11: as_node().map_over("x") turns each output into a list aligned with the items."""
    gn = Graph([double], name="inner").as_node().map_over("x")
    result = SyncRunner().run(Graph([gn]), {"x": [1, 2, 3]})
    assert result.values == {"doubled": [2, 4, 6]}


def test_mapped_graph_node_feeds_downstream_with_the_list():
    """MP11: a downstream node receives the whole list."""
    gn = Graph([double], name="inner").as_node().map_over("x")

    @node(output_name="total")
    def total_of(doubled: list) -> int:
        return sum(doubled)

    assert SyncRunner().run(Graph([gn, total_of]), {"x": [1, 2, 3]})["total"] == 12


def test_mapped_graph_node_continue_mode_puts_none_for_failures():
    """MP11: with error_handling="continue" a failed item contributes None."""

    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x * 10

    gn = Graph([picky], name="inner").as_node().map_over("x", error_handling="continue")
    result = SyncRunner().run(Graph([gn]), {"x": [1, 2, 3]})
    assert result.values == {"y": [10, None, 30]}


def test_mapped_graph_node_raise_mode_propagates_the_item_error():
    """MP11: the default raise mode re-raises the failing item's exception."""

    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    gn = Graph([picky], name="inner").as_node().map_over("x")
    with pytest.raises(ValueError, match="two"):
        SyncRunner().run(Graph([gn]), {"x": [1, 2, 3]})


def test_mapped_graph_node_over_empty_list_gives_empty_lists():
    """MP11: an empty input list yields empty output lists."""
    gn = Graph([double], name="inner").as_node().map_over("x")
    assert SyncRunner().run(Graph([gn]), {"x": []}).values == {"doubled": []}


def test_mapped_graph_node_rejects_a_scalar():
    """MP11: a scalar where the mapped list is expected is a TypeError naming the parameter."""
    gn = Graph([double], name="inner").as_node().map_over("x")
    with pytest.raises(TypeError, match="'x'"):
        SyncRunner().run(Graph([gn]), {"x": 5})


def test_mapped_graph_node_scalar_error_names_the_renamed_port():
    """MP11: the TypeError names the parameter the caller passed, after renames."""

    @node(output_name="s")
    def add_ab(a: int, b: int) -> int:
        return a + b

    gn = Graph([add_ab], name="adder").as_node().rename_inputs(a="aa").map_over("aa")
    with pytest.raises(TypeError, match="'aa'"):
        SyncRunner().run(Graph([gn]), {"aa": 3, "b": 10})


def test_mapped_graph_node_product_mode():
    """MP11/MP3: a mapped GraphNode in product mode yields every combination in order."""

    @node(output_name="s")
    def add_ab(a: int, b: int) -> int:
        return a + b

    gn = Graph([add_ab], name="adder").as_node().map_over("a", "b", mode="product")
    result = SyncRunner().run(Graph([gn]), {"a": [1, 2], "b": [10, 20]})
    assert result.values == {"s": [11, 21, 12, 22]}


def test_mapped_graph_node_item_without_output_gets_none():
    """MP11: an item that finishes without producing an output contributes None."""
    from hypergraph import route

    @route(targets=["make"])
    def only_odd(x: int):
        return "make" if x % 2 else None

    @node(output_name="y")
    def make(x: int) -> int:
        return x

    gn = Graph([only_odd, make], name="inner").as_node().map_over("x")
    assert SyncRunner().run(Graph([gn]), {"x": [1, 2, 3]}).values == {"y": [1, None, 3]}


# ---------------------------------------------------------------------------- events (EV3, EV5, EV9)


def _nested_run() -> Recorder:
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node(), add], name="outer")
    recorder = Recorder()
    SyncRunner().run(outer, {"x": 5, "y": 1}, event_processors=[recorder])
    return recorder


def test_child_run_is_parented_to_the_graph_node_span():
    """EV3: the child RunStart's parent_span_id is the GraphNode's node span; own run_id."""
    events = _nested_run().events
    starts = [e for e in events if isinstance(e, RunStartEvent)]
    outer_start, inner_start = starts
    gn_start = next(e for e in events if isinstance(e, NodeStartEvent) and e.node_name == "inner")
    assert inner_start.graph_name == "inner"
    assert inner_start.parent_span_id == gn_start.span_id
    assert inner_start.run_id != outer_start.run_id
    assert gn_start.parent_span_id == outer_start.span_id


def test_child_events_sit_between_the_graph_nodes_start_and_end():
    """EV4/EV9: processors see the inner run between the GraphNode's NodeStart and NodeEnd."""
    events = _nested_run().events
    gn_start = next(
        i for i, e in enumerate(events) if isinstance(e, NodeStartEvent) and e.node_name == "inner"
    )
    gn_end = next(
        i for i, e in enumerate(events) if isinstance(e, NodeEndEvent) and e.node_name == "inner"
    )
    inner = [
        (type(e).__name__, getattr(e, "node_name", None))
        for e in events[gn_start + 1 : gn_end]
    ]
    assert inner == [
        ("RunStartEvent", None),
        ("SuperstepStartEvent", None),
        ("NodeStartEvent", "double"),
        ("NodeEndEvent", "double"),
        ("RunEndEvent", None),
    ]


def test_mapped_graph_node_items_nest_under_the_node_span():
    """EV3/EV8: a mapped GraphNode's map run is parented to the node span; items to the map."""
    gn = Graph([double], name="inner").as_node().map_over("x")
    recorder = Recorder()
    SyncRunner().run(Graph([gn]), {"x": [1, 2]}, event_processors=[recorder])
    events = recorder.events
    gn_start = next(e for e in events if isinstance(e, NodeStartEvent) and e.node_name == "inner")
    map_start = next(e for e in events if isinstance(e, RunStartEvent) and e.is_map)
    items = [e for e in events if isinstance(e, RunStartEvent) and e.item_index is not None]
    assert map_start.parent_span_id == gn_start.span_id
    assert map_start.map_size == 2
    assert [e.parent_span_id for e in items] == [map_start.span_id] * 2


def test_deeper_dotted_key_chains_through_nested_graphs():
    """G14: "mid.inner.x" addresses x of the graph nested two levels down."""
    inner = Graph([double], name="inner")
    mid = Graph([inner.as_node()], name="mid")
    outer = Graph([echo, mid.as_node()])
    result = SyncRunner().run(outer, {"x": 1, "mid.inner.x": 10})
    assert result.values == {"outer_x": 1, "doubled": 20}


def test_bound_inner_value_is_the_graph_node_default():
    """N11: an inner-bound input is optional on the node and keeps its bound value."""
    gn = Graph([double], name="inner").bind(x=3).as_node()
    assert SyncRunner().run(Graph([gn])).values == {"doubled": 6}
    with pytest.warns(UserWarning, match="override values bound inside nested graphs: 'x'"):
        assert SyncRunner().run(Graph([gn]), {"x": 5}).values == {"doubled": 10}


def test_processor_shutdown_is_called_once_for_a_nested_run():
    """EV5: shutdown() runs exactly once, after the top-level run."""
    assert _nested_run().shutdowns == 1


def test_processor_shutdown_is_called_once_for_a_map():
    """EV5: shutdown() runs once per top-level map, not per item."""
    recorder = Recorder()
    SyncRunner().map(Graph([double]), {"x": [1, 2, 3]}, map_over="x", event_processors=[recorder])
    assert recorder.shutdowns == 1


def test_ten_levels_of_nesting_run():
    """Graphs nested ten deep pass values all the way in and out."""
    graph = Graph([double], name="level0")
    for depth in range(1, 11):
        graph = Graph([graph.as_node()], name=f"level{depth}")
    recorder = Recorder()
    result = SyncRunner().run(graph, {"x": 21}, event_processors=[recorder])
    assert result.values == {"doubled": 42}
    assert sum(isinstance(e, RunStartEvent) for e in recorder.events) == 11
    assert recorder.shutdowns == 1
