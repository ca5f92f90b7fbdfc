"""Events from SyncRunner: typed callbacks, ordering, isolation, errors and streaming chunks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from hypergraph import (
    Graph,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RunEndEvent,
    RunStartEvent,
    StreamingChunkEvent,
    SuperstepStartEvent,
    SyncRunner,
    node,
)
from hypergraph.events import EventProcessor, TypedEventProcessor


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


class Recorder(EventProcessor):
    """Keeps every event in order."""

    def __init__(self) -> None:
        self.events: list = []

    def on_event(self, event) -> None:
        self.events.append(event)


# ---------------------------------------------------------------------------- EV5 / TC1


def test_typed_method_on_plain_event_processor_is_called():
    """TC1: on_node_start defined on a plain EventProcessor subclass receives node starts."""
    seen: list[str] = []

    class P(EventProcessor):
        def on_node_start(self, e):
            seen.append(e.node_name)

    SyncRunner().run(Graph([double]), {"x": 1}, event_processors=[P()])
    assert seen == ["double"]


def test_logging_processor_seed_example_prints_starts_and_ends(capsys):
    """The overview's LoggingProcessor prints a line when each node starts and finishes."""
    from hypergraph.events import EventProcessor, NodeEndEvent, NodeStartEvent  # noqa: F401

    class LoggingProcessor(EventProcessor):
        def on_node_start(self, event: NodeStartEvent):
            print(f"Starting {event.node_name}")

        def on_node_end(self, event: NodeEndEvent):
            print(f"Finished {event.node_name} in {event.duration_ms}ms")

    processor = LoggingProcessor()
    graph = Graph([double])
    runner = SyncRunner()
    values = {"x": 5}
    result = runner.run(
        graph,
        values,
        event_processors=[processor],
    )
    lines = capsys.readouterr().out.splitlines()
    assert result["doubled"] == 10
    assert lines[0] == "Starting double"
    assert lines[1].startswith("Finished double in ")
    assert len(lines) == 2


def test_typed_event_processor_subclass_receives_typed_calls():
    """TypedEventProcessor subclasses get their overridden hooks called."""
    seen: list[str] = []

    class P(TypedEventProcessor):
        def on_run_start(self, event):
            seen.append("run_start")

        def on_node_end(self, event):
            seen.append(f"end:{event.node_name}")

        def on_run_end(self, event):
            seen.append(f"run_end:{event.status.value}")

    SyncRunner().run(Graph([double]), {"x": 1}, event_processors=[P()])
    assert seen == ["run_start", "end:double", "run_end:completed"]


def test_no_processor_means_no_events_and_same_result():
    """Runs without processors still return the same values."""
    assert SyncRunner().run(Graph([double, add_one]), {"x": 1}).values == {
        "doubled": 2,
        "result": 3,
    }


# ---------------------------------------------------------------------------- EV4 ordering


def test_events_of_a_simple_run_are_ordered():
    """EV4: RunStart, then per superstep SuperstepStart and node events, then RunEnd."""
    recorder = Recorder()
    SyncRunner().run(Graph([double, add_one]), {"x": 1}, event_processors=[recorder])
    kinds = [(type(e).__name__, getattr(e, "node_name", None)) for e in recorder.events]
    assert kinds == [
        ("RunStartEvent", None),
        ("SuperstepStartEvent", None),
        ("NodeStartEvent", "double"),
        ("NodeEndEvent", "double"),
        ("SuperstepStartEvent", None),
        ("NodeStartEvent", "add_one"),
        ("NodeEndEvent", "add_one"),
        ("RunEndEvent", None),
    ]


def test_spans_link_nodes_to_their_run():
    """EV3: node events share a node span whose parent is the run span; RunStart/End share one."""
    recorder = Recorder()
    result = SyncRunner().run(
        Graph([double], name="g"), {"x": 1}, event_processors=[recorder], parent_span_id="p-1"
    )
    run_start, _, node_start, node_end, run_end = recorder.events
    assert isinstance(run_start, RunStartEvent) and isinstance(run_end, RunEndEvent)
    assert run_start.span_id == run_end.span_id == result.span_id
    assert run_start.parent_span_id == "p-1"
    assert node_start.span_id == node_end.span_id
    assert node_start.parent_span_id == run_start.span_id
    assert {e.run_id for e in recorder.events} == {result.run_id}
    assert run_start.graph_name == "g" and not run_start.is_map


def test_superstep_numbers_count_up():
    """SuperstepStartEvent numbers match the NodeStartEvent supersteps."""
    recorder = Recorder()
    SyncRunner().run(Graph([double, add_one]), {"x": 1}, event_processors=[recorder])
    steps = [e.superstep for e in recorder.events if isinstance(e, SuperstepStartEvent)]
    node_steps = [e.superstep for e in recorder.events if isinstance(e, NodeStartEvent)]
    assert steps == [0, 1]
    assert node_steps == [0, 1]


# ---------------------------------------------------------------------------- EV7 isolation


def test_raising_processor_is_logged_and_the_run_is_unaffected(caplog):
    """EV7: a processor that raises is logged as a warning; other processors and the run go on."""

    class Broken(EventProcessor):
        def on_node_start(self, event):
            raise RuntimeError("processor bug")

    recorder = Recorder()
    with caplog.at_level(logging.WARNING, logger="hypergraph"):
        result = SyncRunner().run(
            Graph([double]), {"x": 1}, event_processors=[Broken(), recorder]
        )
    assert result.status == "completed"
    assert result["doubled"] == 2
    assert any(isinstance(e, NodeEndEvent) for e in recorder.events)
    assert any(r.levelno == logging.WARNING for r in caplog.records)


