"""SyncRunner with a checkpointer: the workflow_id rules (CP3), resume, fork, retry, maps, nesting.

Every test runs against the in-memory checkpointer and a real SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hypergraph import END, Graph, SyncRunner, node, route
from hypergraph.checkpointers import (
    InMemoryCheckpointer,
    SqliteCheckpointer,
    StepStatus,
    WorkflowStatus,
)
from hypergraph.exceptions import (
    GraphChangedError,
    InputOverrideRequiresForkError,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
)
from hypergraph.runtime import input_signature, resolve_steps

CALLS: list[str] = []


@pytest.fixture(params=["memory", "sqlite"])
def checkpointer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each checkpointer that ships: in memory, and a SQLite file on disk."""
    if request.param == "memory":
        yield InMemoryCheckpointer()
    else:
        with SqliteCheckpointer(str(tmp_path / "runs.db")) as cp:
            yield cp


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


@node(output_name="b")
def inc(a: int) -> int:
    CALLS.append("inc")
    return a + 1


FAIL = {"double": True}


@node(output_name="c")
def double(b: int) -> int:
    CALLS.append("double")
    if FAIL["double"]:
        raise RuntimeError("double is broken")
    return b * 2


@node(output_name="d")
def show(c: int) -> str:
    CALLS.append("show")
    return f"c={c}"


chain = Graph([inc, double, show], name="chain")


def test_a_run_without_workflow_id_gets_an_auto_id_and_is_recorded(checkpointer: Any) -> None:
    """CP3: omitted workflow_id → run-YYYYMMDD-<6 hex>, recorded as a completed run."""
    FAIL["double"] = False
    result = SyncRunner(checkpointer=checkpointer).run(chain, {"a": 1})
    wid = result.workflow_id
    assert wid is not None and wid.startswith("run-") and len(wid.split("-")[-1]) == 6
    run = checkpointer.get_run(wid)
    assert run.status is WorkflowStatus.COMPLETED
    assert [s.node_name for s in checkpointer.steps(wid)] == ["inc", "double", "show"]
    assert checkpointer.values(wid)["d"] == "c=4"


def test_restarting_the_same_program_after_a_failure_resumes_without_rerunning_completed_nodes(
    checkpointer: Any,
) -> None:
    """CP5, R2-5: same graph, same values, same id → only the failed node and its successors run."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = True
    with pytest.raises(RuntimeError, match="double is broken"):
        runner.run(chain, {"a": 1}, workflow_id="wf")
    assert checkpointer.get_run("wf").status is WorkflowStatus.FAILED
    FAIL["double"] = False
    CALLS.clear()
    result = runner.run(chain, {"a": 1}, workflow_id="wf")
    assert CALLS == ["double", "show"]
    assert result["d"] == "c=4"
    statuses = [(s.node_name, s.status) for s in checkpointer.steps("wf")]
    assert statuses == [
        ("inc", StepStatus.COMPLETED), ("double", StepStatus.FAILED),
        ("double", StepStatus.COMPLETED), ("show", StepStatus.COMPLETED),
    ]
    assert checkpointer.get_run("wf").status is WorkflowStatus.COMPLETED


def test_resuming_with_only_the_id_uses_the_stored_inputs(checkpointer: Any) -> None:
    """CP5: a resume with no values continues from the stored inputs."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = True
    runner.run(chain, {"a": 5}, workflow_id="wf", error_handling="continue")
    FAIL["double"] = False
    assert runner.run(chain, workflow_id="wf")["c"] == 12


def test_new_values_on_resume_raise_input_override_requires_fork(checkpointer: Any) -> None:
    """CP3: other values than the stored inputs on a resume → InputOverrideRequiresForkError."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = True
    runner.run(chain, {"a": 1}, workflow_id="wf", error_handling="continue")
    with pytest.raises(InputOverrideRequiresForkError, match=r"'wf'.*'a'.*fork_from='wf'"):
        runner.run(chain, {"a": 2}, workflow_id="wf")


def test_a_completed_workflow_is_terminal(checkpointer: Any) -> None:
    """CP3: resuming a COMPLETED run → WorkflowAlreadyCompletedError naming the id."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    runner.run(chain, {"a": 1}, workflow_id="done")
    with pytest.raises(WorkflowAlreadyCompletedError, match=r"'done' already completed"):
        runner.run(chain, {"a": 1}, workflow_id="done")


