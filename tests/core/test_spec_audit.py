"""SPEC audit: one test per rule of sections N, G, GT, X, GN, R, MP, ER, CR, TC not asserted elsewhere."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from hypergraph import (
    END,
    AsyncRunner,
    BaseRunner,
    ConflictError,
    ExecutionError,
    Graph,
    GraphConfigError,
    HyperNode,
    IncompatibleRunnerError,
    InfiniteLoopError,
    MissingInputError,
    RunnerCapabilities,
    RunStartEvent,
    RunStatus,
    SyncRunner,
    ifelse,
    node,
    route,
)
from hypergraph.events import EventProcessor


class Recorder(EventProcessor):
    """Keeps every event in order."""

    def __init__(self) -> None:
        self.events: list = []

    def on_event(self, event) -> None:
        self.events.append(event)


@node(output_name="count")
def inc(count: int) -> int:
    return count + 1


@route(targets=["inc", END])
def chk(count: int):
    return END if count >= 5 else "inc"


# ---------------------------------------------------------------------------- N


def test_multi_output_wrong_length_names_node_and_both_counts():
    """N7: a multi-output return of the wrong length is a ValueError naming the node and both counts."""

    @node(output_name=("a", "b"))
    def pair(x):
        return (x, x, x)

    with pytest.raises(ValueError, match="pair") as info:
        SyncRunner().run(Graph([pair]), x=1)
    assert "2" in str(info.value) and "3" in str(info.value)


def test_multi_output_non_sequence_is_a_type_error_naming_the_node():
    """N7: a multi-output node returning a non-sequence is a TypeError naming the node."""

    @node(output_name=("a", "b"))
    def pair(x):
        return 5

    with pytest.raises(TypeError, match="pair"):
        SyncRunner().run(Graph([pair]), x=1)


def test_multi_output_list_return_is_mapped_positionally():
    """N7: a list of the right length is accepted and mapped to the outputs in order."""

    @node(output_name=("a", "b"))
    def pair(x):
        return [x, x + 1]

    assert SyncRunner().run(Graph([pair]), x=1).values == {"a": 1, "b": 2}


def test_single_output_node_stores_a_returned_tuple_unchanged():
    """N7: a single-output node stores a returned tuple as-is."""

    @node(output_name="t")
    def tup(x):
        return (x, x)

    assert SyncRunner().run(Graph([tup]), x=1)["t"] == (1, 1)


def test_single_output_node_stores_a_returned_none():
    """N7: a single-output node returning None stores None as its value."""

    @node(output_name="t")
    def nothing(x):
        return None

    result = SyncRunner().run(Graph([nothing]), x=1)
    assert "t" in result and result["t"] is None


def test_side_effect_node_discards_its_return_value():
    """N2: a node without output_name runs but its return value is discarded."""
    seen = []

    @node
    def effect(x):
        seen.append(x)
        return 99

    result = SyncRunner().run(Graph([effect]), x=1)
    assert seen == [1] and dict(result.values) == {}


def test_keyword_only_parameters_receive_their_inputs():
    """N3: keyword-only parameters are ordinary inputs at run time."""

    @node(output_name="a")
    def fa(x, *, k=1):
        return x + k

    assert SyncRunner().run(Graph([fa]), x=1, k=2)["a"] == 3


def test_outer_value_overrides_an_inner_bound_value():
    """N11/X12: a value provided to the outer run beats the inner graph's bound value."""

    @node(output_name="a")
    def fa(x, k):
        return x + k

    gn = Graph([fa], name="inner").bind(k=10).as_node()
    with pytest.warns(UserWarning, match="'k'"):
        assert SyncRunner().run(Graph([gn]), x=1, k=5)["a"] == 6


# ---------------------------------------------------------------------------- G


def test_output_name_must_not_contain_a_slash():
    """G3: an output name containing '/' is rejected by the Graph."""

    @node(output_name="a/b")
    def f(x):
        return x

    with pytest.raises(GraphConfigError, match="a/b"):
        Graph([f])


