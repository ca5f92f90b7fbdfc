"""hypergraph.checkpointers in core: records, their reprs, the value codec, InMemoryCheckpointer."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from hypergraph.checkpointers import (
    Checkpoint,
    CheckpointerBase,
    ChildRun,
    LineageNode,
    RunRecord,
    StepRecord,
    StepStatus,
    WorkflowStatus,
    new_workflow_id,
)
from hypergraph.checkpointers.values import UnreadableValue, ValueCodec
from hypergraph.exceptions import CheckpointSerializationError, RunNotFoundError
from hypergraph.serde import make_converter

WHEN = datetime(2026, 12, 1, 19, 55, 2, tzinfo=UTC)


def test_in_memory_checkpointer_is_registered_by_core():
    """``InMemoryCheckpointer`` resolves through core's own plugin, like SyncRunner."""
    from hypergraph.checkpointers import InMemoryCheckpointer
    from hypergraph.checkpointers.memory import InMemoryCheckpointer as direct
    from hypergraph.plugins import list_plugins

    assert InMemoryCheckpointer is direct
    assert issubclass(InMemoryCheckpointer, CheckpointerBase)
    core = next(p for p in list_plugins() if p.distribution == "hypergraph-core")
    assert ("InMemoryCheckpointer", "checkpointer") in [
        (r.name, r.kind) for r in core.registrations
    ]


def test_auto_workflow_ids_follow_the_documented_form():
    """``new_workflow_id()`` is ``run-YYYYMMDD-<6 hex>`` and differs between calls."""
    first, second = new_workflow_id(), new_workflow_id()
    assert re.fullmatch(r"run-\d{8}-[0-9a-f]{6}", first)
    assert first != second


def test_statuses_compare_equal_to_their_strings():
    """Run and step statuses compare equal to their lowercase values."""
    assert WorkflowStatus.PAUSED == "paused"
    assert StepStatus.FAILED == "failed"
    assert str(WorkflowStatus.STOPPED) == "WorkflowStatus.STOPPED"


# -- reprs ------------------------------------------------------------------------------------


def test_run_record_repr_is_one_readable_line():
    """A run's repr names id, status, graph, counts, lineage and times, not every field."""
    run = RunRecord("wf-1", WorkflowStatus.FAILED, "rag", node_count=3, error_count=1,
                    retry_of="wf-0", created_at=WHEN, duration_ms=1520.0)
    assert repr(run) == (
        "RunRecord(id='wf-1', status=failed, graph='rag', steps=3, errors=1, retry_of='wf-0', "
        "created=2026-12-01 19:55:02, duration=1.52 s)"
    )


def test_step_record_repr_previews_values_and_errors():
    """A step's repr shows node, status, duration and a shortened preview of its values."""
    step = StepRecord("wf-1", 2, "embed", 4, values={"vec": list(range(100))}, duration_ms=0.25,
                      cached=True)
    text = repr(step)
    assert text.startswith(
        "StepRecord(run='wf-1', superstep=2, node='embed', status=completed, duration=250 µs, "
        "cached, values={'vec': [0, 1, 2,"
    )
    assert "…" in text and len(text) < 200
    failed = StepRecord("wf-1", 3, "llm", 5, StepStatus.FAILED, error="TimeoutError: slow")
    assert "status=failed" in repr(failed) and "error='TimeoutError: slow'" in repr(failed)


