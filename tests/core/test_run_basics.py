"""SyncRunner.run(): the seeds' examples, RunResult, input handling, errors and loops."""

from __future__ import annotations

import re
import threading

import pytest

from hypergraph import (
    END,
    ConflictError,
    Graph,
    GraphConfigError,
    InfiniteLoopError,
    MissingInputError,
    NodeStartEvent,
    RunStatus,
    SyncRunner,
    node,
    route,
)
from hypergraph.events import EventProcessor


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


@node(output_name="count")
def inc(count: int) -> int:
    return count + 1


@route(targets=["inc", END])
def chk(count: int):
    return END if count >= 5 else "inc"


class StartRecorder(EventProcessor):
    """Collects every NodeStartEvent."""

    def __init__(self) -> None:
        self.starts: list[NodeStartEvent] = []

    def on_node_start(self, event: NodeStartEvent) -> None:
        self.starts.append(event)


# ---------------------------------------------------------------------------- seed examples


def test_quick_start_doubles_x():
    """The quick start of the runners overview doubles 5 into 10 and completes."""
    graph = Graph([double])
    runner = SyncRunner()
    result = runner.run(graph, {"x": 5})
    assert result["doubled"] == 10
    assert result.status == RunStatus.COMPLETED


def test_rag_example_runs_embed_then_retrieve():
    """The RAG example feeds embed's embedding into retrieve."""

    @node(output_name="embedding")
    def embed(query: str) -> list[float]:
        return [0.1, 0.2, 0.3]

    @node(output_name="docs")
    def retrieve(embedding: list[float]) -> list[str]:
        return ["doc1", "doc2"]

    graph = Graph([embed, retrieve])
    runner = SyncRunner()
    result = runner.run(graph, {"query": "What is RAG?"})
    assert result["docs"] == ["doc1", "doc2"]
    assert result["embedding"] == [0.1, 0.2, 0.3]
    assert result.status == RunStatus.COMPLETED


def test_three_stage_pipeline_takes_three_supersteps():
    """The 3-stage pipeline runs step1, step2, step3 in supersteps 0, 1, 2."""

    @node(output_name="a")
    def step1() -> int:
        return 1

    @node(output_name="b")
    def step2(a: int) -> int:
        return a * 2

    @node(output_name="c")
    def step3(b: int) -> int:
        return b * 3

    graph = Graph([step1, step2, step3])
    recorder = StartRecorder()
    result = SyncRunner().run(graph, event_processors=[recorder])
    assert result.values == {"a": 1, "b": 2, "c": 6}
    assert [(e.node_name, e.superstep) for e in recorder.starts] == [
        ("step1", 0),
        ("step2", 1),
        ("step3", 2),
    ]


# ---------------------------------------------------------------------------- RunResult (R7, R8)


def test_result_getitem_raises_key_error_for_missing_output():
    """result[k] for an absent output is a KeyError."""
    result = SyncRunner().run(Graph([double]), {"x": 1})
    with pytest.raises(KeyError, match="nope"):
        result["nope"]


def test_result_is_dict_like_over_its_values():
    """get, in, keys and items read the output values."""
    result = SyncRunner().run(Graph([double, add_one]), {"x": 1})
    assert result.get("result") == 3
    assert result.get("nope") is None
    assert result.get("nope", 7) == 7
    assert "doubled" in result
    assert "x" not in result
    assert list(result.keys()) == ["doubled", "result"]
    assert list(result.items()) == [("doubled", 2), ("result", 3)]


def test_result_values_is_both_a_dict_and_callable():
    """result.values["x"] and result.values() both work."""
    result = SyncRunner().run(Graph([double]), {"x": 4})
    assert result.values["doubled"] == 8
    assert list(result.values()) == [8]