def test_gate_loop_counts_as_a_cycle():
    """G10: has_cycles includes control edges (a gate routing back to its producer)."""

    @node(output_name="y")
    def a(x):
        return x

    @route(targets=["a", END])
    def back(y):
        return END

    assert Graph([a, back]).has_cycles is True


def test_cycle_without_entrypoint_message_suggests_the_fix():
    """G10: the run-time error for a cycle without entrypoint names both fixes."""
    with pytest.raises(GraphConfigError) as info:
        SyncRunner().run(Graph([inc, chk]), count=0)
    text = str(info.value)
    assert "entrypoint" in text and "with_entrypoint" in text


def test_map_of_a_cycle_without_entrypoint_is_rejected():
    """G10: map() also rejects a >=2-node cycle without an entrypoint."""
    with pytest.raises(GraphConfigError):
        SyncRunner().map(Graph([inc, chk]), {"count": [0, 1]}, map_over="count")


def test_cycle_entrypoint_check_happens_before_any_event():
    """G16: the cyclic entrypoint check raises before RunStartEvent is emitted."""
    recorder = Recorder()
    with pytest.raises(GraphConfigError):
        SyncRunner().run(Graph([inc, chk]), count=0, event_processors=[recorder])
    assert recorder.events == []


def test_select_skips_nodes_the_selection_does_not_need():
    """G12: nodes not needed for the selected outputs never run."""
    calls = []

    @node(output_name="a")
    def make_a(x):
        calls.append("a")
        return x

    @node(output_name="b")
    def make_b(x):
        calls.append("b")
        return x

    result = SyncRunner().run(Graph([make_a, make_b]).select("a"), x=1)
    assert calls == ["a"] and dict(result.values) == {"a": 1}


def test_upstream_of_entrypoint_never_runs_even_with_inputs():
    """G13: nodes upstream of an entrypoint are excluded even if their inputs are supplied."""
    calls = []

    @node(output_name="y")
    def up(x):
        calls.append("up")
        return x

    @node(output_name="z")
    def down(y):
        calls.append("down")
        return y + 1

    graph = Graph([up, down], entrypoint="down")
    with pytest.warns(UserWarning):
        result = SyncRunner().run(graph, {"x": 1, "y": 5})
    assert calls == ["down"] and result["z"] == 6


def test_excluded_producer_output_becomes_a_required_input():
    """G13: a value produced only upstream of the entrypoint becomes a graph input."""

    @node(output_name="y")
    def up(x):
        return x

    @node(output_name="z")
    def down(y):
        return y

    assert Graph([up, down], entrypoint="down").inputs.required == ("y",)


def test_code_hash_ignores_edges_while_definition_hash_includes_them():
    """G15: definition_hash covers node code plus edges; code_hash covers node code only."""

    @node(output_name="a")
    def first(x):
        return x

    @node(output_name="b")
    def second(x):
        return x

    ordered = Graph([first, second], edges=[(first, second)])
    unordered = Graph([first, second], edges=[])
    assert ordered.code_hash == unordered.code_hash
    assert ordered.definition_hash != unordered.definition_hash


# ---------------------------------------------------------------------------- GT


def test_ifelse_non_bool_error_names_gate_and_type():
    """GT6: an ifelse returning a non-bool is a TypeError naming the gate and the type."""

    @node(output_name="y")
    def yes(x):
        return 1

    @node(output_name="y2")
    def no(x):
        return 2

    @ifelse(when_true="yes", when_false="no")
    def decide(x):
        return "yes"

    with pytest.raises(TypeError) as info:
        SyncRunner().run(Graph([decide, yes, no]), x=1)
    assert "decide" in str(info.value) and "str" in str(info.value)


def test_ifelse_non_bool_in_continue_mode_is_a_failed_result():
    """GT6: a gate return-contract error is a node failure that obeys error_handling."""

    @node(output_name="y")
    def yes(x):
        return 1

    @node(output_name="y2")
    def no(x):
        return 2

    @ifelse(when_true="yes", when_false="no")
    def decide(x):
        return 1

    result = SyncRunner().run(Graph([decide, yes, no]), x=1, error_handling="continue")
    assert result.status == RunStatus.FAILED and isinstance(result.error, TypeError)