def test_new_values_are_checked_before_the_completed_check(checkpointer: Any) -> None:
    """CP3 order: an override on a completed run is an InputOverrideRequiresForkError."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    runner.run(chain, {"a": 1}, workflow_id="done")
    with pytest.raises(InputOverrideRequiresForkError):
        runner.run(chain, {"a": 9}, workflow_id="done")


def test_an_existing_id_with_an_explicit_checkpoint_is_a_fork_error(checkpointer: Any) -> None:
    """CP3: existing id + checkpoint= → WorkflowForkError."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    first = runner.run(chain, {"a": 1}, workflow_id="wf")
    with pytest.raises(WorkflowForkError, match="'wf' is already recorded"):
        runner.run(chain, {"a": 2}, workflow_id="wf", checkpoint=first.checkpoint)


def test_a_new_id_with_a_checkpoint_forks_from_it_and_reruns_stale_nodes(checkpointer: Any) -> None:
    """CP3: new id + checkpoint= → a recorded run starting from that snapshot; new values win."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    first = runner.run(chain, {"a": 1}, workflow_id="wf")
    CALLS.clear()
    forked = runner.run(chain, {"a": 2}, workflow_id="wf2", checkpoint=first.checkpoint)
    assert forked["d"] == "c=6"
    assert CALLS == ["inc", "double", "show"]
    assert checkpointer.get_run("wf2").status is WorkflowStatus.COMPLETED


def test_override_workflow_forks_an_existing_id_into_a_fresh_one(checkpointer: Any) -> None:
    """CP3: override_workflow=True → <id>-fork-<6 hex>, lineage recorded, new values allowed."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    runner.run(chain, {"a": 1}, workflow_id="wf")
    result = runner.run(chain, {"a": 3}, workflow_id="wf", override_workflow=True)
    fork_id = result.workflow_id
    assert fork_id is not None and fork_id.startswith("wf-fork-") and len(fork_id) == len("wf-fork-") + 6
    assert result["d"] == "c=8"
    fork = checkpointer.get_run(fork_id)
    assert fork.forked_from == "wf"
    assert checkpointer.lineage("wf").ids() == ["wf", fork_id]


def test_fork_from_keeps_the_source_state_and_reruns_only_what_new_values_feed(
    checkpointer: Any,
) -> None:
    """CP3: fork_from=src starts from src's checkpoint; an unchanged input keeps its nodes done."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    runner.run(chain, {"a": 1}, workflow_id="src")
    CALLS.clear()
    result = runner.run(chain, {"a": 1}, fork_from="src", workflow_id="copy")
    assert CALLS == []
    assert result["d"] == "c=4"
    assert checkpointer.get_run("copy").forked_from == "src"


def test_retry_from_records_retry_lineage_and_reruns_the_failed_node(checkpointer: Any) -> None:
    """CP3: retry_from=src → a new run (generic id) with retry_of/retry_index; failures re-run."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = True
    runner.run(chain, {"a": 1}, workflow_id="src", error_handling="continue")
    FAIL["double"] = False
    CALLS.clear()
    result = runner.run(chain, retry_from="src")
    assert CALLS == ["double", "show"]
    retry = checkpointer.get_run(result.workflow_id)
    assert retry.retry_of == "src" and retry.retry_index == 1
    assert result.workflow_id.startswith("run-")
    assert checkpointer.lineage(result.workflow_id).ids() == ["src", result.workflow_id]


def test_fork_from_and_retry_from_together_is_a_value_error(checkpointer: Any) -> None:
    """CP3: one source at a time."""
    with pytest.raises(ValueError, match="both given"):
        SyncRunner(checkpointer=checkpointer).run(chain, {"a": 1}, fork_from="x", retry_from="y")


def test_a_slash_in_a_workflow_id_is_reserved_for_children(checkpointer: Any) -> None:
    """CP3: '/' separates child runs."""
    with pytest.raises(ValueError, match="reserved for child runs"):
        SyncRunner(checkpointer=checkpointer).run(chain, {"a": 1}, workflow_id="a/b")


