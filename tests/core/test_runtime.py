"""The shared run loop (hypergraph.runtime): identity, snapshots, failures, gates, entrypoints."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from hypergraph import END, Graph, GraphConfigError, SyncRunner, node, route, runtime
from hypergraph.exceptions import GraphChangedError
from hypergraph.serde import make_converter


# ---------------------------------------------------------------------------- helpers
class RecordingExecutor:
    """Runs tasks in order like SyncRunner and records every task id it saw."""

    def __init__(self) -> None:
        self.task_ids: list[str] = []

    def execute(
        self, tasks: Sequence[runtime.NodeTask], run_task: Callable[[runtime.NodeTask], Any]
    ) -> list[Any]:
        results: list[Any] = []
        for task in tasks:
            self.task_ids.append(task.task_id)
            try:
                results.append(run_task(task))
            except Exception as exc:
                results.append(exc)
                break
        return results


class RecordingRunner(SyncRunner):
    """A SyncRunner whose every node runs as a task through a recording executor."""

    def __init__(self) -> None:
        super().__init__()
        self.executor = RecordingExecutor()

    def _driver(self, info: Any) -> runtime.SyncDriver:
        return runtime.SyncDriver(self, None, info.emitter, self.executor, observed=True)


def gated_retry_graph(calls: list[str]) -> Graph:
    @node(output_name="score")
    def score(n: int = 0) -> float:
        calls.append("score")
        return 0.9

    @node(output_name="n")
    def retry(n: int = 0) -> int:
        calls.append("retry")
        return n + 1

    @route(targets=["retry", END])
    def decide(score: float) -> str:
        calls.append("decide")
        return END if score > 0.5 else "retry"

    return Graph([score, retry, decide], entrypoint="score")


# ---------------------------------------------------------------------------- gates, entrypoints
def test_gate_target_waits_for_its_gate_even_with_default_inputs():
    """R2-2: retry (all inputs defaulted) does not run before decide chose END."""
    calls: list[str] = []
    result = SyncRunner().run(gated_retry_graph(calls))
    assert calls == ["score", "decide"]
    assert result["score"] == 0.9 and "n" not in result


def test_entrypoint_upstream_of_a_cycle_enters_the_cycle():
    """R2-3: a setup node feeding a loop is a valid entrypoint; G10 applies only without one."""

    @node(output_name="step")
    def prepare(step_size: int) -> int:
        return step_size

    @node(output_name="count")
    def inc(step: int, count: int = 0) -> int:
        return count + step

    @route(targets=["inc", END])
    def check(count: int = 0) -> object:
        return END if count >= 6 else "inc"

    graph = Graph([prepare, inc, check], entrypoint="prepare")
    assert SyncRunner().run(graph, {"step_size": 2})["count"] == 6


def test_entrypoint_may_be_given_as_the_node_object():
    """R2-3: Graph(entrypoint=node) and with_entrypoint(node) accept nodes."""

    @node(output_name="a")
    def first(x: int) -> int:
        return x + 1

    @node(output_name="b")
    def second(a: int) -> int:
        return a * 2

    assert Graph([first, second], entrypoint=second).entrypoints_config == ("second",)
    assert Graph([first, second]).with_entrypoint(second).entrypoints_config == ("second",)
    assert SyncRunner().run(Graph([first, second], entrypoint=[second]), {"a": 3})["b"] == 6


@pytest.mark.parametrize("bad", [[], (), "", 3, [3], [None]])
def test_empty_or_badly_typed_entrypoint_is_a_graph_config_error(bad):
    """Entrypoints must name at least one node, as a name or a node object."""

    @node(output_name="a")
    def first(x: int) -> int:
        return x

    with pytest.raises(GraphConfigError, match="entrypoint"):
        Graph([first], entrypoint=bad)


def test_with_entrypoint_without_names_is_a_graph_config_error():
    """with_entrypoint() with nothing to start from is refused the same way."""

    @node(output_name="a")
    def first(x: int) -> int:
        return x

    with pytest.raises(GraphConfigError, match="empty"):
        Graph([first]).with_entrypoint()


# ---------------------------------------------------------------------------- identity
def test_task_ids_are_deterministic_across_runs():
    """Path, node, superstep and visit name each execution the same way every time (DB4)."""
    calls: list[str] = []
    first, second = RecordingRunner(), RecordingRunner()
    first.run(gated_retry_graph(calls))
    second.run(gated_retry_graph(calls))
    assert first.executor.task_ids == ["score@0.1", "decide@1.1"]
    assert first.executor.task_ids == second.executor.task_ids


def test_task_ids_of_nested_graphs_and_map_items_carry_their_path():
    """A nested node's id starts with the graph-node names and map item indices above it."""

    @node(output_name="y")
    def inner(x: int) -> int:
        return x + 1

    inner_graph = Graph([inner], name="retrieval")
    outer = Graph([inner_graph.as_node()], name="outer")
    runner = RecordingRunner()
    runner.map(outer, {"x": [1, 2]}, map_over="x")
    assert runner.executor.task_ids == [
        "0/retrieval@0.1", "0/retrieval/inner@0.1", "1/retrieval@0.1", "1/retrieval/inner@0.1",
    ]