def test_html_reprs_escape_user_values():
    """Notebook HTML shows the fields in a table and escapes markup from user values."""
    step = StepRecord("wf", 0, "render", 0, values={"html": "<script>alert(1)</script>"})
    html = step._repr_html_()
    assert html.startswith("<table><caption>Step</caption>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<th style='text-align:left'>node</th>" in html
    run = RunRecord("wf", graph_name="<g>")
    assert "&lt;g&gt;" in run._repr_html_()
    checkpoint = Checkpoint("wf", 0, {"a": 1}, {"k": 1})
    assert "value a" in checkpoint._repr_html_()
    child = ChildRun("wf/0", WorkflowStatus.COMPLETED, None, {"page": "<b>hi</b>"})
    html = child._repr_html_()
    assert html.startswith("<table><caption>Child run</caption>") and "&lt;b&gt;" in html
    assert "input signature" not in html and "<b>" not in html


def test_lineage_tree_renders_forks_and_retries():
    """A lineage tree prints one run per line with box-drawing branches and its origin."""
    root = RunRecord("root", WorkflowStatus.FAILED)
    retry = RunRecord("r1", retry_of="root", retry_index=1)
    fork = RunRecord("f1", WorkflowStatus.COMPLETED, forked_from="root", fork_superstep=2)
    tree = LineageNode(root, (LineageNode(retry), LineageNode(fork)))
    assert tree.render().splitlines() == [
        "root  [failed]",
        "├── r1  [active]  retry #1 of root",
        "└── f1  [completed]  fork of root at superstep 2",
    ]
    assert tree.ids() == ["root", "r1", "f1"]
    assert "<ul><li><code>root  [failed]</code><ul>" in tree._repr_html_()


def test_records_round_trip_through_serde():
    """Run, step, checkpoint and child-run records convert to JSON-ready dicts and back, equal."""
    converter = make_converter()
    run = RunRecord("wf", WorkflowStatus.PAUSED, "g", {"x": 1}, created_at=WHEN)
    step = StepRecord("wf", 0, "a", 0, values={"a": 1}, decision=["b"], created_at=WHEN)
    checkpoint = Checkpoint("wf", 0, {"a": 1}, {"k": [1]}, {"x": 1})
    child = ChildRun("wf/0", WorkflowStatus.COMPLETED, "sig", {"a": 1})
    for record in (run, step, checkpoint, child):
        data = converter.unstructure(record)
        assert converter.structure(data, type(record)) == record
    assert converter.unstructure(run)["status"] == "paused"
    assert converter.unstructure(run)["created_at"] == "2026-12-01T19:55:02+00:00"


# -- value codec ------------------------------------------------------------------------------


def test_codec_writes_json_natives_as_plain_json():
    """Strings, numbers, booleans, None, lists and string-keyed dicts are stored untagged."""
    codec = ValueCodec()
    text = codec.encode_map({"a": [1, 2.5, "é", None, True], "b": {"c": -3}},
                            run_id="wf", node_name="n")
    assert text == '{"a":[1,2.5,"é",null,true],"b":{"c":-3}}'
    assert codec.decode_map(text) == {"a": [1, 2.5, "é", None, True], "b": {"c": -3}}


def test_codec_keeps_exact_types_with_tags():
    """Tuples, sets, bytes, NaN and non-string keys come back with their type."""
    codec = ValueCodec()
    values = {"t": (1, [2, (3,)]), "s": {1}, "f": frozenset({2}), "b": b"\x00",
              "k": {(1, 2): "pair", 3: "int"}, "nan": float("-inf")}
    restored = codec.decode_map(codec.encode_map(values, run_id=None, node_name="n"))
    assert restored == values
    assert type(restored["t"][1][1]) is tuple


def test_user_dict_shaped_like_a_tag_stays_a_dict():
    """A user dict with the reserved ``__hg__`` key is escaped, not mistaken for a tag."""
    codec = ValueCodec()
    value = {"__hg__": "tuple", "v": [1, 2]}
    assert codec.decode_map(codec.encode_map({"x": value}, run_id=None, node_name="n")) == {
        "x": value
    }


def test_value_containing_itself_is_refused_by_name():
    """A self-referencing list fails with the node and output named, not a crash."""
    loop: list = []
    loop.append(loop)
    with pytest.raises(CheckpointSerializationError, match="output 'x' of node 'n'") as caught:
        ValueCodec().encode_map({"x": loop}, run_id="wf", node_name="n")
    assert "contains itself" in str(caught.value)


def test_plain_object_needs_pickle():
    """An object JSON has no form for is refused under json, stored under pickle."""

    class Thing:
        pass

    with pytest.raises(CheckpointSerializationError, match="serializer='pickle'"):
        ValueCodec().encode_map({"x": Thing()}, run_id=None, node_name="n")
    assert '"__hg__":"pickle"' in ValueCodec("pickle").encode_map(
        {"x": complex(1, 2)}, run_id=None, node_name="n"
    )


def test_restoring_a_class_that_is_gone_names_it():
    """A stored attrs value whose class can't be imported fails clearly, or shows a placeholder."""
    text = '{"p":{"__hg__":"type","type":"no_such_module:Point","json":"{}"}}'
    with pytest.raises(CheckpointSerializationError, match="no_such_module:Point"):
        ValueCodec().decode_map(text, run_id="wf", node_name="n")
    shown = ValueCodec(lenient=True).decode_map(text)["p"]
    assert isinstance(shown, UnreadableValue)
    assert shown.type_name == "no_such_module:Point"


def test_restoring_refuses_types_that_are_not_stored_as_json():
    """A tag naming an arbitrary callable (``os:system``) is refused, never called."""
    text = '{"p":{"__hg__":"type","type":"os:system","json":"\\"echo hi\\""}}'
    with pytest.raises(CheckpointSerializationError, match="not a class hypergraph stores"):
        ValueCodec().decode_map(text)


# -- InMemoryCheckpointer specifics -----------------------------------------------------------


def test_in_memory_lineage_of_unknown_run_is_not_found():
    """``lineage`` of an unknown id raises ``RunNotFoundError`` naming it."""
    from hypergraph.checkpointers import InMemoryCheckpointer

    with pytest.raises(RunNotFoundError, match="'ghost'"):
        InMemoryCheckpointer().lineage("ghost")


def test_in_memory_checkpointer_is_a_context_manager():
    """``with InMemoryCheckpointer() as cp`` yields the checkpointer."""
    from hypergraph.checkpointers import InMemoryCheckpointer

    with InMemoryCheckpointer() as cp:
        cp.create_run_sync(RunRecord("wf"))
        assert cp.get_run("wf") is not None


def test_runner_without_the_needed_path_gets_a_type_error():
    """``require_checkpointer`` names the methods a backend lacks for the runner's path."""
    from hypergraph.checkpointers import InMemoryCheckpointer, require_checkpointer

    class AsyncOnly:
        async def create_run(self, run): ...

    with pytest.raises(TypeError, match="SyncRunner needs a checkpointer with the sync path"):
        require_checkpointer(AsyncOnly(), runner="SyncRunner", sync=True)
    with pytest.raises(TypeError, match="has no save_superstep, update_run_status"):
        require_checkpointer(AsyncOnly(), runner="AsyncRunner", sync=False)
    require_checkpointer(InMemoryCheckpointer(), runner="SyncRunner", sync=True)
    require_checkpointer(InMemoryCheckpointer(), runner="AsyncRunner", sync=False)