def test_a_changed_structure_refuses_to_resume_unless_forced(checkpointer: Any) -> None:
    """CP3, CP4: another structure → GraphChangedError; force_resume=True keeps what matches."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = True
    runner.run(chain, {"a": 1}, workflow_id="wf", error_handling="continue")
    FAIL["double"] = False

    @node(output_name="e")
    def extra(d: str) -> str:
        return d + "!"

    grown = Graph([inc, double, show, extra], name="chain")
    with pytest.raises(GraphChangedError, match="force_resume=True"):
        runner.run(grown, {"a": 1}, workflow_id="wf")
    CALLS.clear()
    result = runner.run(grown, {"a": 1}, workflow_id="wf", force_resume=True)
    assert result["e"] == "c=4!"
    assert "inc" not in CALLS


def test_resume_after_a_code_fix_reruns_the_changed_node_and_its_descendants_only(
    checkpointer: Any,
) -> None:
    """★: same structure, new code for one completed node → it and what it feeds run again."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    broken = {"tail": True}

    @node(output_name="e")
    def tail(d: str) -> str:
        CALLS.append("tail")
        if broken["tail"]:
            raise RuntimeError("tail is broken")
        return d + "."

    @node(output_name="z")
    def side(a: int) -> int:
        CALLS.append("side")
        return -a

    first = Graph([inc, double, show, tail, side], name="chain")
    runner.run(first, {"a": 1}, workflow_id="wf", error_handling="continue")
    broken["tail"] = False

    @node(output_name="c", name="double")
    def double_fixed(b: int) -> int:
        CALLS.append("double")
        return b * 20

    fixed = Graph([inc, double_fixed, show, tail, side], name="chain")
    assert fixed.structural_hash == first.structural_hash
    assert fixed.code_hash != first.code_hash
    CALLS.clear()
    result = runner.run(fixed, {"a": 1}, workflow_id="wf")
    assert CALLS == ["double", "show", "tail"]
    assert result["e"] == "c=40." and result["z"] == -1
    assert result.rerun == {"double": "code changed", "show": "downstream of 'double'"}


