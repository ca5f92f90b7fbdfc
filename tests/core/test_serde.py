"""hypergraph.serde: one cattrs converter turns value types into JSON and back (DESIGN §4)."""

from __future__ import annotations

import json

import attrs

from hypergraph import END, Graph, PauseInfo, RunnerCapabilities, RunStatus, SyncRunner, node, route
from hypergraph.engine import RunState, engine_for
from hypergraph.engine.execution import resolve_decision
from hypergraph.events import NodeEndEvent, RouteDecisionEvent, RunEndEvent
from hypergraph.serde import make_converter


def test_pause_info_round_trips_through_json() -> None:
    """A pause can be stored as JSON and read back equal."""
    converter = make_converter()
    pause = PauseInfo(node_name="review/approval", output_param="decision", value="Draft: hi")
    restored = converter.loads(converter.dumps(pause), PauseInfo)
    assert restored == pause
    assert restored.response_key == "review.decision"


def test_events_round_trip_with_their_status() -> None:
    """Events serialize with RunStatus as its string value."""
    converter = make_converter()
    event = RunEndEvent(
        run_id="run-1", span_id="s1", timestamp=1.5, graph_name="g", status=RunStatus.FAILED,
        error="ValueError: bad", duration_ms=3.0,
    )
    text = converter.dumps(event)
    assert json.loads(text)["status"] == "failed"
    assert converter.loads(text, RunEndEvent) == event


def test_end_decision_survives_a_round_trip_as_the_sentinel() -> None:
    """END is written as a marker and read back as the very END object."""
    converter = make_converter()
    event = RouteDecisionEvent(
        run_id="r", span_id="s", timestamp=0.0, node_name="g", graph_name=None, decision=END
    )
    data = converter.unstructure(event)
    assert data["decision"] == {"__hypergraph__": "END"}
    assert converter.structure(data["decision"], type(END)) is END


def test_capabilities_round_trip() -> None:
    """Runner capabilities are plain data."""
    converter = make_converter()
    caps = RunnerCapabilities(supports_cycles=False, supports_distributed=True)
    assert converter.structure(converter.unstructure(caps), RunnerCapabilities) == caps


def test_run_state_after_a_loop_round_trips() -> None:
    """A run's state (values, versions, decisions, counters) can be persisted and restored."""

    @node(output_name="count")
    def increment(count: int) -> int:
        return count + 1

    @route(targets=["increment", END])
    def check(count: int) -> object:
        return END if count >= 3 else "increment"

    graph = Graph([increment, check], entrypoint="increment")
    engine = engine_for(graph)
    state = engine.new_state({"count": 0})
    while batch := engine.next_batch(state, 100):
        outcomes = []
        for np in batch:
            kwargs = engine.collect(state, np)
            if np.gate_plan is not None:
                outcomes.append((np, {}, resolve_decision(np, np.func(**kwargs))))
            else:
                outcomes.append((np, {"count": np.func(**kwargs)}, None))
        engine.commit(state, outcomes)
    converter = make_converter()
    restored = converter.loads(converter.dumps(state), RunState)
    assert attrs.asdict(restored) == attrs.asdict(state)
    assert restored.values == {"count": 3}
    assert SyncRunner().run(graph, {"count": 0})["count"] == 3


def test_node_events_serialize_to_json_safe_data() -> None:
    """Everything a processor receives can be logged as JSON."""
    converter = make_converter()
    event = NodeEndEvent(
        run_id="r", span_id="s", timestamp=0.0, node_name="n", graph_name=None, duration_ms=1.0
    )
    assert json.loads(converter.dumps(event))["node_name"] == "n"