def test_raising_shutdown_does_not_fail_the_run(caplog):
    """EV7: a processor whose shutdown raises is logged; the result is returned."""

    class BadShutdown(EventProcessor):
        def shutdown(self):
            raise RuntimeError("shutdown bug")

    with caplog.at_level(logging.WARNING, logger="hypergraph"):
        result = SyncRunner().run(Graph([double]), {"x": 1}, event_processors=[BadShutdown()])
    assert result["doubled"] == 2
    assert caplog.records


# ---------------------------------------------------------------------------- errors


def test_node_failure_emits_node_error_with_type_and_message():
    """EV2: NodeErrorEvent carries "<Type>: <message>" and the RunEnd reports FAILED."""

    @node(output_name="y")
    def boom(x: int) -> int:
        raise ValueError("bad input")

    recorder = Recorder()
    result = SyncRunner().run(
        Graph([boom]), {"x": 1}, event_processors=[recorder], error_handling="continue"
    )
    errors = [e for e in recorder.events if isinstance(e, NodeErrorEvent)]
    assert len(errors) == 1
    assert errors[0].node_name == "boom"
    assert errors[0].error == "ValueError: bad input"
    assert errors[0].error_type == "ValueError"
    assert not any(isinstance(e, NodeEndEvent) for e in recorder.events)
    run_end = recorder.events[-1]
    assert isinstance(run_end, RunEndEvent)
    assert run_end.status == "failed"
    assert run_end.error == "ValueError: bad input"
    assert result.status == "failed"


def test_node_failure_in_raise_mode_still_ends_the_run_event():
    """EV4: RunEnd is the last event even when the failure is re-raised."""

    @node(output_name="y")
    def boom(x: int) -> int:
        raise ValueError("bad input")

    recorder = Recorder()
    with pytest.raises(ValueError):
        SyncRunner().run(Graph([boom]), {"x": 1}, event_processors=[recorder])
    assert isinstance(recorder.events[-1], RunEndEvent)
    assert recorder.events[-1].status == "failed"


# ---------------------------------------------------------------------------- generators (GN)


@node(output_name="chunks")
def g(n: int):
    yield from range(n)


@node(output_name="total")
def s(chunks):
    return sum(chunks)


def test_generator_is_drained_into_a_list():
    """TC2: a generator node's value is the list of its chunks; downstream sees a list."""
    result = SyncRunner().run(Graph([g, s]), {"n": 4})
    assert result.values == {"chunks": [0, 1, 2, 3], "total": 6}
    assert isinstance(result["chunks"], list)


def test_generator_emits_one_chunk_event_per_item():
    """TC2/GN4: four yields produce four StreamingChunkEvents inside the node's span."""
    recorder = Recorder()
    SyncRunner().run(Graph([g, s]), {"n": 4}, event_processors=[recorder])
    events = recorder.events
    chunks = [e for e in events if isinstance(e, StreamingChunkEvent)]
    assert [(c.chunk, c.index) for c in chunks] == [(0, 0), (1, 1), (2, 2), (3, 3)]
    start = next(e for e in events if isinstance(e, NodeStartEvent) and e.node_name == "g")
    end = next(e for e in events if isinstance(e, NodeEndEvent) and e.node_name == "g")
    assert all(events.index(start) < events.index(c) < events.index(end) for c in chunks)
    assert all(c.node_name == "g" for c in chunks)
    assert all(c.parent_span_id == start.span_id for c in chunks)


def test_str_generator_is_joined_into_one_string():
    """GN2: a generator annotated -> str stores the joined text."""

    @node(output_name="answer")
    def stream(prompt: str) -> str:
        yield "Hello"
        yield ", "
        yield prompt

    assert SyncRunner().run(Graph([stream]), {"prompt": "world"})["answer"] == "Hello, world"


def test_iterator_annotated_generator_stays_a_list():
    """GN2: an Iterator[...] annotation keeps the list of chunks."""

    @node(output_name="parts")
    def split(text: str) -> Iterator[str]:
        yield from text.split()

    assert SyncRunner().run(Graph([split]), {"text": "a b"})["parts"] == ["a", "b"]


def test_drained_list_supports_async_for():
    """GN3: the stored list also works with `async for`."""
    chunks = SyncRunner().run(Graph([g]), {"n": 3})["chunks"]

    async def consume() -> list[int]:
        return [token async for token in chunks]

    assert asyncio.run(consume()) == [0, 1, 2]
    assert chunks == [0, 1, 2]
    assert len(chunks) == 3


def test_failure_mid_stream_fails_the_node():
    """GN5: an exception while iterating fails the node; emitted chunks stay emitted."""

    @node(output_name="chunks")
    def flaky(n: int):
        yield 1
        yield 2
        raise RuntimeError("stream broke")

    @node(output_name="total")
    def total(chunks):
        return sum(chunks)

    recorder = Recorder()
    result = SyncRunner().run(
        Graph([flaky, total]), {"n": 3}, event_processors=[recorder], error_handling="continue"
    )
    assert result.status == "failed"
    assert str(result.error) == "stream broke"
    assert result.values == {}
    kinds = [type(e).__name__ for e in recorder.events if type(e).__name__ != "SuperstepStartEvent"]
    assert kinds == [
        "RunStartEvent",
        "NodeStartEvent",
        "StreamingChunkEvent",
        "StreamingChunkEvent",
        "NodeErrorEvent",
        "RunEndEvent",
    ]
