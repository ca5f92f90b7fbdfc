"""Gates at run time: the return contract, activation, END scope and route events."""

from __future__ import annotations

import pytest

from hypergraph import (
    END,
    Graph,
    NodeEndEvent,
    RouteDecisionEvent,
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


def _branches(ran: list[str]):
    @node(output_name="a_out")
    def a(x: int) -> int:
        ran.append("a")
        return x

    @node(output_name="b_out")
    def b(x: int) -> int:
        ran.append("b")
        return x

    return a, b


# ---------------------------------------------------------------------------- GT6 return contract


def test_route_returning_none_activates_nothing():
    """TC11: a route that returns None runs no target and the run completes."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"])
    def r(x: int):
        return None

    result = SyncRunner().run(Graph([r, a, b]), {"x": 1})
    assert result.status == RunStatus.COMPLETED
    assert ran == []
    assert result.values == {}


def test_route_returning_none_uses_the_fallback():
    """TC11: with fallback="b", returning None runs b."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"], fallback="b")
    def r(x: int):
        return None

    result = SyncRunner().run(Graph([r, a, b]), {"x": 1})
    assert ran == ["b"]
    assert result.values == {"b_out": 1}


def test_route_to_unknown_name_names_gate_and_targets():
    """GT6: a name outside targets is a ValueError naming the gate, the value and the targets."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"])
    def r(x: int):
        return "c"

    with pytest.raises(ValueError, match=r"'r'.*'c'.*'a', 'b'"):
        SyncRunner().run(Graph([r, a, b]), {"x": 1})
    assert ran == []


def test_route_returning_the_string_end_is_invalid():
    """TC11: the plain string "END" is not the END sentinel and is rejected."""
    ran: list[str] = []
    a, _b = _branches(ran)

    @route(targets=["a", END])
    def r(x: int):
        return "END"

    assert END != "END"
    with pytest.raises(ValueError, match=r"'r'.*'END'.*'a', END"):
        SyncRunner().run(Graph([r, a]), {"x": 1})


def test_invalid_route_return_obeys_continue_mode():
    """GT6: an invalid decision is a node failure: FAILED in continue mode."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"])
    def r(x: int):
        return "c"

    result = SyncRunner().run(Graph([r, a, b]), {"x": 1}, error_handling="continue")
    assert result.status == "failed"
    assert isinstance(result.error, ValueError)


def test_multi_target_route_must_return_a_list():
    """GT6: a multi_target route returning a string is a TypeError."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"], multi_target=True)
    def r(x: int):
        return "a"

    with pytest.raises(TypeError, match=r"'r'.*list"):
        SyncRunner().run(Graph([r, a, b]), {"x": 1})


def test_multi_target_route_runs_every_listed_target():
    """A multi_target route activates all listed targets in one superstep."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"], multi_target=True)
    def r(x: int):
        return ["b", "a"]

    result = SyncRunner().run(Graph([r, a, b]), {"x": 1})
    assert ran == ["a", "b"]
    assert result.values == {"a_out": 1, "b_out": 1}


def test_multi_target_end_entries_activate_nothing():
    """GT6: END inside a multi_target list activates nothing for that entry."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b", END], multi_target=True)
    def r(x: int):
        return ["a", END]

    SyncRunner().run(Graph([r, a, b]), {"x": 1})
    assert ran == ["a"]


def test_multi_target_empty_list_activates_nothing():
    """GT6: [] from a multi_target route runs no target."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"], multi_target=True)
    def r(x: int):
        return []

    result = SyncRunner().run(Graph([r, a, b]), {"x": 1})
    assert ran == []
    assert result.status == "completed"