def test_a_second_resume_compares_against_the_code_the_first_resume_ran(
    checkpointer: Any,
) -> None:
    """★ twice: after a resume that re-ran changed code failed later on, the next resume keeps
    the nodes that already ran the new code (their hashes are recorded with the checkpoint)."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    broken = {"tail": True}

    @node(output_name="e")
    def tail(d: str) -> str:
        CALLS.append("tail")
        if broken["tail"]:
            raise RuntimeError("tail is broken")
        return d + "."

    runner.run(Graph([inc, double, show, tail], name="chain"), {"a": 1}, workflow_id="wf",
               error_handling="continue")

    @node(output_name="c", name="double")
    def double_fixed(b: int) -> int:
        CALLS.append("double")
        return b * 20

    fixed = Graph([inc, double_fixed, show, tail], name="chain")
    CALLS.clear()
    again = runner.run(fixed, {"a": 1}, workflow_id="wf", error_handling="continue")
    assert CALLS == ["double", "show", "tail"] and again.error is not None
    broken["tail"] = False
    CALLS.clear()
    result = runner.run(fixed, {"a": 1}, workflow_id="wf")
    assert CALLS == ["tail"]
    assert result["e"] == "c=40." and result.rerun == {}


def _nested_pipeline(scale: int, broken: dict[str, bool]) -> Graph:
    """prep -> inner (load -> scaled -> label) -> publish; ``scale`` is the inner code change."""

    @node(output_name="x")
    def prep(a: int) -> int:
        CALLS.append("prep")
        return a + 1

    @node(output_name="y")
    def load(x: int) -> int:
        CALLS.append("load")
        return x * 2

    exec_ns: dict[str, Any] = {"CALLS": CALLS}
    exec(f"def scaled(y):\n    CALLS.append('scaled')\n    return y * {scale}", exec_ns)
    scaled = node(exec_ns["scaled"], output_name="z")

    @node(output_name="w")
    def label(z: int) -> str:
        CALLS.append("label")
        return f"z={z}"

    @node(output_name="out")
    def publish(w: str) -> str:
        CALLS.append("publish")
        if broken["publish"]:
            raise RuntimeError("publish is broken")
        return w + "!"

    inner = Graph([load, scaled, label], name="inner").as_node()
    return Graph([prep, inner, publish], name="pipeline")


def test_resume_after_a_code_change_inside_a_nested_graph_resumes_its_child_run(
    tmp_path: Path,
) -> None:
    """★ nested: only inner code changed → the child run <id>/inner continues, re-running just
    the changed inner node and what it feeds; the result says which nodes re-ran and why."""
    path = str(tmp_path / "nested.db")
    broken = {"publish": True}
    first = _nested_pipeline(3, broken)
    with SqliteCheckpointer(path) as cp:
        failed = SyncRunner(checkpointer=cp).run(
            first, {"a": 1}, workflow_id="wf", error_handling="continue"
        )
        assert failed.error is not None
    assert CALLS == ["prep", "load", "scaled", "label", "publish"]
    broken["publish"] = False
    fixed = _nested_pipeline(10, broken)
    assert fixed.structural_hash == first.structural_hash
    CALLS.clear()
    with SqliteCheckpointer(path) as cp:
        result = SyncRunner(checkpointer=cp).run(fixed, {"a": 1}, workflow_id="wf")
        assert CALLS == ["scaled", "label", "publish"]
        assert result["out"] == "z=40!"
        assert result.rerun == {
            "inner": "code changed",
            "inner/scaled": "code changed",
            "inner/label": "downstream of 'scaled'",
        }
        child = cp.get_run("wf/inner")
        assert child is not None and child.status is WorkflowStatus.COMPLETED
        assert [s.node_name for s in cp.steps("wf/inner")] == [
            "load", "scaled", "label", "scaled", "label"
        ]
        assert cp.values("wf/inner")["z"] == 40
        assert cp.get_run("wf").status is WorkflowStatus.COMPLETED


def test_a_nested_graph_whose_code_did_not_change_is_restored_on_resume(tmp_path: Path) -> None:
    """A resume after a fix outside the nested graph restores its completed child run."""
    path = str(tmp_path / "nested.db")
    broken = {"publish": True}
    graph = _nested_pipeline(3, broken)
    with SqliteCheckpointer(path) as cp:
        SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf", error_handling="continue")
    broken["publish"] = False
    CALLS.clear()
    with SqliteCheckpointer(path) as cp:
        result = SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf")
    assert CALLS == ["publish"]
    assert result["out"] == "z=12!" and result.rerun == {}


def test_map_with_a_workflow_id_records_a_parent_and_a_child_per_item(checkpointer: Any) -> None:
    """CP8: map(..., workflow_id=) → parent <id>, children <id>/0, <id>/1, ..."""
    FAIL["double"] = False
    result = SyncRunner(checkpointer=checkpointer).map(
        chain, {"a": [1, 2, 3]}, map_over="a", workflow_id="batch"
    )
    assert result["d"] == ["c=4", "c=6", "c=8"]
    children = checkpointer.runs(parent="batch")
    assert [c.id for c in children] == ["batch/0", "batch/1", "batch/2"]
    assert all(c.status is WorkflowStatus.COMPLETED for c in children)
    assert checkpointer.get_run("batch").status is WorkflowStatus.COMPLETED


def test_rerunning_a_map_restores_completed_items_by_input_signature(checkpointer: Any) -> None:
    """CP8: the same id again runs only the new item; the others come back restored=True."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    runner.map(chain, {"a": [1, 2, 3]}, map_over="a", workflow_id="batch")
    CALLS.clear()
    result = runner.map(chain, {"a": [3, 1, 2, 7]}, map_over="a", workflow_id="batch")
    assert CALLS == ["inc", "double", "show"]
    assert result["d"] == ["c=8", "c=4", "c=6", "c=16"]
    assert [r.restored for r in result] == [True, True, True, False]


def test_a_map_item_that_failed_resumes_from_its_checkpoint(checkpointer: Any) -> None:
    """CP8: a failed item with the same inputs continues; its completed nodes don't run again."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = True
    runner.map(chain, {"a": [1, 2]}, map_over="a", workflow_id="batch", error_handling="continue")
    FAIL["double"] = False
    CALLS.clear()
    result = runner.map(chain, {"a": [1, 2]}, map_over="a", workflow_id="batch")
    assert CALLS == ["double", "show", "double", "show"]
    assert result["d"] == ["c=4", "c=6"]


@node(output_name="total")
def busy(x: int) -> int:
    """A few milliseconds of work: more than recording a run's end takes."""
    return sum(range(300_000)) + x