def test_gate_decision_retriggers_an_already_executed_node():
    """GT8: a gate's decision naming an executed node makes it run again."""
    calls = []

    @node(output_name="count")
    def step(count: int) -> int:
        calls.append(count)
        return count + 1

    @route(targets=["step", END])
    def again(count: int):
        return END if count >= 3 else "step"

    result = SyncRunner().run(Graph([step, again], entrypoint="step"), count=0)
    assert calls == [0, 1, 2] and result["count"] == 3


def test_ifelse_false_branch_runs_only_the_false_target():
    """GT8: only the target named by the decision runs; the other branch does not."""
    calls = []

    @node(output_name="y")
    def yes(x):
        calls.append("yes")
        return 1

    @node(output_name="y")
    def no(x):
        calls.append("no")
        return 2

    @ifelse(when_true="yes", when_false="no")
    def decide(x):
        return False

    result = SyncRunner().run(Graph([decide, yes, no]), x=1)
    assert calls == ["no"] and result["y"] == 2


def test_async_ifelse_non_bool_in_continue_mode_is_a_failed_result():
    """GT6: under AsyncRunner a non-bool ifelse return is a TypeError node failure too."""

    @node(output_name="y")
    def yes(x):
        return 1

    @node(output_name="z")
    def no(x):
        return 2

    @ifelse(when_true="yes", when_false="no")
    def decide(x):
        return 1

    graph = Graph([decide, yes, no])
    result = asyncio.run(AsyncRunner().run(graph, x=1, error_handling="continue"))
    assert result.status == RunStatus.FAILED and isinstance(result.error, TypeError)


def test_async_route_decision_event_precedes_the_gate_node_end():
    """GT13: under AsyncRunner the RouteDecisionEvent comes before the gate's NodeEndEvent."""

    @node(output_name="y")
    def t(x):
        return x

    @route(targets=["t", END])
    def r(x):
        return "t"

    recorder = Recorder()
    asyncio.run(AsyncRunner().run(Graph([r, t]), x=1, event_processors=[recorder]))
    kinds = [type(e).__name__ for e in recorder.events if getattr(e, "node_name", None) == "r"]
    assert kinds.index("RouteDecisionEvent") < kinds.index("NodeEndEvent")


def test_async_end_stops_only_the_paths_it_controls():
    """GT12: under AsyncRunner END skips the gate's targets while independent nodes still run."""
    log = []

    @route(targets=["t", END])
    def r(x):
        return END

    @node(output_name="a")
    def t(x):
        log.append("t")
        return 1

    @node(output_name="b")
    def other(x):
        log.append("other")
        return 2

    result = asyncio.run(AsyncRunner().run(Graph([r, t, other]), x=1))
    assert log == ["other"] and result.status == RunStatus.COMPLETED


# ---------------------------------------------------------------------------- X


def test_provided_input_beats_bound_value():
    """X12: a provided input takes precedence over a bound value."""

    @node(output_name="y")
    def f(x):
        return x

    assert SyncRunner().run(Graph([f]).bind(x=1), x=5)["y"] == 5


def test_bound_value_beats_signature_default():
    """X12: a bound value takes precedence over the signature default."""

    @node(output_name="y")
    def f(x=1):
        return x

    assert SyncRunner().run(Graph([f]).bind(x=7))["y"] == 7


def test_supplying_a_nodes_inputs_and_outputs_is_ambiguous():
    """X13: providing both a node's inputs and its output is a ValueError naming the value."""

    @node(output_name="doubled")
    def double(x):
        return x * 2

    @node(output_name="result")
    def add_one(doubled):
        return doubled + 1

    with pytest.raises(ValueError, match="doubled"):
        SyncRunner().run(Graph([double, add_one]), {"x": 1, "doubled": 5})


def test_internal_value_error_names_the_producer():
    """X13/TC9: providing an internal value names the value and its producer."""

    @node(output_name="doubled")
    def double(x):
        return x * 2

    @node(output_name="result")
    def add_one(doubled):
        return doubled + 1

    with pytest.raises(ValueError) as info:
        SyncRunner().run(Graph([double, add_one]), {"doubled": 5})
    assert "doubled" in str(info.value) and "double" in str(info.value).replace("doubled", "")