def test_multi_target_entry_must_be_a_target():
    """GT6: a list entry that is not a target is a ValueError."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"], multi_target=True)
    def r(x: int):
        return ["a", "zzz"]

    with pytest.raises(ValueError, match="'zzz'"):
        SyncRunner().run(Graph([r, a, b]), {"x": 1})


def test_ifelse_runs_the_true_branch():
    """An @ifelse returning True runs when_true only."""
    ran: list[str] = []
    a, b = _branches(ran)

    @ifelse(when_true="a", when_false="b")
    def positive(x: int) -> bool:
        return x > 0

    SyncRunner().run(Graph([positive, a, b]), {"x": 1})
    assert ran == ["a"]


@pytest.mark.parametrize("answer", [1, "yes"])
def test_ifelse_must_return_a_bool(answer):
    """GT6: a non-bool from @ifelse is a TypeError naming the gate and the type."""
    ran: list[str] = []
    a, b = _branches(ran)

    @ifelse(when_true="a", when_false="b")
    def decide(x: int):
        return answer

    with pytest.raises(TypeError, match=rf"'decide'.*{type(answer).__name__}"):
        SyncRunner().run(Graph([decide, a, b]), {"x": 1})


def test_gate_decision_is_not_an_output():
    """GT7: the routing decision never appears in the result values."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"])
    def r(x: int):
        return "a"

    result = SyncRunner().run(Graph([r, a, b]), {"x": 1})
    assert result.values == {"a_out": 1}


# ---------------------------------------------------------------------------- GT8-GT12


def test_gate_runs_before_a_target_whose_inputs_are_ready():
    """TC4: t waits for g although y is available, and END means t never runs."""
    ran: list[str] = []

    @node(output_name="score")
    def slow(x: int) -> int:
        ran.append("slow")
        return x * 10

    @route(targets=[END, "t"])
    def g(score: int):
        ran.append("g")
        return END

    @node(output_name="out")
    def t(y: int) -> int:
        ran.append("t")
        return y

    result = SyncRunner().run(Graph([slow, g, t]), {"x": 1, "y": 2})
    assert ran == ["slow", "g"]
    assert result.values == {"score": 10}


def test_gate_and_its_ready_target_are_not_in_one_superstep():
    """GT9: a target whose inputs are ready still waits for its gate's verdict."""

    @route(targets=["t", END])
    def g(x: int):
        return "t"

    @node(output_name="out")
    def t(y: int) -> int:
        return y

    recorder = Recorder()
    SyncRunner().run(Graph([t, g]), {"x": 1, "y": 2}, event_processors=[recorder])
    starts = {
        e.node_name: e.superstep for e in recorder.events if type(e).__name__ == "NodeStartEvent"
    }
    assert starts == {"g": 0, "t": 1}


def test_route_to_end_stops_only_the_paths_it_controls():
    """GT12: END stops the gate's targets; an independent node still runs; run completes."""

    @route(targets=["t", END])
    def g(x: int):
        return END

    @node(output_name="out")
    def t(x: int) -> int:
        return x

    @node(output_name="other")
    def independent(x: int) -> int:
        return x + 100

    result = SyncRunner().run(Graph([g, t, independent]), {"x": 1})
    assert result.status == "completed"
    assert result.values == {"other": 101}


def test_route_to_end_stops_the_loop():
    """A loop ends when its gate routes to END."""

    @node(output_name="count")
    def inc(count: int) -> int:
        return count + 1

    @route(targets=["inc", END])
    def chk(count: int):
        return END if count >= 3 else "inc"

    result = SyncRunner().run(Graph([inc, chk], entrypoint="inc"), {"count": 0})
    assert result.values == {"count": 3}


def test_route_behind_a_not_taken_branch_never_fires():
    """GT10: a route that is the not-taken branch of an ifelse never fires; its target never runs."""
    ran: list[str] = []

    @ifelse(when_true="inner", when_false="other")
    def outer(x: int) -> bool:
        return False

    @route(targets=["t"])
    def inner(x: int):
        ran.append("inner")
        return "t"

    @node(output_name="out")
    def t(x: int) -> int:
        ran.append("t")
        return x

    @node(output_name="elsewhere")
    def other(x: int) -> int:
        ran.append("other")
        return x

    result = SyncRunner().run(Graph([outer, inner, t, other]), {"x": 1})
    assert ran == ["other"]
    assert result.values == {"elsewhere": 1}


