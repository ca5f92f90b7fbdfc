"""Human in the loop: @interrupt pauses, resumes, nests and auto-resolves (SPEC HI1-HI11, TC13)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hypergraph import (
    AsyncRunner,
    Graph,
    GraphConfigError,
    IncompatibleRunnerError,
    InMemoryCache,
    InterruptNode,
    PauseInfo,
    PauseReason,
    RunStatus,
    SyncRunner,
    interrupt,
    node,
)
from hypergraph.events import InterruptEvent, NodeEndEvent, NodeStartEvent, RunEndEvent

handler_calls: list[str] = []


@node(output_name="draft")
def make_draft(query: str) -> str:
    return f"Draft: {query}"


@interrupt(output_name="decision")
def approval(draft: str) -> None:
    handler_calls.append(draft)
    return None


@node(output_name="result")
def finalize(decision: str) -> str:
    return f"final: {decision}"


flat = Graph([make_draft, approval, finalize])
review = Graph([approval], name="review")
nested = Graph([make_draft, review.as_node(), finalize], name="app")
deeper = Graph(
    [make_draft, Graph([review.as_node()], name="outer").as_node(), finalize], name="app"
)


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    handler_calls.clear()


def run(graph: Graph, values: dict[str, Any], **options: Any) -> Any:
    return asyncio.run(AsyncRunner().run(graph, values, **options))


def test_tc13_flat_interrupt_pauses_with_the_draft() -> None:
    """TC13: the first run pauses at the interrupt, showing the draft and keeping values so far."""
    result = run(flat, {"query": "hi"})
    assert result.status == RunStatus.PAUSED
    assert result.paused
    assert result.pause.value == "Draft: hi"
    assert result.pause.response_key == "decision"
    assert dict(result.values) == {"draft": "Draft: hi"}


def test_tc13_flat_resume_completes_without_calling_the_handler() -> None:
    """TC13: re-running with the answer under response_key completes; the handler is not called."""
    result = run(flat, {"query": "hi", "decision": "yes"})
    assert result.status == RunStatus.COMPLETED
    assert result["result"] == "final: yes"
    assert handler_calls == []


def test_tc13_nested_interrupt_reports_path_and_dotted_key() -> None:
    """TC13: inside GraphNode "review" the pause names "review/approval" and the key "review.decision"."""
    result = run(nested, {"query": "hi"})
    assert result.status == RunStatus.PAUSED
    assert result.pause.node_name == "review/approval"
    assert result.pause.response_key == "review.decision"
    assert result.pause.value == "Draft: hi"


def test_tc13_nested_resume_with_the_dotted_key_completes() -> None:
    """TC13: resuming with {"review.decision": ...} answers the nested interrupt."""
    paused = run(nested, {"query": "hi"})
    result = run(nested, {"query": "hi", paused.pause.response_key: "ship it"})
    assert result.status == RunStatus.COMPLETED
    assert result["result"] == "final: ship it"


def test_deeper_nesting_uses_the_full_dotted_path() -> None:
    """HI6: two levels deep the key is "outer.review.decision" and resuming with it completes."""
    paused = run(deeper, {"query": "hi"})
    assert paused.pause.node_name == "outer/review/approval"
    assert paused.pause.response_key == "outer.review.decision"
    result = run(deeper, {"query": "hi", "outer.review.decision": "ok"})
    assert result["result"] == "final: ok"


def test_flat_nested_interrupt_also_resumes_with_the_plain_output_name() -> None:
    """HI6: for flat GraphNodes the plain output name resumes the nested interrupt too."""
    result = run(nested, {"query": "hi", "decision": "plain"})
    assert result.status == RunStatus.COMPLETED
    assert result["result"] == "final: plain"
    assert handler_calls == []


def test_pause_info_fields_for_a_single_input_single_output_interrupt() -> None:
    """HI4: PauseInfo carries node, output, first input value, no multi fields, HUMAN_INPUT reason."""
    pause = run(flat, {"query": "hi"}).pause
    assert isinstance(pause, PauseInfo)
    assert pause.node_name == "approval"
    assert pause.output_param == "decision"
    assert pause.value == "Draft: hi"
    assert pause.output_params is None
    assert pause.values is None
    assert pause.reason == PauseReason.HUMAN_INPUT


def test_response_param_is_an_alias_of_response_key() -> None:
    """HI4 / S2: pause.response_param equals pause.response_key, flat and nested."""
    for graph, key in ((flat, "decision"), (nested, "review.decision")):
        pause = run(graph, {"query": "hi"}).pause
        assert pause.response_param == pause.response_key == key


@interrupt(output_name=("approved", "notes"))
def review_both(draft: str, reviewer: str) -> None:
    return None


def test_multi_output_multi_input_interrupt_lists_all_outputs_and_inputs() -> None:
    """HI4: output_params holds every output and values every input when there are two or more."""
    pause = run(Graph([make_draft, review_both]), {"query": "hi", "reviewer": "ana"}).pause
    assert pause.output_param == "approved"
    assert pause.output_params == ("approved", "notes")
    assert pause.values == {"draft": "Draft: hi", "reviewer": "ana"}
    assert pause.response_keys == {"approved": "approved", "notes": "notes"}


def test_nested_multi_output_interrupt_response_keys_are_dotted() -> None:
    """HI4/HI6: response_keys maps each output to its dotted resume key, and those keys resume."""
    inner = Graph([review_both], name="review")
    graph = Graph([make_draft, inner.as_node()], name="app")
    pause = run(graph, {"query": "hi", "reviewer": "ana"}).pause
    assert pause.response_keys == {"approved": "review.approved", "notes": "review.notes"}
    answers = dict(zip(pause.response_keys.values(), (True, "lgtm"), strict=True))
    result = run(graph, {"query": "hi", "reviewer": "ana", **answers})
    assert result.status == RunStatus.COMPLETED
    assert dict(result.values) == {"draft": "Draft: hi", "approved": True, "notes": "lgtm"}


def test_sync_handler_returning_a_value_auto_resolves() -> None:
    """HI2: a sync handler's non-None return answers the interrupt; the run does not pause."""

    @interrupt(output_name="decision")
    def auto(draft: str) -> str:
        return "auto-approved"

    result = run(Graph([make_draft, auto, finalize]), {"query": "hi"})
    assert result.status == RunStatus.COMPLETED
    assert result["result"] == "final: auto-approved"