def test_option_errors_come_before_missing_inputs():
    """X16: an invalid option is reported before missing inputs."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(ValueError, match="on_missing"):
        SyncRunner().run(Graph([f]), on_missing="bogus")


def test_cycle_entrypoint_check_comes_before_missing_inputs():
    """X16: structural checks (cycle entrypoint) come before the missing-input check."""
    with pytest.raises(GraphConfigError):
        SyncRunner().run(Graph([inc, chk]))


def test_pre_run_errors_raise_even_in_continue_mode():
    """X16: a structural error before RunStartEvent raises despite error_handling='continue'."""
    with pytest.raises(GraphConfigError):
        SyncRunner().run(Graph([inc, chk]), count=0, error_handling="continue")


def test_max_iterations_none_uses_the_default_of_1000():
    """X19: max_iterations=None means the runner default of 1000."""

    @node(output_name="count")
    def forever(count: int) -> int:
        return count + 1

    @route(targets=["forever"])
    def loop(count: int):
        return "forever"

    graph = Graph([forever, loop], entrypoint="forever")
    with pytest.raises(InfiniteLoopError) as info:
        SyncRunner().run(graph, count=0, max_iterations=None)
    assert info.value.max_iterations == 1000


def test_dag_regions_do_not_count_against_max_iterations():
    """X19: a long DAG never counts against max_iterations."""

    @node(output_name="b")
    def one(a):
        return a + 1

    @node(output_name="c")
    def two(b):
        return b + 1

    @node(output_name="d")
    def three(c):
        return c + 1

    assert SyncRunner().run(Graph([one, two, three]), a=0, max_iterations=1)["d"] == 3


def test_inputs_that_are_not_outputs_are_not_in_values():
    """X21: provided inputs are not part of RunResult.values."""

    @node(output_name="y")
    def f(x, k=2):
        return x * k

    assert dict(SyncRunner().run(Graph([f]), x=1, k=3).values) == {"y": 3}


def test_conflict_in_continue_mode_is_a_failed_result():
    """X24: a ConflictError obeys error_handling='continue' and becomes the FAILED result's error."""

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
        return 1

    @node(output_name="y")
    def right(x: int) -> int:
        return 2

    graph = Graph([skip, make_flag, pick, left, right])
    result = SyncRunner().run(graph, {"x": 1}, error_handling="continue")
    assert result.status == RunStatus.FAILED and isinstance(result.error, ConflictError)


def test_sync_runner_executes_a_batch_in_graph_order():
    """X25: SyncRunner runs one superstep's nodes in graph construction order."""
    order = []

    def make(name):
        def fn(x):
            order.append(name)
            return x

        return node(output_name=f"o_{name}")(fn).with_name(name)

    SyncRunner().run(Graph([make("c"), make("a"), make("b")]), x=1)
    assert order == ["c", "a", "b"]


def test_node_downstream_of_a_loop_runs_once_with_the_final_value():
    """X4: a DAG node after a cyclic region waits until the region is quiescent, then runs once."""
    seen = []

    @node(output_name="msg")
    def report(count):
        seen.append(count)
        return count

    result = SyncRunner().run(Graph([inc, chk, report], entrypoint="inc"), count=0)
    assert seen == [5] and result["msg"] == 5


def test_async_node_downstream_of_a_loop_runs_once_with_the_final_value():
    """X4: AsyncRunner also releases a loop's successors only once the loop is quiescent."""
    seen = []

    @node(output_name="msg")
    def report(count):
        seen.append(count)
        return count

    graph = Graph([inc, chk, report], entrypoint="inc")
    result = asyncio.run(AsyncRunner().run(graph, count=0))
    assert seen == [5] and result["msg"] == 5


class _Uncomparable:
    """A value whose equality check raises."""

    def __eq__(self, other):
        raise RuntimeError("cannot compare")

    __hash__ = object.__hash__