def test_run_identity_names_child_workflows():
    """CP8/CP9: a child's workflow id is '<workflow>/<path>'."""
    identity = runtime.RunIdentity("run-1", "order-42")
    child = identity.child("run-2", "retrieval").child("run-3", "0", item_index=0)
    assert child.path == ("retrieval", "0")
    assert child.child_workflow_id == "order-42/retrieval/0"
    assert identity.child_workflow_id == "order-42"


# ---------------------------------------------------------------------------- failures
def test_failed_superstep_keeps_siblings_and_resumes_only_the_failed_node():
    """A snapshot after a failure re-runs exactly the failed node and what depends on it."""
    calls: list[str] = []
    broken = {"on": True}

    @node(output_name="a")
    def left(x: int) -> int:
        calls.append("left")
        return x + 1

    @node(output_name="b")
    def right(x: int) -> int:
        calls.append("right")
        if broken["on"]:
            raise RuntimeError("flaky")
        return x * 10

    @node(output_name="c")
    def join(a: int, b: int) -> int:
        calls.append("join")
        return a + b

    graph = Graph([left, right, join])
    failed = SyncRunner().run(graph, {"x": 1}, error_handling="continue")
    assert failed.status == "failed" and dict(failed.values) == {"a": 2}
    assert failed.checkpoint.failed == ("right",)
    assert calls == ["left", "right"]
    broken["on"] = False
    calls.clear()
    resumed = SyncRunner().run(graph, {}, checkpoint=failed.checkpoint)
    assert resumed["c"] == 12
    assert calls == ["right", "join"]


def test_failed_node_in_a_gated_loop_is_retried_after_restore():
    """CP5 in a cyclic region: the failed visit runs again; earlier visits are kept."""
    calls: list[int] = []
    fail_at = {"count": 2}

    @node(output_name="count")
    def inc(count: int) -> int:
        calls.append(count)
        if count == fail_at["count"]:
            raise RuntimeError("boom")
        return count + 1

    @route(targets=["inc", END])
    def check(count: int) -> object:
        return END if count >= 4 else "inc"

    graph = Graph([inc, check], entrypoint="inc")
    failed = SyncRunner().run(graph, {"count": 0}, error_handling="continue")
    assert failed.status == "failed" and failed["count"] == 2
    fail_at["count"] = -1
    calls.clear()
    resumed = SyncRunner().run(graph, {}, checkpoint=failed.checkpoint)
    assert resumed["count"] == 4
    assert calls == [2, 3]


def test_checkpoint_refuses_a_graph_of_another_structure():
    """A snapshot restores only into the graph (and scope) it was taken from."""

    @node(output_name="y")
    def f(x: int) -> int:
        return x

    @node(output_name="z")
    def g(y: int) -> int:
        return y

    done = SyncRunner().run(Graph([f]), {"x": 1})
    with pytest.raises(GraphChangedError, match="structure"):
        SyncRunner().run(Graph([f, g]), {}, checkpoint=done.checkpoint)


def test_checkpoint_must_be_a_snapshot():
    """checkpoint= takes a RunSnapshot; anything else is a TypeError naming the type."""

    @node(output_name="y")
    def f(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="RunSnapshot"):
        SyncRunner().run(Graph([f]), {"x": 1}, checkpoint={"values": {}})


# ---------------------------------------------------------------------------- snapshots
def test_snapshot_round_trips_through_json():
    """RunSnapshot is a frozen attrs value the serde converter turns to JSON and back."""
    calls: list[str] = []
    result = SyncRunner().run(gated_retry_graph(calls))
    snap = result.checkpoint
    converter = make_converter()
    text = json.dumps(converter.unstructure(snap))
    back = converter.structure(json.loads(text), runtime.RunSnapshot)
    assert back == snap
    assert snap.completed == ("score", "decide")
    assert snap.ended == ("decide",)