def test_async_handler_returning_a_value_auto_resolves() -> None:
    """HI1/HI2: an async handler is awaited and its non-None return answers the interrupt."""

    @interrupt(output_name="decision")
    async def auto(draft: str) -> str:
        await asyncio.sleep(0)
        return f"checked {draft}"

    result = run(Graph([make_draft, auto, finalize]), {"query": "hi"})
    assert result["result"] == "final: checked Draft: hi"


def test_async_handler_returning_none_pauses() -> None:
    """HI2: an async handler that returns None pauses like a sync one."""

    @interrupt(output_name="decision")
    async def ask(draft: str) -> None:
        await asyncio.sleep(0)

    assert run(Graph([make_draft, ask, finalize]), {"query": "hi"}).status == RunStatus.PAUSED


def test_multi_output_handler_dict_auto_resolves_every_output() -> None:
    """HI2: a multi-output handler answers with a dict keyed exactly by the output names."""

    @interrupt(output_name=("approved", "notes"))
    def auto(draft: str) -> dict[str, Any]:
        return {"notes": "fine", "approved": True}

    result = run(Graph([make_draft, auto]), {"query": "hi"})
    assert dict(result.values) == {"draft": "Draft: hi", "approved": True, "notes": "fine"}


def test_multi_output_handler_with_wrong_keys_raises_listing_missing_and_extra() -> None:
    """HI2: a dict with the wrong keys is a ValueError naming the missing and the extra keys."""

    @interrupt(output_name=("approved", "notes"))
    def sloppy(draft: str) -> dict[str, Any]:
        return {"approved": True, "comment": "typo"}

    with pytest.raises(ValueError, match="sloppy") as info:
        run(Graph([make_draft, sloppy]), {"query": "hi"})
    message = str(info.value)
    assert "Missing: ['notes']" in message
    assert "extra: ['comment']" in message


def test_handler_exception_is_an_ordinary_node_failure() -> None:
    """HI2: an exception raised by the handler fails the run like any node failure."""

    @interrupt(output_name="decision")
    def broken(draft: str) -> str:
        raise LookupError("no reviewer on duty")

    result = run(Graph([make_draft, broken]), {"query": "hi"}, error_handling="continue")
    assert result.status == RunStatus.FAILED
    assert isinstance(result.error, LookupError)


def test_ready_interrupt_runs_alone_in_its_superstep(recorder: Any) -> None:
    """HI5: a sibling ready in the same superstep waits for the next one."""

    @interrupt(output_name="decision")
    def auto(draft: str) -> str:
        return "ok"

    @node(output_name="length")
    def measure(draft: str) -> int:
        return len(draft)

    run(Graph([auto, measure]), {"draft": "abc"}, event_processors=[recorder])
    steps = {e.node_name: e.superstep for e in recorder.of(NodeStartEvent)}
    assert steps["measure"] == steps["auto"] + 1


