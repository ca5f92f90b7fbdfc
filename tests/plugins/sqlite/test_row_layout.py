"""Where ``SqliteCheckpointer`` keeps rows (schema 4): a new run's first checkpoint on its step's
row when it holds only the run's inputs and that step's outputs, and child runs found by their
id under the parent, so that neither costs a page of its own per run."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hypergraph import AsyncRunner, Graph, SyncRunner, node
from hypergraph.checkpointers import (
    Checkpoint,
    ChildRun,
    InMemoryCheckpointer,
    RunRecord,
    SqliteCheckpointer,
    StepRecord,
    WorkflowStatus,
)
from hypergraph.exceptions import CheckpointStoreError
from hypergraph_sqlite._schema import SCHEMA_VERSION


def _rows(path: Path, sql: str, *params: Any) -> list[Any]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _chain() -> Graph:
    @node(output_name="b")
    def first(a: int) -> int:
        return a + 1

    @node(output_name="c")
    def second(b: int) -> int:
        return b * 10

    @node(output_name="d")
    def third(c: int) -> int:
        return c - 1

    return Graph([first, second, third], name="chain")


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_new_runs_first_checkpoint_sits_on_its_step_row_and_reads_with_its_inputs(
    tmp_path: Path, durability: str
) -> None:
    """A fresh run writes no ``checkpoints`` row, yet every checkpoint reads as the in-memory
    checkpointer gives it: the first one's values start from the run's inputs."""
    graph = _chain()
    path = tmp_path / "runs.db"
    memory = InMemoryCheckpointer()
    SyncRunner(checkpointer=memory).run(graph, {"a": 1}, workflow_id="wf")
    with SqliteCheckpointer(path, durability=durability) as cp:  # type: ignore[arg-type]
        SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf")
    assert _rows(path, "SELECT count(*) FROM checkpoints") == [(0,)]
    with SqliteCheckpointer(path, readonly=True) as reader:
        first = reader.checkpoint("wf", superstep=0)
        assert first.values == {"a": 1, "b": 2}
        for superstep in range(3):
            stored = reader.checkpoint("wf", superstep=superstep)
            expected = memory.checkpoint("wf", superstep=superstep)
            assert stored.values == expected.values
            assert stored.superstep == expected.superstep
        assert reader.values("wf") == {"a": 1, "b": 2, "c": 20, "d": 19}


def test_a_first_checkpoint_with_other_values_keeps_its_own_row(tmp_path: Path) -> None:
    """A first checkpoint holding more than the inputs and the step's outputs (or copies of
    them) goes to the ``checkpoints`` table, and reads back exactly."""
    path = tmp_path / "runs.db"
    inputs = {"a": [1, 2]}
    outputs = {"b": 3}
    with SqliteCheckpointer(path) as cp:
        cp.create_run_sync(RunRecord("extra", inputs=inputs))
        step = StepRecord("extra", 0, "n", 0, values=outputs)
        cp.save_superstep_sync(
            "extra", [step], Checkpoint("extra", 0, {**inputs, **outputs, "bound": 7}, {})
        )
        cp.create_run_sync(RunRecord("copied", inputs=inputs))
        step = StepRecord("copied", 0, "n", 0, values=outputs)
        cp.save_superstep_sync(
            "copied", [step], Checkpoint("copied", 0, {"a": [1, 2], **outputs}, {})
        )
        cp.create_run_sync(RunRecord("same", inputs=inputs))
        step = StepRecord("same", 0, "n", 0, values=outputs)
        cp.save_superstep_sync("same", [step], Checkpoint("same", 0, {**inputs, **outputs}, {}))
        for run_id in ("extra", "copied", "same"):
            cp.update_run_status_sync(run_id, WorkflowStatus.COMPLETED)
    in_table = _rows(path, "SELECT run_id FROM checkpoints ORDER BY run_id")
    assert in_table == [("copied",), ("extra",)]
    with SqliteCheckpointer(path, readonly=True) as reader:
        assert reader.values("extra") == {"a": [1, 2], "b": 3, "bound": 7}
        assert reader.values("copied") == {"a": [1, 2], "b": 3}
        assert reader.values("same") == {"a": [1, 2], "b": 3}
        same = reader.checkpoint("same")
        same.values["a"].append(3)  # a copy: the record's inputs stay as stored
        assert same.inputs == {"a": [1, 2]}


def test_a_run_that_resumes_keeps_its_first_checkpoint_readable(
    tmp_path: Path, fixable: Any
) -> None:
    """A failed run resumed by another checkpointer continues from the first checkpoint on its
    step row: the finished node does not run again and the values are complete."""
    graph, ran = fixable.graph, fixable.ran
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path) as cp:
        SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf",
                                        error_handling="continue")
    assert _rows(path, "SELECT superstep FROM checkpoints") == [(1,)]  # the failed superstep
    assert _rows(path, "SELECT count(*) FROM steps WHERE superstep = 0 AND state IS NOT NULL") == [
        (1,)
    ]
    fixable.broken = False
    ran.clear()
    with SqliteCheckpointer(path) as cp:
        result = SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf")
        assert result["c"] == 20 and ran == ["second"]
        assert cp.values("wf") == {"a": 1, "b": 2, "c": 20}


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_a_rerun_map_restores_each_items_values_from_its_step_rows(
    tmp_path: Path, runner: str
) -> None:
    """Every item of a completed map comes back restored with its inputs and outputs."""
    import asyncio

    graph = _chain()
    path = tmp_path / "runs.db"

    def run_map(cp: SqliteCheckpointer) -> Any:
        if runner == "async":
            return asyncio.run(AsyncRunner(checkpointer=cp).map(
                graph, {"a": [1, 2, 3]}, map_over="a", workflow_id="m"))
        return SyncRunner(checkpointer=cp).map(graph, {"a": [1, 2, 3]}, map_over="a",
                                               workflow_id="m")

    with SqliteCheckpointer(path) as cp:
        fresh = run_map(cp)
    assert _rows(path, "SELECT count(*) FROM checkpoints WHERE run_id LIKE 'm/%'") == [(0,)]
    with SqliteCheckpointer(path) as cp:
        again = run_map(cp)
        children = cp.children("m")
    assert all(item.restored for item in again)
    assert [item["d"] for item in again] == [item["d"] for item in fresh] == [19, 29, 39]
    assert [values for _, values in children] == [
        {"a": a, "b": a + 1, "c": (a + 1) * 10, "d": (a + 1) * 10 - 1} for a in (1, 2, 3)
    ]


def test_children_are_found_by_name_and_by_parent(tmp_path: Path) -> None:
    """``runs(parent=)`` and ``children`` list the runs named under the parent and the runs
    that only name it as parent, never a run whose id merely starts like the parent's."""
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path) as cp:
        cp.create_run_sync(RunRecord("p"))
        cp.create_run_sync(RunRecord("p/0", parent_run_id="p"))
        cp.create_run_sync(RunRecord("p/1", parent_run_id="p"))
        cp.create_run_sync(RunRecord("p/1/inner", parent_run_id="p/1"))  # a grandchild
        cp.create_run_sync(RunRecord("elsewhere", parent_run_id="p"))  # named otherwise
        cp.create_run_sync(RunRecord("p0", parent_run_id="q"))  # sorts right after "p/..."
        cp.create_run_sync(RunRecord("p/2"))  # named under p but a top-level run
        cp.create_run_sync(RunRecord("pa/0", parent_run_id="pa"))
        for run in cp.runs():
            cp.update_run_status_sync(run.id, WorkflowStatus.COMPLETED)
    with SqliteCheckpointer(path, readonly=True) as reader:
        assert {run.id for run in reader.runs(parent="p")} == {"p/0", "p/1", "elsewhere"}
        assert {run.id for run in reader.runs(parent="p/1")} == {"p/1/inner"}
        assert {run.id for run, _ in reader.children("p")} == {"p/0", "p/1", "elsewhere"}
        assert reader.child_counts() == {"p": 3, "p/1": 1, "q": 1, "pa": 1}