def test_result_carries_run_id_graph_name_and_span_id():
    """run_id is "run-" + 12 hex digits; graph_name and span_id are set."""
    result = SyncRunner().run(Graph([double], name="doubler"), {"x": 1})
    assert re.fullmatch(r"run-[0-9a-f]{12}", result.run_id)
    assert result.graph_name == "doubler"
    assert isinstance(result.span_id, str) and result.span_id


def test_each_run_gets_its_own_run_id():
    """Two runs of one graph have different run ids."""
    graph = Graph([double])
    runner = SyncRunner()
    assert runner.run(graph, {"x": 1}).run_id != runner.run(graph, {"x": 1}).run_id


def test_status_equals_its_string_value():
    """RunStatus is a str enum: status == "completed" holds."""
    result = SyncRunner().run(Graph([double]), {"x": 1})
    assert result.status == "completed"
    assert result.status is RunStatus.COMPLETED
    assert result.completed and not result.failed and not result.paused


def test_result_with_no_values_is_still_truthy():
    """R7: RunResult defines no __len__/__bool__, so an empty result is truthy."""
    result = SyncRunner().run(Graph([never_route, make]), {"x": 1})
    assert result.values == {}
    assert bool(result) is True
    assert not hasattr(result, "__len__")


# ---------------------------------------------------------------------------- inputs (X13-X17)


def test_values_and_keyword_inputs_are_merged():
    """values={...} and keyword shorthand combine into one set of inputs."""

    @node(output_name="total")
    def add(a: int, b: int) -> int:
        return a + b

    result = SyncRunner().run(Graph([add]), {"a": 1}, b=2)
    assert result["total"] == 3


def test_keyword_shorthand_alone_provides_inputs():
    """Inputs may be passed as keywords only."""
    assert SyncRunner().run(Graph([double]), x=3)["doubled"] == 6


def test_same_key_in_values_and_kwargs_is_rejected():
    """A key given both in values and as a keyword is a ValueError."""
    with pytest.raises(ValueError, match="provided in both values and kwargs"):
        SyncRunner().run(Graph([double]), {"x": 1}, x=2)


def test_map_option_as_run_keyword_names_map():
    """A keyword named like a map() option tells the user map() accepts it."""
    with pytest.raises(ValueError, match=r"map_over.*map\(\)"):
        SyncRunner().run(Graph([double]), {"x": 1}, map_over="x")


def test_input_named_like_an_option_is_passed_via_values():
    """An input literally called "select" goes through values={...}."""

    @node(output_name="picked")
    def pick(select: int) -> int:
        return select * 10

    result = SyncRunner().run(Graph([pick]), values={"select": 2})
    assert result["picked"] == 20


def test_unknown_value_keys_warn_and_are_ignored():
    """Keys in values that are not inputs give a UserWarning and are ignored."""
    with pytest.warns(UserWarning, match="zzz"):
        result = SyncRunner().run(Graph([double]), {"x": 1, "zzz": 2})
    assert result.values == {"doubled": 2}


def test_unknown_value_warning_points_at_the_callers_line():
    """X14: the UserWarning is attributed to the caller's file, not to hypergraph internals."""
    with pytest.warns(UserWarning, match="zzz") as record:
        SyncRunner().run(Graph([double]), {"x": 1, "zzz": 2})
    assert record[0].filename == __file__


def test_unknown_keyword_shorthand_is_rejected():
    """An unknown keyword input is a ValueError that lists the accepted inputs."""
    with pytest.raises(ValueError, match=r"zzz.*'x'"):
        SyncRunner().run(Graph([double]), x=1, zzz=2)


def test_providing_an_internal_value_is_rejected():
    """TC9: a value produced inside the graph cannot be provided; the error names its producer."""
    graph = Graph([double, add_one])
    with pytest.raises(ValueError, match=r"'doubled'.*'double'"):
        SyncRunner().run(graph, {"doubled": 5})


def test_cycle_bootstrap_input_is_required():
    """TC9: the loop's count is a required bootstrap input, reported by MissingInputError."""
    graph = Graph([inc, chk], entrypoint="inc")
    with pytest.raises(MissingInputError, match="'count'"):
        SyncRunner().run(graph, {})


