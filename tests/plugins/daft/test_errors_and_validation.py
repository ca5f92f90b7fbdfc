"""Errors under DaftRunner: original exception types, continue mode, refusals (S2), processors."""

from __future__ import annotations

import pytest

from hypergraph import (
    END,
    DaftRunner,
    EventProcessor,
    Graph,
    GraphConfigError,
    IncompatibleRunnerError,
    MissingInputError,
    RunStatus,
    interrupt,
    node,
    route,
)


class NodeFailed(Exception):
    """A user exception type Daft has never heard of."""


@node(output_name="y")
def bad_on_seven(x: int) -> int:
    if x == 7:
        raise NodeFailed(f"bad row {x}")
    return x


@node(output_name="z")
def after(y: int) -> int:
    return y + 1


def test_run_reraises_the_nodes_own_exception_type(runner: DaftRunner) -> None:
    """The caller sees NodeFailed itself, never DaftCoreException (sharp edge 2)."""
    with pytest.raises(NodeFailed, match="bad row 7") as caught:
        runner.run(Graph([bad_on_seven, after]), {"x": 7})
    assert type(caught.value) is NodeFailed
    assert caught.value.__traceback__ is not None


def test_map_raise_mode_reraises_the_first_failing_item(runner: DaftRunner) -> None:
    """In raise mode map() re-raises the lowest-index failure with its own type and message."""

    @node(output_name="y")
    def fails_twice(x: int) -> int:
        if x in (3, 7):
            raise NodeFailed(f"bad row {x}")
        return x

    with pytest.raises(NodeFailed, match="bad row 3"):
        runner.map(Graph([fails_twice]), {"x": list(range(10))}, map_over="x")


def test_map_continue_keeps_each_failure_at_its_index(runner: DaftRunner) -> None:
    """Failed items are FAILED results carrying their exception; the others complete (MP8)."""
    results = runner.map(
        Graph([bad_on_seven, after]), {"x": [6, 7, 8]}, map_over="x", error_handling="continue"
    )
    assert [r.status for r in results] == [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.COMPLETED]
    assert results["z"] == [7, None, 9]
    assert results.status == RunStatus.FAILED
    failure = results.failures[0]
    assert isinstance(failure.error, NodeFailed)
    assert dict(failure.values) == {}


def test_run_continue_mode_returns_failed_result_with_empty_values(runner: DaftRunner) -> None:
    """run() in continue mode returns FAILED with the exception and no values (DF3)."""
    result = runner.run(Graph([bad_on_seven, after]), {"x": 7}, error_handling="continue")
    assert result.status == RunStatus.FAILED
    assert isinstance(result.error, NodeFailed)
    assert dict(result.values) == {}


def test_failures_in_async_and_batch_nodes_keep_their_type(runner: DaftRunner) -> None:
    """Async and batch nodes report their own exceptions too."""

    @node(output_name="y")
    async def async_bad(x: int) -> int:
        raise NodeFailed("async")

    @node(output_name="y", batch=True)
    def batch_bad(x):  # type: ignore[no-untyped-def]
        raise NodeFailed("batch")

    with pytest.raises(NodeFailed, match="async"):
        runner.map(Graph([async_bad]), {"x": [1, 2]}, map_over="x")
    with pytest.raises(NodeFailed, match="batch"):
        runner.map(Graph([batch_bad]), {"x": [1, 2]}, map_over="x")


class Abort(BaseException):
    """Not an Exception: nodes don't catch it, so it breaks the whole Daft plan."""


def test_continue_falls_back_per_item_when_the_columnar_plan_fails(runner: DaftRunner) -> None:
    """When the Daft plan itself fails, continue mode runs the items one by one (DF5)."""

    @node(output_name="y")
    def aborts_on_two(x: int) -> int:
        if x == 2:
            raise Abort("stop")
        return x * 10

    results = runner.map(
        Graph([aborts_on_two]), {"x": [1, 2, 3]}, map_over="x", error_handling="continue"
    )
    assert [r.status for r in results] == [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.COMPLETED]
    assert results["y"] == [10, None, 30]
    assert results[1].error is not None


def test_missing_input_is_reported_before_running(runner: DaftRunner) -> None:
    """A required input that is absent raises MissingInputError naming it."""
    with pytest.raises(MissingInputError, match="'x'"):
        runner.run(Graph([bad_on_seven]), {})
    @node(output_name="scaled")
    def scale(x: int, factor: int) -> int:
        return x * factor

    with pytest.raises(MissingInputError, match="'factor'"):
        runner.map(Graph([scale]), {"x": [1, 2]}, map_over="x")