def test_a_version_3_file_reads_as_it_is_and_migrates_its_parent_index(tmp_path: Path) -> None:
    """A schema-3 file (full parent index, first checkpoints in their table) reads the same
    before and after the open that migrates it to the current schema."""
    graph = _chain()
    path = tmp_path / "v3.db"
    with SqliteCheckpointer(path, durability="exit") as cp:  # first checkpoints in the table
        SyncRunner(checkpointer=cp).map(graph, {"a": [1, 2]}, map_over="a", workflow_id="m")
        expected = {run.id: (run, cp.checkpoint(run.id)) for run in cp.runs()}
        children = cp.children("m")
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX runs_by_other_parent")
    conn.execute(
        "CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL"
    )
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with SqliteCheckpointer(path, readonly=True) as reader:
        assert reader.children("m") == children
    assert _rows(path, "PRAGMA user_version") == [(3,)]
    with SqliteCheckpointer(path) as cp:
        assert cp.children("m") == children
        for run_id, (run, checkpoint) in expected.items():
            assert cp.get_run(run_id) == run
            assert cp.checkpoint(run_id) == checkpoint
    assert _rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    indexes = {name for (name,) in _rows(
        path, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs'"
    )}
    assert "runs_by_parent" not in indexes and "runs_by_other_parent" in indexes