def test_missing_input_error_lists_missing_and_provided_names():
    """X17: every missing name quoted, then provided names, then a bind() hint."""

    @node(output_name="answer")
    def answer(p: str, q: str, r: str) -> str:
        return p + q + r

    with pytest.raises(MissingInputError) as info:
        SyncRunner().run(Graph([answer]), {"p": "a"})
    error = info.value
    assert error.missing == ["q", "r"]
    assert error.provided == ["p"]
    text = str(error)
    assert "Missing required inputs: 'q', 'r'" in text
    assert text.index("'p'") > text.index("'r'")
    assert "bind()" in text


def test_missing_input_raises_even_in_continue_mode():
    """X16: validation errors before the run starts always raise."""
    with pytest.raises(MissingInputError):
        SyncRunner().run(Graph([double]), {}, error_handling="continue")


def test_internal_override_option_accepts_only_the_behaviour_in_effect():
    """on_internal_override="error" (what X13 always does) is accepted; others fail loudly."""
    result = SyncRunner().run(Graph([double]), {"x": 1}, on_internal_override="error")
    assert result["doubled"] == 2
    with pytest.raises(ValueError, match="on_internal_override='ignore' is not supported"):
        SyncRunner().run(Graph([double]), {"x": 1}, on_internal_override="ignore")


def test_override_workflow_without_a_checkpointer_fails_loudly():
    """override_workflow=True has nothing to fork without a checkpointer."""
    with pytest.raises(ValueError, match="override_workflow=True needs a checkpointer"):
        SyncRunner().run(Graph([double]), {"x": 1}, override_workflow=True)


# ---------------------------------------------------------------------------- select, on_missing


@route(targets=["make"])
def never_route(x: int):
    return None


@node(output_name="out")
def make(x: int) -> int:
    return x


def test_select_restricts_result_values():
    """graph.select() returns only the selected outputs."""
    result = SyncRunner().run(Graph([double, add_one]).select("result"), {"x": 1})
    assert result.values == {"result": 3}


def test_on_missing_ignore_omits_absent_selected_outputs():
    """on_missing="ignore" (default) quietly omits a selected output that was not produced."""
    graph = Graph([never_route, make]).select("out")
    result = SyncRunner().run(graph, {"x": 1})
    assert result.values == {}
    assert result.status == "completed"


def test_on_missing_warn_names_absent_outputs():
    """on_missing="warn" warns with the missing names and returns what exists."""
    graph = Graph([never_route, make]).select("out")
    with pytest.warns(UserWarning, match="'out'"):
        result = SyncRunner().run(graph, {"x": 1}, on_missing="warn")
    assert result.status == "completed"


def test_on_missing_warning_points_at_the_callers_line():
    """X22: the on_missing="warn" warning is attributed to the caller's file."""
    graph = Graph([never_route, make]).select("out")
    with pytest.warns(UserWarning, match="'out'") as record:
        SyncRunner().run(graph, {"x": 1}, on_missing="warn")
    assert record[0].filename == __file__


def test_on_missing_error_raises_value_error():
    """on_missing="error" raises a ValueError naming the missing outputs."""
    graph = Graph([never_route, make]).select("out")
    with pytest.raises(ValueError, match="'out'"):
        SyncRunner().run(graph, {"x": 1}, on_missing="error")


def test_on_missing_error_in_continue_mode_is_a_failed_result():
    """on_missing="error" with error_handling="continue" returns FAILED."""
    graph = Graph([never_route, make]).select("out")
    result = SyncRunner().run(graph, {"x": 1}, on_missing="error", error_handling="continue")
    assert result.status == "failed"
    assert isinstance(result.error, ValueError)