@node(output_name="count")
def increment(count: int) -> int:
    return count + 1


@route(targets=["increment", END])
def until_five(count: int) -> object:
    return END if count >= 5 else "increment"


@node(output_name="draft")
def make_draft(query: str) -> str:
    return f"Draft: {query}"


@interrupt(output_name="decision")
def approval(draft: str) -> None:
    return None


def test_cycles_are_refused_with_the_s2_message(runner: DaftRunner) -> None:
    """A cyclic graph is rejected before anything runs, in S2's words."""
    graph = Graph([increment, until_five], entrypoint="increment")
    with pytest.raises(IncompatibleRunnerError, match=r"This graph has cycles, but DaftRunner doesn't support cycles\."):
        runner.run(graph, {"count": 0})


def test_gates_are_refused_with_the_s2_message(runner: DaftRunner) -> None:
    """A graph with a route gate is rejected, naming gates."""

    @node(output_name="score")
    def score(x: int) -> int:
        return x

    @route(targets=["after", END])
    def gate(score: int) -> object:
        return END

    @node(output_name="out")
    def after(score: int) -> int:
        return score

    with pytest.raises(
        IncompatibleRunnerError,
        match=r"This graph has gates \(@route/@branch\) \(gate\), but DaftRunner doesn't support gates.",
    ):
        runner.map(Graph([score, gate, after]), {"x": [1]}, map_over="x")


def test_interrupts_are_refused_with_the_s2_message(runner: DaftRunner) -> None:
    """A graph with an interrupt is rejected, naming the interrupt."""
    with pytest.raises(IncompatibleRunnerError, match="DaftRunner doesn't support interrupts"):
        runner.run(Graph([make_draft, approval]), {"query": "hi"})


def test_unsupported_graphs_are_refused_at_as_node_time() -> None:
    """as_node(runner=DaftRunner()) checks the graph at once (R13)."""
    with pytest.raises(IncompatibleRunnerError, match="DaftRunner doesn't support cycles") as caught:
        Graph([increment, until_five], entrypoint="increment", name="loop").as_node(
            runner=DaftRunner()
        )
    assert caught.value.capability == "supports_cycles"
    with pytest.raises(IncompatibleRunnerError, match="DaftRunner doesn't support interrupts"):
        Graph([make_draft, approval], name="review").as_node(runner=DaftRunner())


def test_batch_nodes_with_several_outputs_are_refused(runner: DaftRunner) -> None:
    """A batch=True node with two outputs is a configuration error naming the node."""

    @node(output_name=("a", "b"), batch=True)
    def split(x):  # type: ignore[no-untyped-def]
        return x, x

    with pytest.raises(GraphConfigError, match="Batch node 'split'"):
        runner.map(Graph([split]), {"x": [1]}, map_over="x")


def test_runtime_select_and_entrypoint_are_refused(runner: DaftRunner) -> None:
    """select= and entrypoint= at run time raise ValueError pointing to the graph (X23)."""
    with pytest.raises(ValueError, match="Runtime select"):
        runner.run(Graph([after]), {"y": 1}, select=["z"])
    with pytest.raises(ValueError, match="Runtime entrypoint"):
        runner.run(Graph([after]), {"y": 1}, entrypoint="after")


def test_event_processors_are_ignored_with_a_warning(runner: DaftRunner) -> None:
    """Processors are accepted, never called, and a UserWarning says so (DF4)."""
    seen: list[object] = []

    class Recorder(EventProcessor):
        def on_event(self, event: object) -> None:
            seen.append(event)

    with pytest.warns(UserWarning, match="DaftRunner does not emit events"):
        result = runner.run(Graph([after]), {"y": 1}, event_processors=[Recorder()])
    with pytest.warns(UserWarning, match="ignored"):
        runner.map(Graph([after]), {"y": [1]}, map_over="y", event_processors=[Recorder()])
    assert result["z"] == 2
    assert seen == []


def test_capabilities_match_the_spec() -> None:
    """Cycles, gates, interrupts off; async nodes and distributed on; no coroutine (DF2)."""
    caps = DaftRunner().capabilities
    assert (caps.supports_cycles, caps.supports_gates, caps.supports_interrupts) == (False, False, False)
    assert caps.supports_async_nodes is True
    assert caps.supports_distributed is True
    assert caps.returns_coroutine is False
    assert caps.supports_streaming is False