@pytest.mark.parametrize("backend", ["memory", "sync", "async", "exit"])
def test_a_child_runs_duration_covers_its_steps(tmp_path: Path, backend: str) -> None:
    """Map items and nested graphs are dated when they start, not at their first commit: a
    child run's ``duration_ms`` includes its first superstep (it used to miss it)."""
    inner = Graph([busy], name="inner")
    outer = Graph([inner.as_node()], name="outer")
    cp: Any = (
        InMemoryCheckpointer()
        if backend == "memory"
        else SqliteCheckpointer(str(tmp_path / "runs.db"), durability=backend)
    )
    with cp:
        runner = SyncRunner(checkpointer=cp)
        runner.map(inner, {"x": [1, 2]}, map_over="x", workflow_id="m")
        runner.run(outer, {"x": 1}, workflow_id="o")
        children = [*cp.runs(parent="m"), cp.get_run("o/inner")]
        assert [run.id for run in children] == ["m/0", "m/1", "o/inner"]
        for run in children:
            (step,) = cp.steps(run.id)
            assert step.duration_ms is not None and run.duration_ms is not None
            assert run.duration_ms >= step.duration_ms, run.id


def test_all_one_thousand_items_of_a_rerun_map_are_restored(checkpointer: Any) -> None:
    """CP8: no paging limit: every one of 1,000 completed items is restored."""
    runner = SyncRunner(checkpointer=checkpointer)
    FAIL["double"] = False
    values = {"a": list(range(1000))}
    runner.map(chain, values, map_over="a", workflow_id="big")
    CALLS.clear()
    result = runner.map(chain, values, map_over="a", workflow_id="big")
    assert CALLS == []
    assert all(r.restored for r in result)
    assert result["c"] == [(a + 1) * 2 for a in range(1000)]


def test_a_nested_graph_is_recorded_as_a_child_run(checkpointer: Any) -> None:
    """CP9: a GraphNode's run is recorded as <parent>/<node>, its step links to it."""
    FAIL["double"] = False
    inner = Graph([double, show], name="inner")
    outer = Graph([inc, inner.as_node(name="work")], name="outer")
    result = SyncRunner(checkpointer=checkpointer).run(outer, {"a": 1}, workflow_id="top")
    assert result["d"] == "c=4"
    child = checkpointer.get_run("top/work")
    assert child.parent_run_id == "top" and child.status is WorkflowStatus.COMPLETED
    assert [s.node_name for s in checkpointer.steps("top/work")] == ["double", "show"]
    step = next(s for s in checkpointer.steps("top") if s.node_name == "work")
    assert step.child_run_id == "top/work"


def test_a_failed_nested_graph_resumes_inside_the_child(checkpointer: Any) -> None:
    """CP9: resuming the parent continues the child run; its completed inner nodes stay done."""

    @node(output_name="c2")
    def later(c: int) -> int:
        CALLS.append("later")
        if FAIL["later"]:
            raise RuntimeError("later is broken")
        return c + 1

    FAIL["double"] = False
    FAIL["later"] = True
    inner = Graph([double, later], name="inner")
    outer = Graph([inc, inner.as_node(name="work")], name="outer")
    runner = SyncRunner(checkpointer=checkpointer)
    with pytest.raises(RuntimeError, match="later is broken"):
        runner.run(outer, {"a": 1}, workflow_id="top")
    FAIL["later"] = False
    CALLS.clear()
    result = runner.run(outer, {"a": 1}, workflow_id="top")
    assert CALLS == ["later"]
    assert result["c2"] == 5


def test_a_gate_decision_is_recorded_on_its_step(checkpointer: Any) -> None:
    """CP7: a gate's step carries its decision ("END" or target names)."""

    @route(targets=["show", END])
    def pick(c: int) -> Any:
        return END if c > 100 else "show"

    FAIL["double"] = False
    graph = Graph([inc, double, pick, show], name="gated")
    SyncRunner(checkpointer=checkpointer).run(graph, {"a": 1}, workflow_id="g")
    step = next(s for s in checkpointer.steps("g") if s.node_name == "pick")
    assert step.decision == "show"


def test_a_runner_refuses_a_checkpointer_without_the_sync_path() -> None:
    """CP1: SyncRunner needs the blocking write path; the TypeError lists what is missing."""

    class HalfBackend:
        def create_run_sync(self, run: Any) -> None: ...

    with pytest.raises(TypeError, match="save_superstep_sync"):
        SyncRunner(checkpointer=HalfBackend())


