"""SyncRunner.map(): the seeds' batch examples, MapResult, failures and map events."""

from __future__ import annotations

import re

import pytest

from hypergraph import (
    Graph,
    MapResult,
    RunEndEvent,
    RunResult,
    RunStartEvent,
    RunStatus,
    SyncRunner,
    node,
)
from hypergraph.events import EventProcessor


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def add(a: int, b: int) -> int:
    return a + b


class Recorder(EventProcessor):
    """Keeps every event in order."""

    def __init__(self) -> None:
        self.events: list = []

    def on_event(self, event) -> None:
        self.events.append(event)


# ---------------------------------------------------------------------------- seed examples


def test_map_over_x_doubles_every_item():
    """The batch-processing example doubles 1..5."""
    graph = Graph([double])
    runner = SyncRunner()
    results = runner.map(graph, {"x": [1, 2, 3, 4, 5]}, map_over="x")
    assert [r["doubled"] for r in results] == [2, 4, 6, 8, 10]


def test_zip_mode_pairs_items_by_position():
    """Zip mode (default) pairs (1,10), (2,20), (3,30)."""
    results = SyncRunner().map(
        Graph([add]), {"a": [1, 2, 3], "b": [10, 20, 30]}, map_over=["a", "b"], map_mode="zip"
    )
    assert [r["result"] for r in results] == [11, 22, 33]


def test_product_mode_is_a_nested_loop_with_the_first_name_outermost():
    """Product mode yields (1,10), (1,20), (2,10), (2,20)."""
    results = SyncRunner().map(
        Graph([add]), {"a": [1, 2], "b": [10, 20]}, map_over=["a", "b"], map_mode="product"
    )
    assert [r["result"] for r in results] == [11, 21, 12, 22]


def test_unmapped_values_are_broadcast():
    """MP2: a value not in map_over reaches every item."""
    results = SyncRunner().map(Graph([add]), {"a": [1, 2, 3], "b": 100}, map_over="a")
    assert results["result"] == [101, 102, 103]


def test_map_accepts_keyword_inputs():
    """map() merges keyword shorthand with values like run()."""
    results = SyncRunner().map(Graph([add]), {"a": [1, 2]}, b=5, map_over="a")
    assert results["result"] == [6, 7]


# ---------------------------------------------------------------------------- errors (MP1-MP3)


def test_max_iterations_is_not_a_map_option():
    """MP1: max_iterations= on map() is a ValueError pointing to run()."""
    with pytest.raises(ValueError, match=r"max_iterations.*run\(\)"):
        SyncRunner().map(Graph([double]), {"x": [1]}, map_over="x", max_iterations=3)


def test_missing_map_over_value_is_a_value_error():
    """MP2: a map_over name without a value is a ValueError naming it."""
    with pytest.raises(ValueError, match="'x'"):
        SyncRunner().map(Graph([double]), {}, map_over="x")


def test_map_over_value_must_be_a_list():
    """MP2: a scalar under a map_over name is a TypeError naming it."""
    with pytest.raises(TypeError, match=r"'x'.*list"):
        SyncRunner().map(Graph([double]), {"x": 5}, map_over="x")


def test_map_over_accepts_a_tuple():
    """MP2: a tuple works like a list."""
    assert SyncRunner().map(Graph([double]), {"x": (1, 2)}, map_over="x")["doubled"] == [2, 4]


def test_zip_length_mismatch_reports_each_length():
    """MP3: unequal zip lengths are a ValueError reporting every length."""
    with pytest.raises(ValueError, match=r"a=3.*b=2"):
        SyncRunner().map(Graph([add]), {"a": [1, 2, 3], "b": [1, 2]}, map_over=["a", "b"])


def test_unknown_map_mode_is_rejected():
    """MP3: a mode other than zip/product is a ValueError."""
    with pytest.raises(ValueError, match="map_mode"):
        SyncRunner().map(Graph([double]), {"x": [1]}, map_over="x", map_mode="cross")


def test_runtime_select_on_map_is_rejected():
    """X23: select= on map() is a ValueError too."""
    with pytest.raises(ValueError, match="select"):
        SyncRunner().map(Graph([double]), {"x": [1]}, map_over="x", select=["doubled"])


# ---------------------------------------------------------------------------- clone (MP4)


@node(output_name="seen")
def remember(x: int, log: list) -> list:
    log.append(x)
    return list(log)


def test_broadcast_objects_are_shared_without_clone():
    """MP4: clone=False shares a broadcast list, so mutations leak across items."""
    log: list[int] = []
    results = SyncRunner().map(Graph([remember]), {"x": [1, 2], "log": log}, map_over="x")
    assert results["seen"] == [[1], [1, 2]]
    assert log == [1, 2]