def test_invalid_on_missing_lists_choices():
    """An unknown on_missing value is a ValueError listing the valid ones."""
    with pytest.raises(ValueError, match="'ignore', 'warn', 'error'"):
        SyncRunner().run(Graph([double]), {"x": 1}, on_missing="loud")


def test_invalid_error_handling_lists_choices():
    """An unknown error_handling value is a ValueError listing the valid ones."""
    with pytest.raises(ValueError, match="'raise', 'continue'"):
        SyncRunner().run(Graph([double]), {"x": 1}, error_handling="skip")


def test_runtime_select_is_rejected():
    """X23: select= at run time points to graph.select()."""
    with pytest.raises(ValueError, match=r"select"):
        SyncRunner().run(Graph([double]), {"x": 1}, select=["doubled"])


def test_runtime_entrypoint_is_rejected():
    """X23: entrypoint= at run time points to configuring it on the graph."""
    with pytest.raises(ValueError, match=r"with_entrypoint"):
        SyncRunner().run(Graph([double]), {"x": 1}, entrypoint="double")


# ---------------------------------------------------------------------------- max_iterations


def test_max_iterations_below_one_is_rejected():
    """X19: max_iterations=0 is a ValueError."""
    with pytest.raises(ValueError, match="max_iterations"):
        SyncRunner().run(Graph([double]), {"x": 1}, max_iterations=0)


def test_max_iterations_may_be_infinite():
    """X19: float('inf') is an allowed budget."""
    graph = Graph([inc, chk], entrypoint="inc")
    result = SyncRunner().run(graph, {"count": 0}, max_iterations=float("inf"))
    assert result["count"] == 5


def test_max_iterations_counts_supersteps_per_cyclic_region():
    """TC5: the increment-to-5 loop needs 10 supersteps; 10 passes and 9 raises."""
    graph = Graph([inc, chk], entrypoint="inc")
    assert SyncRunner().run(graph, {"count": 0}, max_iterations=10).values == {"count": 5}
    with pytest.raises(InfiniteLoopError) as info:
        SyncRunner().run(graph, {"count": 0}, max_iterations=9)
    assert info.value.max_iterations == 9


def test_infinite_loop_in_continue_mode_is_a_failed_result():
    """R9: InfiniteLoopError follows error_handling="continue" and keeps the partial values."""

    @route(targets=["inc", END])
    def forever(count: int):
        return "inc"

    graph = Graph([inc, forever], entrypoint="inc")
    result = SyncRunner().run(graph, {"count": 0}, max_iterations=5, error_handling="continue")
    assert result.status == "failed"
    assert isinstance(result.error, InfiniteLoopError)
    assert "count" in result.values


# ---------------------------------------------------------------------------- errors (R9, X24)


def test_raise_mode_reraises_the_very_same_exception():
    """R9: error_handling="raise" propagates the node's own exception object, unwrapped."""
    raised: list[Exception] = []

    @node(output_name="y")
    def boom(x: int) -> int:
        error = RuntimeError("boom")
        raised.append(error)
        raise error

    with pytest.raises(RuntimeError) as info:
        SyncRunner().run(Graph([boom]), {"x": 1})
    assert info.value is raised[0]


def test_continue_mode_keeps_earlier_siblings_and_stops_the_superstep():
    """TC8: the failing node stops its superstep; earlier siblings' outputs are kept."""
    raised: list[Exception] = []
    ran: list[str] = []

    @node(output_name="a")
    def ok(x: int) -> int:
        return x

    @node
    def bad(x: int) -> None:
        error = RuntimeError("bad")
        raised.append(error)
        raise error

    @node(output_name="c")
    def ok2(x: int) -> int:
        ran.append("ok2")
        return 3

    result = SyncRunner().run(Graph([ok, bad, ok2]), {"x": 1}, error_handling="continue")
    assert result.status == RunStatus.FAILED
    assert result.values == {"a": 1}
    assert result.error is raised[0]
    assert ran == []