def test_restore_into_a_graph_listing_nodes_in_another_order_continues_the_same_way():
    """Snapshots are keyed by names, so node order in the graph does not matter."""
    calls: list[str] = []

    @node(output_name="a")
    def fa(x: int) -> int:
        calls.append("fa")
        return x + 1

    @node(output_name="b")
    def fb(a: int) -> int:
        calls.append("fb")
        if a < 0:
            raise ValueError("negative")
        return a * 2

    @node(output_name="c")
    def fc(b: int) -> int:
        calls.append("fc")
        return b - 1

    failed = SyncRunner().run(Graph([fa, fb, fc]), {"x": -5}, error_handling="continue")
    assert failed.checkpoint.failed == ("fb",)
    # same structure, other order: fix the input by forking with a new value for 'x'
    reordered = Graph([fc, fb, fa])
    calls.clear()
    forked = SyncRunner().run(reordered, {"x": 2}, checkpoint=failed.checkpoint)
    assert forked["c"] == 5
    assert calls == ["fa", "fb", "fc"]


def test_completed_run_carries_a_checkpoint_to_fork_from():
    """R2-4: a fork from a finished run re-runs only what the new value changes."""
    calls: list[str] = []

    @node(output_name="a")
    def fa(x: int) -> int:
        calls.append("fa")
        return x + 1

    @node(output_name="b")
    def fb(y: int) -> int:
        calls.append("fb")
        return y * 2

    graph = Graph([fa, fb])
    done = SyncRunner().run(graph, {"x": 1, "y": 2})
    calls.clear()
    forked = SyncRunner().run(graph, {"y": 5}, checkpoint=done.checkpoint)
    assert dict(forked.values) == {"a": 2, "b": 10}
    assert calls == ["fb"]


def test_runtime_module_lists_its_public_names():
    """hypergraph.runtime has __all__, and every listed name exists."""
    assert "RunLoop" in runtime.__all__ and "Executor" in runtime.__all__
    for name in runtime.__all__:
        assert hasattr(runtime, name), name


def test_sync_runner_sees_a_keyboard_interrupt_as_a_stopped_run():
    """R2-6: a BaseException still ends the run with RunEnd(status=stopped) for processors."""
    from hypergraph.events import EventProcessor

    ends: list[Any] = []

    class Recorder(EventProcessor):
        def on_run_end(self, event: Any) -> None:
            ends.append(event)

    @node(output_name="y")
    def halt(x: int) -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        SyncRunner().run(Graph([halt]), {"x": 1}, event_processors=[Recorder()])
    assert [e.status for e in ends] == ["stopped"]


def test_nesting_deeper_than_the_recursion_budget_is_a_graph_config_error():
    """Issue 11 item 17: a clear error naming the depth and the node path, not RecursionError."""

    @node(output_name="y")
    def leaf(x: int) -> int:
        return x

    graph = Graph([leaf], name="g0")
    for i in range(1, 150):
        graph = Graph([graph.as_node(name=f"g{i}")], name=f"g{i}")
    with pytest.raises(GraphConfigError, match=r"nests graphs 149 levels deep \(g149/g148/g147/\.\.\./g3/g2/g1\)"):
        SyncRunner().run(graph, {"x": 1})


def test_nesting_within_the_budget_runs():
    """Eighty levels run on both the fast path and with a processor attached."""
    from hypergraph.events import EventProcessor

    @node(output_name="y")
    def leaf(x: int) -> int:
        return x + 1

    graph = Graph([leaf], name="g0")
    for i in range(1, 80):
        graph = Graph([graph.as_node(name=f"g{i}")], name=f"g{i}")
    assert SyncRunner().run(graph, {"x": 1})["y"] == 2
    assert SyncRunner().run(graph, {"x": 1}, event_processors=[EventProcessor()])["y"] == 2


def test_plans_are_frozen_once_built_and_cached_by_the_plan_module():
    """Issue 7 item 9: a finished plan refuses writes; its cache is not a key in the graph."""
    from hypergraph.plan import NodePlan, plan_for

    @node(output_name="y")
    def f(x: int) -> int:
        return x

    graph = Graph([f])
    plan = plan_for(graph)
    assert graph.plan is plan and "_plan" not in vars(graph)
    assert isinstance(plan.nodes[0], NodePlan)
    with pytest.raises(AttributeError, match="frozen"):
        plan.nodes[0].inline = False
    assert Graph([f]).plan is not plan  # each graph value has its own plan