def test_clone_true_copies_broadcast_values_per_item():
    """MP4: clone=True deep-copies every broadcast value per item."""
    log: list[int] = []
    results = SyncRunner().map(
        Graph([remember]), {"x": [1, 2], "log": log}, map_over="x", clone=True
    )
    assert results["seen"] == [[1], [2]]
    assert log == []


def test_clone_list_copies_only_the_named_values():
    """MP4: clone=[names] copies just those names; unknown names are ignored."""

    @node(output_name="seen")
    def two_logs(x: int, kept: list, shared: list) -> tuple:
        kept.append(x)
        shared.append(x)
        return (list(kept), list(shared))

    kept: list[int] = []
    shared: list[int] = []
    results = SyncRunner().map(
        Graph([two_logs]),
        {"x": [1, 2], "kept": kept, "shared": shared},
        map_over="x",
        clone=["kept", "not_an_input"],
    )
    assert results["seen"] == [([1], [1]), ([2], [1, 2])]
    assert kept == []
    assert shared == [1, 2]


# ---------------------------------------------------------------------------- MapResult (MP5, MP6)


def test_items_are_full_runs_in_index_order():
    """MP5: each item is a RunResult with its own run_id, in input order."""
    results = SyncRunner().map(Graph([double]), {"x": [3, 1, 2]}, map_over="x")
    assert all(isinstance(r, RunResult) for r in results)
    assert [r["doubled"] for r in results] == [6, 2, 4]
    run_ids = [r.run_id for r in results]
    assert len(set(run_ids)) == 3
    assert all(re.fullmatch(r"run-[0-9a-f]{12}", rid) for rid in run_ids)
    assert results.run_id not in run_ids


def test_map_result_is_a_read_only_sequence():
    """MP6: len, iteration, [int] and [slice] work."""
    results = SyncRunner().map(Graph([double]), {"x": [1, 2, 3]}, map_over="x")
    assert isinstance(results, MapResult)
    assert len(results) == 3
    assert [r["doubled"] for r in results] == [2, 4, 6]
    assert results[0]["doubled"] == 2
    assert results[-1]["doubled"] == 6
    assert [r["doubled"] for r in results[1:]] == [4, 6]
    with pytest.raises(TypeError):
        results[0] = results[1]  # type: ignore[index]


def test_map_result_metadata():
    """MP6: map_over, map_mode, graph_name, run_id and duration are recorded."""
    results = SyncRunner().map(
        Graph([add], name="adder"), {"a": [1], "b": [2]}, map_over=["a", "b"]
    )
    assert results.map_over == ("a", "b")
    assert results.map_mode == "zip"
    assert results.graph_name == "adder"
    assert re.fullmatch(r"run-[0-9a-f]{12}", results.run_id)
    assert results.total_duration_ms >= 0