def test_reproduced_value_that_cannot_be_compared_counts_as_changed():
    """X11: when comparing old and new values raises, the new value wakes its consumers."""
    calls = []

    @node(output_name="draft")
    def gen(prompt, feedback=""):
        return _Uncomparable()

    @node(output_name=("feedback", "n"))
    def critic(draft):
        calls.append("critic")
        return "same", len(calls)

    @route(targets=["gen", END])
    def again(n):
        return END if n >= 3 else "gen"

    result = SyncRunner().run(Graph([gen, critic, again], entrypoint="gen"), prompt="p")
    assert len(calls) == 3 and result.status == RunStatus.COMPLETED


def test_async_runner_applies_results_in_node_order():
    """X25: AsyncRunner applies a superstep's results in node order, not completion order."""

    async def scenario():
        fast_done = asyncio.Event()

        @node(output_name="a")
        async def slow(x):
            await fast_done.wait()
            return 1

        @node(output_name="b")
        async def fast(x):
            fast_done.set()
            return 2

        return await AsyncRunner().run(Graph([slow, fast]), x=1)

    assert list(asyncio.run(scenario()).values) == ["a", "b"]


def test_multi_target_route_runs_its_targets_in_graph_order():
    """X25/GT6: targets of a multi_target decision run in graph order, not decision order."""
    order = []

    @node(output_name="a")
    def ta(x):
        order.append("ta")
        return 1

    @node(output_name="b")
    def tb(x):
        order.append("tb")
        return 2

    @route(targets=["ta", "tb"], multi_target=True)
    def r(x):
        return ["tb", "ta"]

    result = SyncRunner().run(Graph([r, ta, tb]), x=1)
    assert order == ["ta", "tb"] and result.values == {"a": 1, "b": 2}


def test_async_conflicting_producers_raise_conflict_error():
    """X24: AsyncRunner also raises ConflictError for unequal writes in one superstep."""

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
    async def left(x: int) -> int:
        return 1

    @node(output_name="y")
    async def right(x: int) -> int:
        return 2

    graph = Graph([skip, make_flag, pick, left, right])
    with pytest.raises(ConflictError):
        asyncio.run(AsyncRunner().run(graph, {"x": 1}))


def test_async_missing_input_raises_even_in_continue_mode():
    """X16/X17: AsyncRunner raises MissingInputError before the run, whatever error_handling says."""
    with pytest.raises(MissingInputError):
        asyncio.run(AsyncRunner().run(Graph([inc]), {}, error_handling="continue"))


def test_async_max_iterations_below_one_is_rejected():
    """X19: AsyncRunner rejects max_iterations < 1 with a ValueError."""
    graph = Graph([inc, chk], entrypoint="inc")
    with pytest.raises(ValueError):
        asyncio.run(AsyncRunner().run(graph, count=0, max_iterations=0))


# ---------------------------------------------------------------------------- GN


def test_sync_runner_rejects_async_generators():
    """GN1/R5: SyncRunner rejects an async generator node with IncompatibleRunnerError."""

    @node(output_name="chunks")
    async def agen(n):
        yield n

    with pytest.raises(IncompatibleRunnerError):
        SyncRunner().run(Graph([agen]), n=1)


def test_bytes_generator_is_joined_into_bytes():
    """GN2: a generator annotated -> bytes stores the joined bytes."""

    @node(output_name="blob")
    def gen(n: int) -> bytes:
        yield b"ab"
        yield b"cd"

    assert SyncRunner().run(Graph([gen]), n=1)["blob"] == b"abcd"


def test_drained_list_pickles_like_a_list():
    """GN3: the drained chunk list pickles and compares equal to a plain list."""

    @node(output_name="chunks")
    def gen(n: int):
        yield from range(n)

    chunks = SyncRunner().run(Graph([gen]), n=3)["chunks"]
    restored = pickle.loads(pickle.dumps(chunks))
    assert restored == [0, 1, 2] and isinstance(chunks, list) and chunks[1] == 1


def test_failed_stream_discards_collected_items():
    """GN5: items collected before a mid-stream failure are not stored as the node's value."""

    @node(output_name="chunks")
    def flaky(n: int):
        yield 1
        raise RuntimeError("broke")

    result = SyncRunner().run(Graph([flaky]), n=1, error_handling="continue")
    assert result.status == RunStatus.FAILED and "chunks" not in result