def test_force_resume_without_a_checkpointer_is_a_value_error() -> None:
    """CP4: force_resume only applies to recorded workflows."""
    FAIL["double"] = False
    with pytest.raises(ValueError, match="no checkpointer"):
        SyncRunner().run(chain, {"a": 1}, force_resume=True)


def test_the_resolution_generator_asks_only_for_the_reads_it_needs() -> None:
    """resolve_steps (what a DBOS runner calls) asks get_run for a new id and starts fresh."""
    steps = resolve_steps(chain, {"a": 1}, workflow_id="fresh")
    assert next(steps) == ("get_run", "fresh")
    with pytest.raises(StopIteration) as done:
        steps.send(None)
    start = done.value.value
    assert (start.workflow_id, start.kind, start.snapshot) == ("fresh", "new", None)


def test_input_signature_depends_on_values_not_on_their_order() -> None:
    """CP8: the signature of a map item is a function of its values (and the graph's code)."""
    assert input_signature(chain, {"a": 1, "x": 2}) == input_signature(chain, {"x": 2, "a": 1})
    assert input_signature(chain, {"a": 1}) != input_signature(chain, {"a": 2})


def test_a_long_run_resumes_from_delta_recorded_state(checkpointer: Any) -> None:
    """Bookkeeping is recorded in full every 64 supersteps and as per-superstep changes in
    between; resumes at supersteps 137 and then 140 of a 150-node chain re-run only the failed
    node and what follows, folding the changes recorded by each earlier attempt."""
    ran: list[int] = []
    broken = {"at": 137}

    nodes = []
    for i in range(150):
        exec_ns: dict[str, Any] = {"ran": ran, "broken": broken}
        exec(
            f"def s{i}(x{i}):\n    ran.append({i})\n"
            f"    if broken['at'] == {i}:\n        raise RuntimeError('step {i} broke')\n"
            f"    return x{i} + 1",
            exec_ns,
        )
        nodes.append(node(exec_ns[f"s{i}"], output_name=f"x{i + 1}"))
    graph = Graph(nodes, name="long")
    runner = SyncRunner(checkpointer=checkpointer)
    runner.run(graph, {"x0": 0}, workflow_id="long", error_handling="continue")
    assert "base" in checkpointer.checkpoint("long").state  # the latest one is a delta
    broken["at"] = 140
    ran.clear()
    runner.run(graph, {"x0": 0}, workflow_id="long", error_handling="continue")
    assert ran == [137, 138, 139, 140]
    broken["at"] = -1
    ran.clear()
    result = runner.run(graph, {"x0": 0}, workflow_id="long")
    assert ran == list(range(140, 150))
    assert result["x150"] == 150


def test_each_step_records_the_versions_of_the_inputs_it_read(checkpointer: Any) -> None:
    """StepRecord.input_versions: every completed step names the version of each input it read
    (a loop's later visits read later versions)."""
    FAIL["double"] = False
    SyncRunner(checkpointer=checkpointer).run(chain, {"a": 1}, workflow_id="wf")
    seen = {step.node_name: step.input_versions for step in checkpointer.steps("wf")}
    assert seen == {"inc": {"a": 1}, "double": {"b": 1}, "show": {"c": 1}}

    @node(output_name="n")
    def count(n: int) -> int:
        return n + 1

    @route(targets=["count", END])
    def again(n: int) -> str:
        return "count" if n < 3 else END

    loop = Graph([count, again], name="loop", entrypoint="count")
    SyncRunner(checkpointer=checkpointer).run(loop, {"n": 0}, workflow_id="loop")
    versions = [s.input_versions for s in checkpointer.steps("loop") if s.node_name == "count"]
    assert versions == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_exit_durability_records_the_run_once_and_resumes_it(tmp_path: Path) -> None:
    """durability="exit": one write when the run ends, with a full checkpoint a resume uses."""
    with SqliteCheckpointer(str(tmp_path / "runs.db"), durability="exit") as cp:
        runner = SyncRunner(checkpointer=cp)
        FAIL["double"] = True
        runner.run(chain, {"a": 1}, workflow_id="wf", error_handling="continue")
        assert cp.get_run("wf").status is WorkflowStatus.FAILED
        assert "base" not in cp.checkpoint("wf").state
        FAIL["double"] = False
        CALLS.clear()
        assert runner.run(chain, {"a": 1}, workflow_id="wf")["d"] == "c=4"
        assert CALLS == ["double", "show"]