def test_children_values_fold_each_childs_changes_in_order(tmp_path: Path) -> None:
    """A child's later writes of a name win over earlier ones, empty changes change nothing,
    and each child keeps its own values."""
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path) as cp:
        cp.create_run_sync(RunRecord("p"))
        for child, base in (("p/0", 0), ("p/1", 100)):
            cp.create_run_sync(RunRecord(child, parent_run_id="p", inputs={"seed": base}))
            for superstep, changed in enumerate(
                ({"v": base + 1, "w": "x"}, {}, {"v": base + 2}, {"v": base + 3})
            ):
                step = StepRecord(child, superstep, "loop", superstep, values=dict(changed))
                cp.save_superstep_sync(
                    child, [step], Checkpoint(child, superstep, dict(changed), {})
                )
            cp.update_run_status_sync(child, WorkflowStatus.COMPLETED)
        cp.update_run_status_sync("p", WorkflowStatus.COMPLETED)
    with SqliteCheckpointer(path, readonly=True) as reader:
        values = {run.id: found for run, found in reader.children("p")}
        assert values == {"p/0": {"v": 3, "w": "x"}, "p/1": {"v": 103, "w": "x"}}
        assert values["p/1"] == reader.values("p/1")


def test_an_input_changed_in_place_is_stored_as_the_first_superstep_left_it(
    tmp_path: Path,
) -> None:
    """A node that appends to its input list: the first checkpoint holds the changed list, as
    a checkpoint taken after that superstep must, not the list the run started with."""

    @node(output_name="count")
    def grow(docs: list[int]) -> int:
        docs.append(len(docs))
        return len(docs)

    @node(output_name="total")
    def add(docs: list[int], count: int) -> int:
        return sum(docs) + count

    graph = Graph([grow, add], name="grow")
    path = tmp_path / "runs.db"
    memory = InMemoryCheckpointer()
    SyncRunner(checkpointer=memory).run(graph, {"docs": [5]}, workflow_id="wf")
    with SqliteCheckpointer(path) as cp:
        SyncRunner(checkpointer=cp).run(graph, {"docs": [5]}, workflow_id="wf")
        first = cp.checkpoint("wf", superstep=0)
        assert first.values == {"docs": [5, 1], "count": 2}
        assert first.values == memory.checkpoint("wf", superstep=0).values
        assert cp.get_run("wf").inputs == {"docs": [5]}  # type: ignore[union-attr]


def test_childrens_values_are_their_own_objects(tmp_path: Path) -> None:
    """Values ``children`` folds from the inputs are decoded anew: changing one changes
    neither the child's record nor another read."""

    @node(output_name="n")
    def size(docs: list[int]) -> int:
        return len(docs)

    graph = Graph([size], name="size")
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path) as cp:
        SyncRunner(checkpointer=cp).map(graph, {"docs": [[1], [2, 3]]}, map_over="docs",
                                        workflow_id="m")
        children = cp.children("m")
        assert [values for _, values in children] == [{"docs": [1], "n": 1},
                                                      {"docs": [2, 3], "n": 2}]
        record, values = children[0]
        values["docs"].append(99)
        assert record.inputs == {"docs": [1]}
        assert cp.children("m")[0][1] == {"docs": [1], "n": 1}


def test_child_runs_read_what_children_read_without_run_records(tmp_path: Path) -> None:
    """``child_runs`` (what a re-run map reads) gives every child ``children`` gives, in the
    same order, with its status, input signature and values: children named under the parent
    or only naming it, one that saved no checkpoint, a failed one."""
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path) as cp:
        SyncRunner(checkpointer=cp).map(
            _chain(), {"a": [1, 2, 3]}, map_over="a", workflow_id="m"
        )
        cp.create_run_sync(RunRecord("elsewhere", parent_run_id="m", input_signature="s"))
        cp.create_run_sync(RunRecord("m/9", parent_run_id="m"))
        cp.update_run_status_sync("m/9", WorkflowStatus.FAILED, error="ValueError: no")
        expected = [
            ChildRun(run.id, run.status, run.input_signature, values)
            for run, values in cp.children("m")
        ]
        assert [child.id for child in expected] == ["m/0", "m/1", "m/2", "elsewhere", "m/9"]
        assert cp.child_runs("m") == expected
        assert asyncio.run(cp.get_child_runs("m")) == expected
        assert expected[0].values == {"a": 1, "b": 2, "c": 20, "d": 19}
        assert expected[3].values == {} and expected[4].status is WorkflowStatus.FAILED
        assert "ChildRun(run='m/0', status=completed" in repr(expected[0])


def test_a_child_with_an_unknown_status_is_a_clear_store_error(tmp_path: Path) -> None:
    """A child row whose status no release wrote fails the read with ``CheckpointStoreError``
    naming the run, as ``children`` does, never a bare ``ValueError``."""
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path) as cp:
        cp.create_run_sync(RunRecord("m"))
        cp.create_run_sync(RunRecord("m/0", parent_run_id="m"))
        cp.update_run_status_sync("m/0", WorkflowStatus.COMPLETED)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET status = 'exploded' WHERE id = 'm/0'")
    with SqliteCheckpointer(path, readonly=True) as reader:
        for read in (reader.child_runs, reader.children):
            with pytest.raises(CheckpointStoreError, match="'m/0'"):
                read("m")