def test_two_producers_in_one_superstep_with_different_values_conflict():
    """X24: two nodes of one superstep writing unequal values to one name raise ConflictError."""

    @node(output_name="flag")
    def make_flag(x: int) -> bool:
        return True

    @route(targets=["make_flag"])
    def skip(x: int):
        return None

    # `pick` never runs (its input never appears), so both branches keep first-pass permission
    @route(targets=["left", "right"])
    def pick(flag: bool):
        return "left"

    @node(output_name="y")
    def left(x: int) -> int:
        return 1

    @node(output_name="y")
    def right(x: int) -> int:
        return 2

    graph = Graph([skip, make_flag, pick, left, right])
    with pytest.raises(ConflictError, match=r"'y'.*'left'.*'right'"):
        SyncRunner().run(graph, {"x": 1})


def test_two_producers_with_equal_values_do_not_conflict():
    """X24: equal values written by two nodes of one superstep are fine."""

    @node(output_name="flag")
    def make_flag(x: int) -> bool:
        return True

    @route(targets=["make_flag"])
    def skip(x: int):
        return None

    @route(targets=["left", "right"])
    def pick(flag: bool):
        return "left"

    @node(output_name="y")
    def left(x: int) -> int:
        return 7

    @node(output_name="y")
    def right(x: int) -> int:
        return 7

    result = SyncRunner().run(Graph([skip, make_flag, pick, left, right]), {"x": 1})
    assert result.values == {"y": 7}


# ---------------------------------------------------------------------------- copies (X12, TC10)


@node(output_name="acc")
def app(x: int, acc: list = []) -> list:  # noqa: B006 - the point of the test
    acc.append(x)
    return acc


def test_mutable_default_is_copied_per_run():
    """TC10: a mutable default does not accumulate across runs."""
    graph = Graph([app])
    runner = SyncRunner()
    assert runner.run(graph, {"x": 1})["acc"] == [1]
    assert runner.run(graph, {"x": 2})["acc"] == [2]


def test_bound_value_is_shared_by_reference():
    """TC10: a bound list is mutated by every run."""
    shared: list[int] = []
    graph = Graph([app]).bind(acc=shared)
    runner = SyncRunner()
    runner.run(graph, {"x": 1})
    runner.run(graph, {"x": 2})
    assert shared == [1, 2]


def test_provided_value_is_passed_by_reference():
    """TC10: a list passed in values is mutated in place."""
    mine: list[int] = []
    SyncRunner().run(Graph([app]), {"x": 1, "acc": mine})
    assert mine == [1]


def test_uncopyable_default_advises_bind():
    """X12: a default that cannot be deep-copied is a GraphConfigError that suggests bind()."""

    @node(output_name="held")
    def hold(lock=threading.Lock()) -> bool:
        return lock.locked()

    with pytest.raises(GraphConfigError, match=r"bind\("):
        SyncRunner().run(Graph([hold]))


def test_uncopyable_default_is_fine_when_bound():
    """X12: binding the uncopyable object avoids the copy."""

    @node(output_name="held")
    def hold(lock=threading.Lock()) -> bool:
        return lock.locked()

    result = SyncRunner().run(Graph([hold]).bind(lock=threading.Lock()))
    assert result["held"] is False


# ---------------------------------------------------------------------------- cycles (G10, TC3-TC7)


def test_cycle_without_entrypoint_constructs_but_fails_at_run():
    """TC7: Graph([inc, chk]) builds; run() raises GraphConfigError pointing to with_entrypoint."""
    graph = Graph([inc, chk])
    assert graph.has_cycles
    with pytest.raises(GraphConfigError, match=r"entrypoint.*with_entrypoint"):
        SyncRunner().run(graph, {"count": 0})


def test_with_entrypoint_rescues_a_cyclic_graph():
    """TC7: the same cycle runs once an entrypoint is configured."""
    graph = Graph([inc, chk]).with_entrypoint("inc")
    assert SyncRunner().run(graph, {"count": 0})["count"] == 5