def test_async_runner_drains_a_sync_generator_into_a_list():
    """GN2: AsyncRunner drains a sync generator into a list too."""

    @node(output_name="chunks")
    def gen(n: int):
        yield from range(n)

    result = asyncio.run(AsyncRunner().run(Graph([gen]), n=3))
    assert result["chunks"] == [0, 1, 2] and isinstance(result["chunks"], list)


# ---------------------------------------------------------------------------- R


def test_run_result_status_flags():
    """R7: completed/failed/paused reflect the status."""

    @node(output_name="y")
    def f(x):
        return x

    result = SyncRunner().run(Graph([f]), x=1)
    assert (result.completed, result.failed, result.paused) == (True, False, False)
    assert result.workflow_id is None and result.error is None and result.pause is None


def test_run_status_is_a_str_enum_with_the_documented_values():
    """R8: RunStatus is a str Enum with completed/failed/paused values."""
    assert isinstance(RunStatus.COMPLETED, str)
    assert [RunStatus.COMPLETED.value, RunStatus.FAILED.value, RunStatus.PAUSED.value] == [
        "completed",
        "failed",
        "paused",
    ]
    assert RunStatus("failed") is RunStatus.FAILED


def test_default_capabilities_match_the_documented_defaults():
    """R4: RunnerCapabilities() defaults are the seeds' field defaults."""
    caps = RunnerCapabilities()
    assert (
        caps.supports_cycles,
        caps.supports_gates,
        caps.supports_interrupts,
        caps.supports_async_nodes,
        caps.supports_streaming,
        caps.supports_distributed,
        caps.returns_coroutine,
    ) == (True, True, False, False, False, False, False)


def test_validate_graph_rejects_gates_with_the_design_wording():
    """R5: a runner without gate support rejects a gated graph with S2's wording."""

    @node(output_name="y")
    def a(x):
        return x

    @route(targets=["a", END])
    def r(x):
        return "a"

    caps = RunnerCapabilities(supports_gates=False)
    with pytest.raises(IncompatibleRunnerError) as info:
        caps.validate_graph(Graph([r, a]), runner_name="DaftRunner")
    assert "This graph has gates" in str(info.value)
    assert "DaftRunner doesn't support gates" in str(info.value)
    assert info.value.capability == "supports_gates"


def test_validate_graph_error_carries_the_node_name():
    """R5: the incompatibility error carries the offending node's name."""

    @node(output_name="y")
    async def fetch(x):
        return x

    with pytest.raises(IncompatibleRunnerError) as info:
        SyncRunner().capabilities.validate_graph(Graph([fetch]), runner_name="SyncRunner")
    assert info.value.node_name == "fetch"


def test_parent_span_id_is_a_public_run_option():
    """R2: run() accepts parent_span_id and parents the run span to it."""

    @node(output_name="y")
    def f(x):
        return x

    recorder = Recorder()
    SyncRunner().run(Graph([f]), {"x": 1}, parent_span_id="outer-span", event_processors=[recorder])
    start = next(e for e in recorder.events if isinstance(e, RunStartEvent))
    assert start.parent_span_id == "outer-span"


def test_run_never_lets_execution_error_escape():
    """R10: in raise mode the node's own exception escapes, never an ExecutionError wrapper."""

    @node(output_name="y")
    def boom(x):
        raise KeyError("k")

    with pytest.raises(KeyError) as info:
        SyncRunner().run(Graph([boom]), x=1)
    assert not isinstance(info.value, ExecutionError)


def test_execution_error_state_is_an_alias_of_partial_state():
    """R10/ER5: ExecutionError carries partial_state with the `state` alias."""
    err = ExecutionError("failed", partial_state={"a": 1})
    assert err.partial_state == {"a": 1} and err.state == {"a": 1}


def test_base_runner_is_abstract():
    """R15: BaseRunner cannot be instantiated directly."""
    with pytest.raises(TypeError):
        BaseRunner()