def test_pausing_interrupt_keeps_its_ready_siblings_from_running() -> None:
    """HI5: when the lone interrupt pauses, siblings that were deferred never run."""
    ran: list[str] = []

    @node(output_name="length")
    def measure(draft: str) -> int:
        ran.append("measure")
        return len(draft)

    result = run(Graph([approval, measure]), {"draft": "abc"})
    assert result.status == RunStatus.PAUSED
    assert ran == []


def test_pause_events_are_node_start_interrupt_then_paused_run_end(recorder: Any) -> None:
    """HI5: the interrupt emits NodeStart then InterruptEvent (no NodeEnd), then RunEnd(status=paused)."""
    run(flat, {"query": "hi"}, event_processors=[recorder])
    assert recorder.kinds("approval") == ["NodeStartEvent", "InterruptEvent"]
    assert not [e for e in recorder.of(NodeEndEvent) if e.node_name == "approval"]
    interrupt_index = recorder.events.index(recorder.of(InterruptEvent)[0])
    assert recorder.events[interrupt_index + 1:] == recorder.of(RunEndEvent)
    (end,) = recorder.of(RunEndEvent)
    assert end.status == RunStatus.PAUSED
    assert end.status == "paused"


def test_interrupt_event_carries_the_value_and_response_param(recorder: Any) -> None:
    """EV2: InterruptEvent shows the value and the key to resume with."""
    run(nested, {"query": "hi"}, event_processors=[recorder])
    (event,) = recorder.of(InterruptEvent)
    assert event.node_name == "approval"
    assert event.value == "Draft: hi"
    assert event.response_param == "decision"


def test_answer_is_consumed_and_a_later_visit_asks_again() -> None:
    """HI2: in a loop, an answer resolves one visit; the next visit pauses again."""

    @node(output_name="draft")
    def write(query: str, decision: str = "") -> str:
        return f"{query} v{len(decision)}"

    @interrupt(output_name="decision")
    def ask(draft: str) -> None:
        return None

    graph = Graph([write, ask], entrypoint="write")
    result = run(graph, {"query": "q", "decision": "no!"})
    assert result.status == RunStatus.PAUSED
    assert result.pause.value == "q v3"


def test_interrupts_are_never_cached() -> None:
    """HI11: an interrupt with cache=True still calls its handler on every run."""
    calls: list[str] = []

    @interrupt(output_name="decision", cache=True)
    def cached_handler(draft: str) -> str:
        calls.append(draft)
        return "ok"

    runner = AsyncRunner(cache=InMemoryCache())
    graph = Graph([cached_handler])
    for _ in range(2):
        asyncio.run(runner.run(graph, {"draft": "d"}))
    assert calls == ["d", "d"]


def test_map_of_a_graph_with_an_interrupt_is_a_graph_config_error() -> None:
    """HI8/MP10: map() refuses graphs with interrupts before any item runs."""
    with pytest.raises(GraphConfigError, match="interrupt"):
        asyncio.run(AsyncRunner().map(flat, {"query": ["a", "b"]}, map_over="query"))
    assert handler_calls == []


def test_map_of_a_graph_with_a_nested_interrupt_is_a_graph_config_error() -> None:
    """HI8/MP10: an interrupt at any depth makes map() raise GraphConfigError."""
    with pytest.raises(GraphConfigError):
        asyncio.run(AsyncRunner().map(deeper, {"query": ["a", "b"]}, map_over="query"))


def test_mapped_graph_node_wrapping_an_interrupt_is_a_graph_config_error() -> None:
    """MP11: map_over() on a GraphNode whose graph has interrupts is rejected when it is built."""
    with pytest.raises(GraphConfigError, match="review"):
        review.as_node().map_over("draft")


def test_sync_runner_rejects_interrupts_naming_the_node_and_suggesting_async_runner() -> None:
    """HI7: SyncRunner raises IncompatibleRunnerError naming the interrupt and pointing to AsyncRunner."""
    with pytest.raises(IncompatibleRunnerError) as info:
        SyncRunner().run(flat, {"query": "hi"})
    assert "approval" in str(info.value)
    assert "AsyncRunner" in str(info.value)
    assert info.value.node_name == "approval"


def test_sync_runner_rejects_nested_interrupts() -> None:
    """HI7: an interrupt two levels deep is also rejected by SyncRunner before anything runs."""
    with pytest.raises(IncompatibleRunnerError, match="AsyncRunner"):
        SyncRunner().run(deeper, {"query": "hi"})


def test_interrupt_requires_an_output_name() -> None:
    """HI1: @interrupt and InterruptNode without output_name raise TypeError."""
    with pytest.raises(TypeError, match="output_name"):
        interrupt()(lambda draft: None)
    with pytest.raises(TypeError, match="output_name"):
        InterruptNode(lambda draft: None)