def test_an_output_json_cannot_store_fails_the_run_naming_node_and_output(tmp_path: Path) -> None:
    """CP1: a value the JSON serializer can't store → CheckpointSerializationError, run FAILED."""
    from hypergraph.exceptions import CheckpointSerializationError

    @node(output_name="handle")
    def opaque(a: int) -> object:
        return object()

    with SqliteCheckpointer(str(tmp_path / "runs.db")) as cp:
        runner = SyncRunner(checkpointer=cp)
        with pytest.raises(CheckpointSerializationError, match=r"opaque.*handle|handle.*opaque"):
            runner.run(Graph([opaque], name="opaque"), {"a": 1}, workflow_id="bad")
        assert cp.get_run("bad").status is WorkflowStatus.FAILED
        assert cp.steps("bad") == []


def test_a_nested_graph_visited_twice_in_a_loop_gets_one_child_run_per_visit(
    checkpointer: Any,
) -> None:
    """CP9: later visits of a graph node in a loop are recorded as <parent>/<node>@<visit>."""

    @node(output_name="n")
    def bump(n: int) -> int:
        return n + 1

    @route(targets=["step", END])
    def more(n: int) -> Any:
        return "step" if n < 3 else END

    inner = Graph([bump], name="inner")
    graph = Graph([inner.as_node(name="step"), more], name="looping", entrypoint="step")
    result = SyncRunner(checkpointer=checkpointer).run(graph, {"n": 0}, workflow_id="lp")
    assert result["n"] == 3
    children = sorted(run.id for run in checkpointer.runs(parent="lp"))
    assert children == ["lp/step", "lp/step@2", "lp/step@3"]


def test_a_run_stopped_by_keyboard_interrupt_is_recorded_as_stopped(checkpointer: Any) -> None:
    """R2-6: a signal (KeyboardInterrupt) ends the recorded run as STOPPED, and it resumes."""
    stop = {"on": True}

    @node(output_name="c")
    def halt(b: int) -> int:
        if stop["on"]:
            raise KeyboardInterrupt
        return b

    graph = Graph([inc, halt], name="halting")
    runner = SyncRunner(checkpointer=checkpointer)
    with pytest.raises(KeyboardInterrupt):
        runner.run(graph, {"a": 1}, workflow_id="st")
    assert checkpointer.get_run("st").status is WorkflowStatus.STOPPED
    stop["on"] = False
    CALLS.clear()
    assert runner.run(graph, {"a": 1}, workflow_id="st")["c"] == 2
    assert CALLS == []


def test_a_superstep_an_interrupt_cut_short_leaves_no_record(checkpointer: Any) -> None:
    """A KeyboardInterrupt commits nothing of its superstep: a sibling that finished before it
    is not recorded either, and the resume runs both."""
    stop = {"on": True}

    @node(output_name="x")
    def first(a: int) -> int:
        CALLS.append("first")
        return a + 1

    @node(output_name="y")
    def second(a: int) -> int:
        CALLS.append("second")
        if stop["on"]:
            raise KeyboardInterrupt
        return a + 2

    graph = Graph([inc, first, second], name="siblings")
    runner = SyncRunner(checkpointer=checkpointer)
    with pytest.raises(KeyboardInterrupt):
        runner.run(graph, {"a": 1}, workflow_id="cut")
    assert [(s.node_name, s.status) for s in checkpointer.steps("cut")] == []
    assert CALLS == ["inc", "first", "second"]
    stop["on"] = False
    CALLS.clear()
    result = runner.run(graph, {"a": 1}, workflow_id="cut")
    assert (result["b"], result["x"], result["y"]) == (2, 2, 3)
    assert sorted(CALLS) == ["first", "inc", "second"]