def test_unsupported_node_type_is_a_type_error():
    """R6/ER10: a node type outside supported_node_types is a TypeError."""

    class Alien(HyperNode):
        definition_hash = "0" * 64

        def __init__(self) -> None:
            self.name = "alien"
            self._init_ports(("x",), ("y",), {})

    with pytest.raises(TypeError, match="alien"):
        SyncRunner().run(Graph([Alien()]), x=1)


# ---------------------------------------------------------------------------- MP


def test_map_result_is_frozen():
    """MP6: MapResult is immutable."""

    @node(output_name="y")
    def f(x):
        return x

    result = SyncRunner().map(Graph([f]), {"x": [1]}, map_over="x")
    with pytest.raises(AttributeError):
        result.results = ()


def test_empty_map_has_no_run_id():
    """MP6: an empty map's run_id is None."""

    @node(output_name="y")
    def f(x):
        return x

    result = SyncRunner().map(Graph([f]), {"x": []}, map_over="x")
    assert result.run_id is None and len(result) == 0 and result.status == RunStatus.COMPLETED


def test_map_status_flags():
    """MP6/MP7: a map with one failed item is failed, not completed."""

    @node(output_name="y")
    def f(x):
        if x == 2:
            raise ValueError("bad")
        return x

    result = SyncRunner().map(Graph([f]), {"x": [1, 2]}, map_over="x", error_handling="continue")
    assert (result.completed, result.failed, result.paused) == (False, True, False)


def test_async_map_continue_mode_keeps_failures_in_place():
    """MP8: AsyncRunner continue mode returns FAILED items in place and runs every item."""

    @node(output_name="y")
    async def f(x):
        if x == 2:
            raise ValueError("bad")
        return x

    result = asyncio.run(
        AsyncRunner().map(Graph([f]), {"x": [1, 2, 3]}, map_over="x", error_handling="continue")
    )
    assert [r.status for r in result] == [
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.COMPLETED,
    ]
    assert result["y"] == [1, None, 3] and result.status == RunStatus.FAILED


def test_runtime_entrypoint_on_map_is_rejected():
    """X23: map() rejects a runtime entrypoint= with a ValueError."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(ValueError, match="entrypoint"):
        SyncRunner().map(Graph([f]), {"x": [1]}, map_over="x", entrypoint="f")


def test_clone_list_ignores_unknown_names():
    """MP4: unknown names in a clone list are ignored while named values are still copied."""

    @node(output_name="y")
    def f(x, acc):
        acc.append(x)
        return len(acc)

    shared: list = []
    result = SyncRunner().map(
        Graph([f]), {"x": [1, 2], "acc": shared}, map_over="x", clone=["acc", "ghost"]
    )
    assert result["y"] == [1, 1] and shared == []


def test_on_missing_error_in_continue_map_fails_the_items():
    """X22/MP8: on_missing='error' makes each item FAILED in continue mode."""

    @node(output_name="y")
    def f(x):
        return x

    @route(targets=["g", END])
    def stop(x):
        return END

    @node(output_name="z")
    def g(x):
        return x

    graph = Graph([f, stop, g]).select("y", "z")
    result = SyncRunner().map(
        graph, {"x": [1, 2]}, map_over="x", on_missing="error", error_handling="continue"
    )
    assert [r.status for r in result] == [RunStatus.FAILED, RunStatus.FAILED]
    assert all(isinstance(r.error, ValueError) for r in result)


def test_unknown_value_keys_in_map_warn():
    """X14: map() warns about keys that are neither inputs nor response keys."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.warns(UserWarning, match="zzz"):
        SyncRunner().map(Graph([f]), {"x": [1], "zzz": 1}, map_over="x")


def test_map_over_a_dotted_nested_input():
    """G14/MP2: a dotted key addressing a subgraph input can be mapped over."""

    @node(output_name="y")
    def f(x):
        return x * 10

    inner = Graph([f], name="inner").as_node()
    result = SyncRunner().map(Graph([inner]), {"inner.x": [1, 2]}, map_over="inner.x")
    assert result["y"] == [10, 20]