def test_implicit_self_loop_runs_once():
    """TC6: f(x)->x with inferred edges runs once, no entrypoint needed."""

    @node(output_name="x")
    def f(x: int) -> int:
        return x + 1

    assert SyncRunner().run(Graph([f]), {"x": 1}).values == {"x": 2}


def test_explicit_self_loop_loops_until_max_iterations():
    """TC6/X10: an explicit self-edge is real feedback and hits InfiniteLoopError."""

    @node(output_name="x")
    def f(x: int) -> int:
        return x + 1

    graph = Graph([f], edges=[(f, f, "x")])
    with pytest.raises(InfiniteLoopError, match=r"Reached max_iterations \(100\)"):
        SyncRunner().run(graph, {"x": 1}, max_iterations=100)


def test_explicit_self_loop_seed_example_raises():
    """The overview's loop(state)->state example raises InfiniteLoopError."""

    @node(output_name="state")
    def loop(state: dict) -> dict:
        return {"count": state["count"] + 1}

    graph = Graph([loop], edges=[(loop, loop, "state")])
    with pytest.raises(InfiniteLoopError, match=r"Reached max_iterations \(100\)"):
        SyncRunner().run(graph, {"state": {"count": 0}}, max_iterations=100)


def test_equal_reproduction_stops_a_loop():
    """TC3: when gen re-produces the same draft the critic is not stale and the run completes."""
    calls: list[str] = []

    @node(output_name="draft")
    def gen(prompt: str, feedback: str = "") -> str:
        calls.append(feedback)
        return prompt + "+"

    @node(output_name="feedback")
    def critic(draft: str) -> str:
        return "more"

    @route(targets=["gen", END])
    def again(draft: str):
        return "gen"

    graph = Graph([gen, critic, again], entrypoint="gen")
    result = SyncRunner().run(graph, {"prompt": "p"})
    assert result.status == "completed"
    assert result.values == {"draft": "p+", "feedback": "more"}
    assert calls == ["", "more"]


# ---------------------------------------------------------------------------- frontier (X4, X7)


def test_independent_branches_share_supersteps():
    """X4: two independent chains progress in the same supersteps."""

    @node(output_name="u")
    def u1(a: int) -> int:
        return a

    @node(output_name="uu")
    def u2(u: int) -> int:
        return u

    @node(output_name="w")
    def w1(b: int) -> int:
        return b

    @node(output_name="ww")
    def w2(w: int) -> int:
        return w

    recorder = StartRecorder()
    SyncRunner().run(Graph([u1, u2, w1, w2]), {"a": 1, "b": 2}, event_processors=[recorder])
    steps = {e.node_name: e.superstep for e in recorder.starts}
    assert steps == {"u1": 0, "w1": 0, "u2": 1, "w2": 1}


def test_consumer_with_default_waits_for_its_producer():
    """X7: consume(x=0) downstream of produce()->x receives 42, not its default."""

    @node(output_name="x")
    def produce() -> int:
        return 42

    @node(output_name="y")
    def consume(x: int = 0) -> int:
        return x

    assert SyncRunner().run(Graph([produce, consume]))["y"] == 42


def test_inputs_keyword_is_a_deprecated_alias_of_values() -> None:
    """The design docs' runner.run(graph, inputs={...}) still works, with a DeprecationWarning."""
    with pytest.warns(DeprecationWarning, match="values="):
        result = SyncRunner().run(Graph([double]), inputs={"x": 5})
    assert result["doubled"] == 10


def test_an_input_literally_named_inputs_is_not_taken_for_the_alias() -> None:
    """X15: with a graph input named ``inputs``, ``inputs={...}`` is that input's value."""

    @node(output_name="n")
    def count(inputs: dict) -> int:
        return len(inputs)

    assert SyncRunner().run(Graph([count]), inputs={"a": 1, "b": 2})["n"] == 2