@pytest.mark.parametrize("runner_kind", ["sync", "async"])
def test_each_superstep_is_in_the_file_before_the_next_starts(
    tmp_path: Path, runner_kind: str
) -> None:
    """durability="sync": a node sees, from another connection, every step before it committed."""
    import asyncio

    from hypergraph import AsyncRunner

    path = str(tmp_path / "runs.db")
    seen: list[list[str]] = []

    def committed() -> list[str]:
        with SqliteCheckpointer(path, readonly=True) as reader:
            return [s.node_name for s in reader.steps("live")]

    @node(output_name="b")
    def one(a: int) -> int:
        seen.append(committed())
        return a + 1

    @node(output_name="c")
    def two(b: int) -> int:
        seen.append(committed())
        return b + 1

    @node(output_name="d")
    def three(c: int) -> int:
        seen.append(committed())
        return c + 1

    graph = Graph([one, two, three], name="live")
    with SqliteCheckpointer(path) as cp:
        if runner_kind == "sync":
            result = SyncRunner(checkpointer=cp).run(graph, {"a": 0}, workflow_id="live")
        else:
            result = asyncio.run(AsyncRunner(checkpointer=cp).run(graph, {"a": 0}, workflow_id="live"))
    assert result["d"] == 3
    assert seen == [[], ["one"], ["one", "two"]]


def test_a_recorded_run_of_something_that_is_not_a_graph_is_a_type_error(checkpointer: Any) -> None:
    """X16 order holds with a checkpointer: the graph argument is checked before any lookup."""
    with pytest.raises(TypeError, match="expects a Graph"):
        SyncRunner(checkpointer=checkpointer).run(inc, {"a": 1}, workflow_id="x")  # type: ignore[arg-type]


def test_exit_durability_stores_the_checkpoint_a_snapshot_of_the_run_gives(
    tmp_path: Path,
) -> None:
    """durability="exit" builds its final checkpoint from the loop state: it equals the snapshot."""
    from hypergraph.runtime import checkpoint_of

    @node(output_name="n")
    def grow(n: int) -> int:
        return n + 1

    @route(targets=["grow", END])
    def again(n: int) -> Any:
        return "grow" if n < 3 else END

    @node(output_name="label")
    def name_it(n: int, prefix: str = "n=") -> str:
        return f"{prefix}{n}"

    looped = Graph([grow, again, name_it], name="looped", entrypoint="grow")
    with SqliteCheckpointer(str(tmp_path / "runs.db"), durability="exit") as cp:
        result = SyncRunner(checkpointer=cp).run(looped, {"n": 0}, workflow_id="lp")
        assert result["label"] == "n=3"
        snap = result.checkpoint
        expected = checkpoint_of("lp", snap.superstep - 1, snap)
        stored = cp.checkpoint("lp")
        assert stored.superstep == expected.superstep
        assert stored.values == expected.values
        assert stored.state == expected.state
        assert stored.inputs == expected.inputs
        steps = cp.steps("lp")
        assert [s.node_name for s in steps] == ["grow", "again"] * 3 + ["name_it"]
        assert [s.index for s in steps] == list(range(7))
        assert steps[1].decision == "grow" and steps[5].decision == "END"
        assert steps[0].input_versions == {"n": 1} and steps[2].input_versions == {"n": 2}


def test_a_rerun_map_plans_from_children_when_a_backend_has_no_child_runs(
    checkpointer: Any,
) -> None:
    """CP8 through the protocol alone: a backend without the optional ``child_runs`` read is
    answered from ``children``, and the plan is the same (sync and async reads)."""
    import asyncio

    from hypergraph.runtime import plan_map, plan_map_async

    FAIL["double"] = True
    SyncRunner(checkpointer=checkpointer).map(
        chain, {"a": [1, 2]}, map_over="a", workflow_id="batch", error_handling="continue"
    )
    FAIL["double"] = False
    SyncRunner(checkpointer=checkpointer).map(chain, {"a": [2]}, map_over="a", workflow_id="other")

    class ProtocolOnly:
        """The checkpointer without ``child_runs``/``get_child_runs``."""

        def __getattr__(self, name: str) -> Any:
            if name in ("child_runs", "get_child_runs"):
                raise AttributeError(name)
            return getattr(checkpointer, name)

    def plan(start: Any) -> Any:
        restored = {i: (r.run_id, dict(r.values), r.restored) for i, r in start.restored.items()}
        return start.exists, restored, start.resumed, start.items

    items = [{"a": 2}, {"a": 1}, {"a": 5}]
    for wid in ("batch", "other"):
        narrow = plan(plan_map(checkpointer, chain, items, wid))
        assert plan(plan_map(ProtocolOnly(), chain, items, wid)) == narrow
        assert plan(asyncio.run(plan_map_async(ProtocolOnly(), chain, items, wid))) == narrow
    assert plan(plan_map(checkpointer, chain, items, "other"))[1] == {
        0: ("other/0", {"b": 3, "c": 6, "d": "c=6"}, True)
    }