def test_route_behind_a_taken_branch_fires():
    """GT10: when the outer gate routes to the inner gate, the inner gate decides normally."""

    @ifelse(when_true="inner", when_false="other")
    def outer(x: int) -> bool:
        return True

    @route(targets=["t"])
    def inner(x: int):
        return "t"

    @node(output_name="out")
    def t(x: int) -> int:
        return x

    @node(output_name="elsewhere")
    def other(x: int) -> int:
        return x

    assert SyncRunner().run(Graph([outer, inner, t, other]), {"x": 1}).values == {"out": 1}


def test_gate_that_never_fires_keeps_first_pass_permission():
    """GT11: a gate whose input never appears (and is not cut off) lets its targets run."""

    @route(targets=["make_flag"])
    def skip(x: int):
        return None

    @node(output_name="flag")
    def make_flag(x: int) -> bool:
        return True

    @route(targets=["t", END])
    def g(flag: bool):
        return END

    @node(output_name="out")
    def t(x: int) -> int:
        return x

    result = SyncRunner().run(Graph([skip, make_flag, g, t]), {"x": 5})
    assert result.values == {"out": 5}


def test_consumer_on_not_taken_branch_runs_with_its_default():
    """X7: if the producer sits on a branch the gate did not take, the consumer uses its default."""

    @ifelse(when_true="produce", when_false="other")
    def decide(go: bool) -> bool:
        return go

    @node(output_name="x")
    def produce() -> int:
        return 42

    @node(output_name="elsewhere")
    def other() -> int:
        return 0

    @node(output_name="y")
    def consume(x: int = 0) -> int:
        return x

    graph = Graph([decide, produce, other, consume])
    assert SyncRunner().run(graph, {"go": False})["y"] == 0
    assert SyncRunner().run(graph, {"go": True})["y"] == 42


# ---------------------------------------------------------------------------- GT13 events


def _decision_events(graph: Graph, values: dict) -> tuple[list, list]:
    recorder = Recorder()
    SyncRunner().run(graph, values, event_processors=[recorder])
    return recorder.events, [e for e in recorder.events if isinstance(e, RouteDecisionEvent)]


def test_route_decision_event_comes_before_the_gate_node_end():
    """GT13: RouteDecisionEvent precedes the gate's NodeEndEvent and shares its span."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"])
    def r(x: int):
        return "a"

    events, decisions = _decision_events(Graph([r, a, b]), {"x": 1})
    assert [d.decision for d in decisions] == ["a"]
    decision = decisions[0]
    end = next(e for e in events if isinstance(e, NodeEndEvent) and e.node_name == "r")
    assert events.index(decision) < events.index(end)
    assert decision.node_name == "r"
    assert decision.node_span_id == end.span_id


def test_route_decision_event_reports_end():
    """GT13: an END decision is reported as END."""

    @route(targets=["t", END])
    def g(x: int):
        return END

    @node(output_name="out")
    def t(x: int) -> int:
        return x

    _, decisions = _decision_events(Graph([g, t]), {"x": 1})
    assert decisions[0].decision is END


def test_route_decision_event_reports_none():
    """GT13: a None decision (no fallback) is reported as None."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"])
    def r(x: int):
        return None

    _, decisions = _decision_events(Graph([r, a, b]), {"x": 1})
    assert decisions[0].decision is None


def test_route_decision_event_reports_a_list_for_multi_target():
    """GT13: a multi_target decision is reported as the list of names."""
    ran: list[str] = []
    a, b = _branches(ran)

    @route(targets=["a", "b"], multi_target=True)
    def r(x: int):
        return ["a", "b"]

    _, decisions = _decision_events(Graph([r, a, b]), {"x": 1})
    assert decisions[0].decision == ["a", "b"]


def test_ifelse_decision_event_reports_the_branch_name():
    """GT13: an @ifelse decision is reported as the chosen target name."""
    ran: list[str] = []
    a, b = _branches(ran)

    @ifelse(when_true="a", when_false="b")
    def decide(x: int) -> bool:
        return False

    _, decisions = _decision_events(Graph([decide, a, b]), {"x": 1})
    assert decisions[0].decision == "b"