def test_indexing_by_name_collects_an_output_with_none_where_missing():
    """MP6: result["name"] lists that output per item, None for items without it."""

    @node(output_name="y")
    def maybe_fail(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    results = SyncRunner().map(
        Graph([maybe_fail]), {"x": [1, 2, 3]}, map_over="x", error_handling="continue"
    )
    assert results["y"] == [1, None, 3]
    assert results.get("y") == [1, None, 3]
    assert results.get("y", -1) == [1, -1, 3]


def test_failures_lists_failed_items():
    """MP6: failures holds the FAILED RunResults."""

    @node(output_name="y")
    def maybe_fail(x: int) -> int:
        if x % 2 == 0:
            raise ValueError(f"even {x}")
        return x

    results = SyncRunner().map(
        Graph([maybe_fail]), {"x": [1, 2, 3, 4]}, map_over="x", error_handling="continue"
    )
    assert [str(r.error) for r in results.failures] == ["even 2", "even 4"]
    assert results.failed and not results.completed


# ---------------------------------------------------------------------------- status, failures


def test_all_completed_items_make_a_completed_map():
    """MP7: no failed item → COMPLETED."""
    results = SyncRunner().map(Graph([double]), {"x": [1, 2]}, map_over="x")
    assert results.status == RunStatus.COMPLETED
    assert results.status == "completed"
    assert results.completed and not results.failed and not results.paused


def test_raise_mode_stops_at_the_first_failing_item():
    """TC12: the failing item's exception propagates and later items never run."""
    seen: list[int] = []

    @node(output_name="y")
    def f(x: int) -> int:
        seen.append(x)
        if x == 2:
            raise ValueError("two")
        return x

    with pytest.raises(ValueError, match="two"):
        SyncRunner().map(Graph([f]), {"x": [1, 2, 3]}, map_over="x")
    assert seen == [1, 2]


def test_continue_mode_keeps_failed_items_in_place():
    """TC12: continue mode runs every item; failures are FAILED RunResults in place."""
    seen: list[int] = []

    @node(output_name="y")
    def f(x: int) -> int:
        seen.append(x)
        if x == 2:
            raise ValueError("two")
        return x

    m = SyncRunner().map(Graph([f]), {"x": [1, 2, 3]}, map_over="x", error_handling="continue")
    assert seen == [1, 2, 3]
    assert [r.status for r in m] == [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.COMPLETED]
    assert m["y"] == [1, None, 3]
    assert m.status == RunStatus.FAILED
    assert isinstance(m[1].error, ValueError)


def test_per_item_missing_input_is_a_failed_item_in_continue_mode():
    """MP8: a per-item validation error becomes a FAILED item in continue mode."""
    m = SyncRunner().map(Graph([add]), {"a": [1, 2]}, map_over="a", error_handling="continue")
    assert [r.status for r in m] == ["failed", "failed"]
    assert "'b'" in str(m[0].error)


def test_empty_batch_is_completed_without_events():
    """MP9: an empty map returns an empty COMPLETED MapResult and emits nothing."""
    recorder = Recorder()
    m = SyncRunner().map(Graph([double]), {"x": []}, map_over="x", event_processors=[recorder])
    assert len(m) == 0
    assert m.status == RunStatus.COMPLETED
    assert m.run_id is None
    assert m["doubled"] == []
    assert recorder.events == []


# ---------------------------------------------------------------------------- events (EV8)


def test_map_emits_a_map_run_around_item_runs():
    """EV8: a map-level RunStart(is_map=True, map_size) wraps item runs parented to its span."""
    recorder = Recorder()
    m = SyncRunner().map(
        Graph([double], name="dbl"), {"x": [1, 2]}, map_over="x", event_processors=[recorder]
    )
    runs = [e for e in recorder.events if isinstance(e, RunStartEvent | RunEndEvent)]
    map_start, map_end = runs[0], runs[-1]
    assert isinstance(map_start, RunStartEvent) and map_start.is_map
    assert map_start.map_size == 2
    assert map_start.run_id == m.run_id
    assert isinstance(map_end, RunEndEvent) and map_end.status == RunStatus.COMPLETED
    assert map_end.span_id == map_start.span_id

    item_starts = [e for e in runs[1:-1] if isinstance(e, RunStartEvent)]
    assert [e.is_map for e in item_starts] == [False, False]
    assert [e.item_index for e in item_starts] == [0, 1]
    assert [e.run_id for e in item_starts] == [r.run_id for r in m]
    assert all(e.parent_span_id == map_start.span_id for e in item_starts)
    assert all(e.graph_name == "dbl" for e in item_starts)


def test_map_end_event_reports_failed_aggregate_status():
    """EV8: the map's RunEndEvent carries the aggregate status."""

    @node(output_name="y")
    def f(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    recorder = Recorder()
    SyncRunner().map(
        Graph([f]), {"x": [1, 2]}, map_over="x", error_handling="continue",
        event_processors=[recorder],
    )
    ends = [e for e in recorder.events if isinstance(e, RunEndEvent)]
    assert [e.status for e in ends] == ["completed", "failed", "failed"]


def test_a_map_result_stored_as_columns_pickles_with_its_items():
    """A compiled map's result survives pickling: same items, values, failures and status."""
    import pickle

    @node(output_name="y")
    def half(x: int) -> float:
        if x == 0:
            raise ZeroDivisionError("zero")
        return 1 / x

    result = SyncRunner().map(Graph([half]), {"x": [1, 0, 4]}, map_over="x", error_handling="continue")
    copied = pickle.loads(pickle.dumps(result))
    assert copied["y"] == result["y"] == [1.0, None, 0.25]
    assert [r.status for r in copied] == [r.status for r in result]
    assert copied[0].run_id == result[0].run_id
    assert len(copied.failures) == 1 and copied.status == result.status == "failed"


def test_columnar_map_results_answer_like_generic_ones():
    """Indexing, slices, get with a default, unknown names and repr match the generic path."""
    from hypergraph.runtime import _compiled

    @node(output_name="y")
    def inverse(x: int) -> float:
        return 1 / x

    graph = Graph([inverse])

    def view() -> tuple:
        r = SyncRunner().map(graph, {"x": [1, 0, 2, 4]}, map_over="x", error_handling="continue")
        return (
            [dict(i.values) for i in r[1:3]], dict(r[-1].values), r.get("y", "n/a"),
            r["nope"], r.status, r.summary().split(" in ")[0], [str(f.error) for f in r.failures],
            r[0].completed, r[1].failed, len(r),
        )

    compiled = view()
    previous = _compiled.set_enabled(False)
    try:
        generic = view()
    finally:
        _compiled.set_enabled(previous)
    assert compiled == generic
    assert compiled[2] == [1.0, "n/a", 0.5, 0.25]