def test_async_mapped_graph_node_item_without_output_gets_none():
    """MP11: under AsyncRunner an item that produces no output gets None in its slot."""

    @node(output_name="y")
    def f(x):
        return x

    @route(targets=["f", END])
    def g(x):
        return END if x == 2 else "f"

    mapped = Graph([g, f], name="inner").as_node().map_over("x")
    result = asyncio.run(AsyncRunner().run(Graph([mapped]), x=[1, 2, 3]))
    assert result["y"] == [1, None, 3]


# ---------------------------------------------------------------------------- ER


def test_missing_input_error_constructor_defaults():
    """ER2: MissingInputError(missing) exposes missing and an empty provided list."""
    err = MissingInputError(["a", "b"])
    assert err.missing == ["a", "b"] and err.provided == []
    assert "'a', 'b'" in str(err)


def test_incompatible_runner_error_keyword_attributes():
    """ER3: IncompatibleRunnerError carries node_name and capability keywords."""
    err = IncompatibleRunnerError("nope", node_name="n", capability="supports_cycles")
    assert (str(err), err.node_name, err.capability) == ("nope", "n", "supports_cycles")


def test_infinite_loop_error_text_and_attribute():
    """ER4: InfiniteLoopError keeps S0's prefix, the original's explanation and max_iterations."""
    err = InfiniteLoopError(100)
    text = str(err)
    assert text.startswith(
        "Reached max_iterations (100): graph execution exceeded 100 iterations in a cyclic region; "
        "the graph may loop forever, or max_iterations must be raised."
    )
    assert err.max_iterations == 100


def test_fork_without_checkpointer_is_a_value_error():
    """ER9: fork_from without a checkpointer is a ValueError."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(ValueError):
        SyncRunner().run(Graph([f]), x=1, fork_from="wf-1")


def test_retry_without_checkpointer_is_a_value_error():
    """ER9: retry_from without a checkpointer is a ValueError."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(ValueError):
        SyncRunner().run(Graph([f]), x=1, retry_from="wf-1")


def test_slash_in_workflow_id_is_a_value_error():
    """ER9: a workflow_id containing '/' is a ValueError."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(ValueError, match="/"):
        SyncRunner().run(Graph([f]), x=1, workflow_id="a/b")


# ---------------------------------------------------------------------------- TC


def test_tc5_async_runner_counts_supersteps_per_cyclic_region():
    """TC5: AsyncRunner needs max_iterations=10 for count-to-5 and raises at 9."""
    graph = Graph([inc, chk], entrypoint="inc")
    assert asyncio.run(AsyncRunner().run(graph, count=0, max_iterations=10))["count"] == 5
    with pytest.raises(InfiniteLoopError):
        asyncio.run(AsyncRunner().run(graph, count=0, max_iterations=9))


def test_tc10_async_runner_copies_mutable_defaults_per_run():
    """TC10/X12: AsyncRunner deep-copies a mutable default on every run."""

    @node(output_name="acc")
    def app(x, acc: list = []):  # noqa: B006 - the point of the test
        acc.append(x)
        return acc

    graph = Graph([app])
    assert asyncio.run(AsyncRunner().run(graph, x=1))["acc"] == [1]
    assert asyncio.run(AsyncRunner().run(graph, x=2))["acc"] == [2]


def test_async_max_iterations_may_be_infinite():
    """X19: AsyncRunner accepts max_iterations=float('inf')."""
    graph = Graph([inc, chk], entrypoint="inc")
    assert asyncio.run(AsyncRunner().run(graph, count=0, max_iterations=float("inf")))["count"] == 5


def test_infinite_loop_error_raised_by_a_run_has_the_documented_sentence() -> None:
    """ER4: the error a run raises contains SPEC's sentence verbatim, then the region and a fix."""

    @node(output_name="count")
    def bump(count: int) -> int:
        return count + 1

    @route(targets=["bump", END])
    def forever(count: int) -> object:
        return "bump"

    with pytest.raises(InfiniteLoopError) as info:
        SyncRunner().run(Graph([bump, forever], entrypoint="bump"), count=0, max_iterations=3)
    text = str(info.value)
    assert text.startswith(
        "Reached max_iterations (3): graph execution exceeded 3 iterations in a cyclic region; "
        "the graph may loop forever, or max_iterations must be raised."
    )
    assert "Cyclic region: bump, forever." in text
