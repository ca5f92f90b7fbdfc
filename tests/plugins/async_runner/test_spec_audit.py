"""Spec audit: AsyncRunner rules not asserted elsewhere (SPEC AC, HI, EV, GN7, CA8, R3, R6, R14)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from typing import Any

import pytest

from hypergraph import (
    END,
    AsyncRunner,
    FunctionNode,
    Graph,
    InMemoryCache,
    InterruptNode,
    PauseReason,
    RunStatus,
    SyncRunner,
    interrupt,
    node,
    route,
)
from hypergraph.events import (
    AsyncEventProcessor,
    EventProcessor,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RunEndEvent,
    RunStartEvent,
    StreamingChunkEvent,
    SuperstepStartEvent,
)
from hypergraph.exceptions import InterruptAnswerError


class CountingShutdown(EventProcessor):
    """Records events and counts shutdown() calls."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.shutdowns = 0

    def on_event(self, event: Any) -> None:
        self.events.append(event)

    def shutdown(self) -> None:
        self.shutdowns += 1


def kinds_of(events: list[Any], node_name: str) -> list[str]:
    return [type(e).__name__ for e in events if getattr(e, "node_name", None) == node_name]


def tracked_sleepers(count: int, in_flight: Any, prefix: str = "s") -> list[FunctionNode]:
    """``count`` independent async nodes sleeping 10 ms inside ``in_flight``."""

    def make(i: int) -> FunctionNode:
        async def sleeper(x: int) -> int:
            with in_flight:
                await asyncio.sleep(0.01)
            return x + i

        return FunctionNode(sleeper, name=f"{prefix}_{i}", output_name=f"{prefix}_out_{i}")

    return [make(i) for i in range(count)]


# ---------------------------------------------------------------------------------------- AC


def test_async_generators_of_one_superstep_run_concurrently(in_flight: Any) -> None:
    """AC1: async generator nodes of the same superstep are gathered, so both are in flight at once."""

    def make(name: str) -> FunctionNode:
        async def gen(x: int):  # type: ignore[no-untyped-def]
            with in_flight:
                await asyncio.sleep(0.02)
                yield x

        return FunctionNode(gen, name=name, output_name=f"{name}_out")

    result = asyncio.run(AsyncRunner().run(Graph([make("g1"), make("g2")]), {"x": 1}))
    assert dict(result.values) == {"g1_out": [1], "g2_out": [1]}
    assert in_flight.peak == 2


def test_graph_nodes_of_one_superstep_run_concurrently(in_flight: Any) -> None:
    """AC1: two nested GraphNodes of the same superstep run concurrently."""
    first = Graph(tracked_sleepers(1, in_flight, "a"), name="first").as_node()
    second = Graph(tracked_sleepers(1, in_flight, "b"), name="second").as_node()
    asyncio.run(AsyncRunner().run(Graph([first, second]), {"x": 0}))
    assert in_flight.peak == 2


def test_sync_generator_runs_inline_on_the_loop_thread_after_async_work() -> None:
    """AC1: a sync generator sibling runs on the loop thread after the superstep's async node finished."""
    order: list[str] = []
    threads: list[int] = []

    @node(output_name="items")
    def items(x: int):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        order.append("sync gen")
        yield x

    @node(output_name="slow")
    async def slow(x: int) -> int:
        await asyncio.sleep(0.01)
        order.append("async end")
        return x

    async def main() -> int:
        await AsyncRunner().run(Graph([items, slow]), {"x": 1})
        return threading.get_ident()

    assert threads == [asyncio.run(main())]
    assert order == ["async end", "sync gen"]


def test_nested_graphs_under_max_concurrency_one_do_not_deadlock(in_flight: Any) -> None:
    """AC4: permits are taken around leaves only, so GraphNodes under max_concurrency=1 complete."""
    first = Graph(tracked_sleepers(2, in_flight, "a"), name="first").as_node()
    second = Graph(tracked_sleepers(2, in_flight, "b"), name="second").as_node()
    outer = Graph([first, second], name="outer")
    result = asyncio.run(asyncio.wait_for(AsyncRunner().run(outer, {"x": 0}, max_concurrency=1), 5))
    assert result.status == RunStatus.COMPLETED
    assert in_flight.peak == 1


def test_delegated_async_runner_child_shares_the_parents_budget(in_flight: Any) -> None:
    """AC3: a child on an explicit AsyncRunner (same loop) draws from the parent's one budget."""
    child = Graph(tracked_sleepers(4, in_flight), name="child").as_node(runner=AsyncRunner())
    asyncio.run(AsyncRunner().run(Graph([child], name="outer"), {"x": 0}, max_concurrency=2))
    assert in_flight.peak == 2


def test_limiter_is_not_inherited_by_a_helper_thread_loop(in_flight: Any) -> None:
    """AC6: an AsyncRunner child started by asyncio.run in a helper thread gets no inherited limiter."""
    grandchild = Graph(tracked_sleepers(3, in_flight), name="grandchild")
    sync_parent = Graph([grandchild.as_node(runner=AsyncRunner())], name="sync_parent")

    @node(output_name="total")
    def call_sync_runner(x: int) -> int:
        # a sync node runs inline on the loop thread, so SyncRunner must use a helper thread (R14)
        result = SyncRunner().run(sync_parent, {"x": x})
        return sum(result.values.values())

    outer = Graph([call_sync_runner], name="outer")
    result = asyncio.run(AsyncRunner().run(outer, {"x": 0}, max_concurrency=1))
    assert result["total"] == 0 + 1 + 2
    assert in_flight.peak == 3


# ---------------------------------------------------------------------------------------- R


def test_arun_and_amap_are_the_same_functions_as_run_and_map() -> None:
    """R3: arun/amap are aliases of run/map with identical signatures."""
    assert AsyncRunner.arun is AsyncRunner.run
    assert AsyncRunner.amap is AsyncRunner.map


def test_unsupported_node_type_is_a_type_error() -> None:
    """R6: a node type outside supported_node_types is rejected with TypeError."""
    from hypergraph.nodes._base import CallableNode

    class TableNode(CallableNode):
        def __init__(self) -> None:
            self.name = "table"
            self.func = lambda x: x
            self._definition_hash = "0" * 64
            self._init_ports(("x",), ("y",), {})

    with pytest.raises(TypeError, match="TableNode"):
        asyncio.run(AsyncRunner().run(Graph([TableNode()]), {"x": 1}))


def test_sync_child_in_a_worker_thread_sees_the_callers_context() -> None:
    """R14: async parent + sync child runs through asyncio.to_thread with the context copied."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")

    @node(output_name="seen")
    def read_var(x: int) -> str:
        return var.get()

    child = Graph([read_var], name="child").as_node(runner=SyncRunner())

    async def main() -> Any:
        var.set("req-42")
        return await AsyncRunner().run(Graph([child], name="outer"), {"x": 1})

    assert asyncio.run(main())["seen"] == "req-42"


# ---------------------------------------------------------------------------------------- HI


def test_interrupt_node_constructor_takes_source_name_and_output_name_positionally() -> None:
    """HI1: InterruptNode(source, name, output_name) builds an interrupt with is_interrupt True."""

    def ask(draft: str) -> None:
        return None

    built = InterruptNode(ask, "approve", ("decision", "notes"))
    assert built.is_interrupt is True
    assert built.name == "approve"
    assert built.outputs == ("decision", "notes")
    assert built.inputs == ("draft",)


def test_multi_output_interrupt_with_only_some_answers_still_asks_the_handler() -> None:
    """HI2: the stored answers are used only when every data output has one; otherwise the handler runs."""
    calls: list[str] = []

    @interrupt(output_name=("approved", "notes"))
    def review(draft: str) -> None:
        calls.append(draft)
        return None

    result = asyncio.run(AsyncRunner().run(Graph([review]), {"draft": "d", "approved": True}))
    assert result.status == RunStatus.PAUSED
    assert calls == ["d"]


def test_multi_output_interrupt_answered_in_full_skips_the_handler() -> None:
    """HI2: with an answer for every output, the interrupt outputs them without calling the handler."""
    calls: list[str] = []

    @interrupt(output_name=("approved", "notes"))
    def review(draft: str) -> None:
        calls.append(draft)
        return None

    values = {"draft": "d", "approved": True, "notes": "ok"}
    result = asyncio.run(AsyncRunner().run(Graph([review]), values))
    assert result.status == RunStatus.COMPLETED
    assert dict(result.values) == {"approved": True, "notes": "ok"}
    assert calls == []


def test_answers_are_consumed_per_visit_and_the_handler_sees_the_next_visit() -> None:
    """HI2: in a loop the answer resolves the first visit only; the second visit calls the handler."""
    seen: list[str] = []

    @node(output_name="draft")
    def write(query: str, decision: str = "") -> str:
        return f"{query}:{decision}"

    @interrupt(output_name="decision")
    def ask(draft: str) -> None:
        seen.append(draft)
        return None

    graph = Graph([write, ask], entrypoint="write")
    result = asyncio.run(AsyncRunner().run(graph, {"query": "q", "decision": "yes"}))
    assert result.status == RunStatus.PAUSED
    assert seen == ["q:yes"]
    assert result.pause.value == "q:yes"
    assert result["decision"] == "yes"


def test_pause_info_of_a_multi_input_multi_output_interrupt_has_every_field() -> None:
    """HI4: node_name, output_param, value (first input), output_params, values, reason and keys."""

    @interrupt(output_name=("approved", "notes"))
    def review(draft: str, reviewer: str, priority: int) -> None:
        return None

    values = {"draft": "D", "reviewer": "ana", "priority": 2}
    pause = asyncio.run(AsyncRunner().run(Graph([review]), values)).pause
    assert pause.node_name == "review"
    assert pause.output_param == "approved"
    assert pause.value == "D"
    assert pause.output_params == ("approved", "notes")
    assert pause.values == {"draft": "D", "reviewer": "ana", "priority": 2}
    assert pause.reason == PauseReason.HUMAN_INPUT
    assert pause.response_key == pause.response_param == "approved"
    assert pause.response_keys == {"approved": "approved", "notes": "notes"}


def test_pause_info_of_a_nested_multi_input_interrupt_has_path_and_inner_values() -> None:
    """HI4/HI6: a nested multi-input interrupt reports the '/'-joined node name, first value and all values."""

    @interrupt(output_name=("approved", "notes"))
    def review(draft: str, reviewer: str) -> None:
        return None

    outer = Graph([Graph([review], name="gate").as_node()], name="app")
    pause = asyncio.run(AsyncRunner().run(outer, {"draft": "D", "reviewer": "ana"})).pause
    assert pause.node_name == "gate/review"
    assert pause.value == "D"
    assert pause.values == {"draft": "D", "reviewer": "ana"}
    assert pause.output_params == ("approved", "notes")
    assert pause.response_key == "gate.approved"


def test_pause_info_of_an_interrupt_without_inputs_has_no_value() -> None:
    """HI4: value is None and values is None when the interrupt has no inputs."""

    @interrupt(output_name="go")
    def confirm() -> None:
        return None

    pause = asyncio.run(AsyncRunner().run(Graph([confirm]))).pause
    assert pause.value is None
    assert pause.values is None
    assert pause.output_params is None


def test_paused_result_holds_the_outputs_computed_before_the_pause() -> None:
    """HI5: a pause ends the run with status PAUSED and the values produced so far."""

    @node(output_name="draft")
    def make(query: str) -> str:
        return query * 2

    @interrupt(output_name="decision")
    def ask(draft: str) -> None:
        return None

    @node(output_name="final")
    def finish(decision: str) -> str:
        return decision

    result = asyncio.run(AsyncRunner().run(Graph([make, ask, finish]), {"query": "a"}))
    assert result.status == RunStatus.PAUSED
    assert result.paused
    assert dict(result.values) == {"draft": "aa"}


def test_redrive_with_every_answer_so_far_passes_two_interrupts() -> None:
    """HI10: resending the original values plus each answer so far walks through two interrupts."""

    @interrupt(output_name="first")
    def ask_first(query: str) -> None:
        return None

    @interrupt(output_name="second")
    def ask_second(first: str) -> None:
        return None

    @node(output_name="done")
    def finish(first: str, second: str) -> str:
        return f"{first}+{second}"

    graph = Graph([ask_first, ask_second, finish])
    runner = AsyncRunner()
    one = asyncio.run(runner.run(graph, {"query": "q"}))
    two = asyncio.run(runner.run(graph, {"query": "q", one.pause.response_key: "A"}))
    three = asyncio.run(
        runner.run(graph, {"query": "q", one.pause.response_key: "A", two.pause.response_key: "B"})
    )
    assert (one.pause.node_name, two.pause.node_name) == ("ask_first", "ask_second")
    assert two.pause.value == "A"
    assert three.status == RunStatus.COMPLETED
    assert three["done"] == "A+B"


# ---------------------------------------------------------------------------------------- EV


def test_cached_generator_miss_orders_start_miss_chunks_end(recorder: Any) -> None:
    """EV4/CA4: a cache-enabled generator on a miss emits NodeStart, CacheMiss, chunks, NodeEnd."""

    @node(output_name="tokens", cache=True)
    async def tokens(text: str):  # type: ignore[no-untyped-def]
        for word in text.split():
            yield word

    runner = AsyncRunner(cache=InMemoryCache())
    asyncio.run(runner.run(Graph([tokens]), {"text": "a b"}, event_processors=[recorder]))
    assert recorder.kinds("tokens") == [
        "NodeStartEvent",
        "CacheMissEvent",
        "StreamingChunkEvent",
        "StreamingChunkEvent",
        "NodeEndEvent",
    ]


def test_cached_generator_hit_replays_no_chunks(recorder: Any) -> None:
    """GN4/CA9: under AsyncRunner a generator cache hit emits no StreamingChunkEvent."""

    @node(output_name="tokens", cache=True)
    async def tokens(text: str):  # type: ignore[no-untyped-def]
        for word in text.split():
            yield word

    runner = AsyncRunner(cache=InMemoryCache())

    async def main() -> Any:
        await runner.run(Graph([tokens]), {"text": "a b"})
        return await runner.run(Graph([tokens]), {"text": "a b"}, event_processors=[recorder])

    assert asyncio.run(main())["tokens"] == ["a", "b"]
    assert recorder.kinds("tokens") == ["NodeStartEvent", "CacheHitEvent", "NodeEndEvent"]


def test_cached_gate_orders_lookup_before_route_decision(recorder: Any) -> None:
    """EV4: a cached gate emits NodeStart, CacheMiss/CacheHit, RouteDecision, NodeEnd."""

    @route(targets=["shout", END], cache=True)
    def pick(text: str) -> object:
        return "shout"

    @node(output_name="loud")
    def shout(text: str) -> str:
        return text.upper()

    runner = AsyncRunner(cache=InMemoryCache())

    async def main() -> None:
        for _ in range(2):
            await runner.run(Graph([pick, shout]), {"text": "hi"}, event_processors=[recorder])

    asyncio.run(main())
    assert recorder.kinds("pick") == [
        "NodeStartEvent",
        "CacheMissEvent",
        "RouteDecisionEvent",
        "NodeEndEvent",
        "NodeStartEvent",
        "CacheHitEvent",
        "RouteDecisionEvent",
        "NodeEndEvent",
    ]


def test_failing_node_emits_start_then_error_and_run_end_last(recorder: Any) -> None:
    """EV4/EV2: a failing async node emits NodeStart then NodeError (no NodeEnd); RunEnd is last."""

    @node(output_name="y")
    async def boom(x: int) -> int:
        raise ValueError("bad")

    result = asyncio.run(
        AsyncRunner().run(
            Graph([boom]), {"x": 1}, event_processors=[recorder], error_handling="continue"
        )
    )
    assert result.status == RunStatus.FAILED
    assert recorder.kinds("boom") == ["NodeStartEvent", "NodeErrorEvent"]
    (error,) = recorder.of(NodeErrorEvent)
    assert (error.error, error.error_type) == ("ValueError: bad", "ValueError")
    assert isinstance(recorder.events[-1], RunEndEvent)
    assert recorder.events[-1].error == "ValueError: bad"


def test_each_superstep_start_precedes_its_node_events(recorder: Any) -> None:
    """EV4: every NodeStart follows the SuperstepStart of its own run and superstep number."""

    @node(output_name="a")
    async def first(x: int) -> int:
        await asyncio.sleep(0)
        return x

    @node(output_name="b")
    async def second(x: int) -> int:
        return x

    @node(output_name="c")
    def third(a: int, b: int) -> int:
        return a + b

    inner = Graph([first, second], name="inner").as_node()
    asyncio.run(AsyncRunner().run(Graph([inner, third]), {"x": 1}, event_processors=[recorder]))
    current: dict[str, int] = {}
    for event in recorder.events:
        if isinstance(event, SuperstepStartEvent):
            current[event.run_id] = event.superstep
        elif isinstance(event, NodeStartEvent):
            assert current.get(event.run_id) == event.superstep, event.node_name


def test_concurrent_nodes_keep_their_own_event_order(recorder: Any) -> None:
    """EV4: interleaved concurrent nodes each still emit NodeStart, chunks, NodeEnd in that order."""

    def make(name: str, delay: float) -> FunctionNode:
        async def gen(x: int):  # type: ignore[no-untyped-def]
            for i in range(3):
                await asyncio.sleep(delay)
                yield i

        return FunctionNode(gen, name=name, output_name=f"{name}_out")

    graph = Graph([make("fast", 0.001), make("slow", 0.003)])
    asyncio.run(AsyncRunner().run(graph, {"x": 1}, event_processors=[recorder]))
    for name in ("fast", "slow"):
        assert recorder.kinds(name) == [
            "NodeStartEvent",
            *["StreamingChunkEvent"] * 3,
            "NodeEndEvent",
        ]
        chunks = [e for e in recorder.of(StreamingChunkEvent) if e.node_name == name]
        assert [c.index for c in chunks] == [0, 1, 2]


def test_nested_pause_ends_with_the_outer_paused_run_end(recorder: Any) -> None:
    """EV4/HI5: a nested pause emits InterruptEvent then RunEnds (inner, outer); the GraphNode never ends."""

    @interrupt(output_name="decision")
    def approval(draft: str) -> None:
        return None

    outer = Graph([Graph([approval], name="review").as_node()], name="app")
    asyncio.run(AsyncRunner().run(outer, {"draft": "d"}, event_processors=[recorder]))
    tail = [type(e).__name__ for e in recorder.events[-3:]]
    assert tail == ["InterruptEvent", "RunEndEvent", "RunEndEvent"]
    assert [e.status for e in recorder.of(RunEndEvent)] == [RunStatus.PAUSED, RunStatus.PAUSED]
    assert recorder.events[-1].graph_name == "app"
    assert recorder.kinds("review") == ["NodeStartEvent"]


def test_nested_map_spans_hang_under_the_graph_node(recorder: Any) -> None:
    """EV3: a mapped GraphNode's map run has the node span as parent; each item has the map span."""

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    outer = Graph([Graph([double], name="inner").as_node().map_over("x")], name="outer")
    asyncio.run(AsyncRunner().run(outer, {"x": [1, 2]}, event_processors=[recorder]))
    top, map_start, *items = recorder.of(RunStartEvent)
    gn_start = next(e for e in recorder.of(NodeStartEvent) if e.node_name == "inner")
    assert gn_start.parent_span_id == top.span_id
    assert (map_start.is_map, map_start.map_size) == (True, 2)
    assert map_start.parent_span_id == gn_start.span_id
    assert [i.parent_span_id for i in items] == [map_start.span_id] * 2
    assert sorted(i.item_index for i in items) == [0, 1]


def test_callers_parent_span_becomes_the_map_runs_parent(recorder: Any) -> None:
    """EV3: a caller-supplied parent_span_id is the parent of the map-level run span."""

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    asyncio.run(
        AsyncRunner().map(
            Graph([double]),
            {"x": [1]},
            map_over="x",
            event_processors=[recorder],
            parent_span_id="caller",
        )
    )
    map_start, item = recorder.of(RunStartEvent)
    assert map_start.parent_span_id == "caller"
    assert item.parent_span_id == map_start.span_id


def test_sync_runner_child_events_hang_under_the_graph_node_span(recorder: Any) -> None:
    """EV3/EV9: a SyncRunner child under AsyncRunner forwards its events, parented to the node span."""

    @node(output_name="y")
    def double(x: int) -> int:
        return 2 * x

    child = Graph([double], name="inner").as_node(runner=SyncRunner())
    asyncio.run(
        AsyncRunner().run(Graph([child], name="outer"), {"x": 1}, event_processors=[recorder])
    )
    top, inner = recorder.of(RunStartEvent)
    gn_start = next(e for e in recorder.of(NodeStartEvent) if e.node_name == "inner")
    assert inner.parent_span_id == gn_start.span_id
    assert inner.run_id != top.run_id
    assert recorder.kinds("double") == ["NodeStartEvent", "NodeEndEvent"]


@pytest.mark.parametrize("child_runner", [None, "async", "sync"])
def test_shutdown_once_for_a_nested_map(child_runner: str | None) -> None:
    """EV5: a mapped GraphNode (inherited, AsyncRunner or SyncRunner child) shuts processors down once."""

    @node(output_name="y")
    def double(x: int) -> int:
        return 2 * x

    runner = {None: None, "async": AsyncRunner(), "sync": SyncRunner()}[child_runner]
    gn = Graph([double], name="inner").as_node(runner=runner).map_over("x")
    processor = CountingShutdown()
    result = asyncio.run(
        AsyncRunner().run(Graph([gn], name="outer"), {"x": [1, 2, 3]}, event_processors=[processor])
    )
    assert result["y"] == [2, 4, 6]
    assert sum(isinstance(e, RunStartEvent) for e in processor.events) == 5
    assert processor.shutdowns == 1


def test_shutdown_once_for_a_map_of_a_nested_graph() -> None:
    """EV5: a top-level map whose items run a nested graph shuts processors down exactly once."""

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    processor = CountingShutdown()
    graph = Graph([Graph([double], name="inner").as_node()], name="outer")
    asyncio.run(AsyncRunner().map(graph, {"x": [1, 2]}, map_over="x", event_processors=[processor]))
    assert processor.shutdowns == 1


def test_shutdown_once_when_the_run_fails() -> None:
    """EV5: a run that raises still shuts its processors down exactly once."""

    @node(output_name="y")
    async def boom(x: int) -> int:
        raise RuntimeError("no")

    processor = CountingShutdown()
    outer = Graph([Graph([boom], name="inner").as_node()], name="outer")
    with pytest.raises(RuntimeError):
        asyncio.run(AsyncRunner().run(outer, {"x": 1}, event_processors=[processor]))
    assert processor.shutdowns == 1


def test_shutdown_once_for_iter() -> None:
    """EV5/GN7: a user processor passed to iter() is shut down once after the run."""

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    processor = CountingShutdown()

    async def main() -> None:
        async for _ in AsyncRunner().iter(Graph([double]), {"x": 1}, event_processors=[processor]):
            pass

    asyncio.run(main())
    assert processor.shutdowns == 1


def test_plain_processor_typed_hooks_for_interrupt_and_chunk_events() -> None:
    """EV5: the base on_event dispatches to on_interrupt and on_streaming_chunk under AsyncRunner."""
    seen: list[str] = []

    class P(EventProcessor):
        def on_streaming_chunk(self, event: Any) -> None:
            seen.append(f"chunk:{event.chunk}")

        def on_interrupt(self, event: Any) -> None:
            seen.append(f"interrupt:{event.node_name}")

    @node(output_name="draft")
    async def write(q: str):  # type: ignore[no-untyped-def]
        yield q

    @interrupt(output_name="decision")
    def approve(draft: list[str]) -> None:
        return None

    asyncio.run(AsyncRunner().run(Graph([write, approve]), {"q": "x"}, event_processors=[P()]))
    assert seen == ["chunk:x", "interrupt:approve"]


def test_raising_async_processor_is_logged_and_the_run_is_unaffected(
    caplog: pytest.LogCaptureFixture, recorder: Any
) -> None:
    """EV7: an AsyncEventProcessor whose hooks raise is logged and skipped; the run completes."""

    class Broken(AsyncEventProcessor):
        async def on_event_async(self, event: Any) -> None:
            raise RuntimeError("processor bug")

        async def shutdown_async(self) -> None:
            raise RuntimeError("shutdown bug")

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    with caplog.at_level(logging.WARNING, logger="hypergraph"):
        result = asyncio.run(
            AsyncRunner().run(Graph([double]), {"x": 1}, event_processors=[Broken(), recorder])
        )
    assert result["y"] == 2
    assert isinstance(recorder.events[-1], RunEndEvent)
    assert sum(r.levelno == logging.WARNING for r in caplog.records) >= 2


def test_map_run_end_reports_the_aggregate_failed_status(recorder: Any) -> None:
    """EV8: in continue mode the map-level RunEndEvent carries FAILED when one item failed."""

    @node(output_name="y")
    async def maybe(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    result = asyncio.run(
        AsyncRunner().map(
            Graph([maybe]),
            {"x": [1, 2, 3]},
            map_over="x",
            error_handling="continue",
            event_processors=[recorder],
        )
    )
    assert result.status == RunStatus.FAILED
    final = recorder.events[-1]
    assert isinstance(final, RunEndEvent)
    assert final.status == RunStatus.FAILED
    assert final.span_id == recorder.of(RunStartEvent)[0].span_id
    item_ends = recorder.of(RunEndEvent)[:-1]
    assert sorted(e.status.value for e in item_ends) == ["completed", "completed", "failed"]


# ---------------------------------------------------------------------------------------- GN7


def test_iter_over_a_nested_graph_continues_past_the_child_run_end() -> None:
    """GN7: iter yields every event and ends with the top run's RunEndEvent, not the child's."""

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    @node(output_name="z")
    def inc(y: int) -> int:
        return y + 1

    outer = Graph([Graph([double], name="inner").as_node(), inc], name="outer")

    async def main() -> tuple[list[Any], Any]:
        stream = AsyncRunner().iter(outer, {"x": 1})
        events = [e async for e in stream]
        return events, stream.result

    events, result = asyncio.run(main())
    assert result["z"] == 3
    assert sum(isinstance(e, RunEndEvent) for e in events) == 2
    assert isinstance(events[-1], RunEndEvent) and events[-1].graph_name == "outer"
    assert any(isinstance(e, NodeEndEvent) and e.node_name == "inc" for e in events)


def test_iter_over_a_paused_run_ends_with_a_paused_run_end() -> None:
    """GN7/HI5: iterating a run that pauses yields InterruptEvent, then RunEnd(paused); result has the pause."""

    @interrupt(output_name="decision")
    def approval(draft: str) -> None:
        return None

    async def main() -> tuple[list[Any], Any]:
        stream = AsyncRunner().iter(Graph([approval]), {"draft": "d"})
        events = [e async for e in stream]
        return events, stream.result

    events, result = asyncio.run(main())
    assert [type(e).__name__ for e in events[-2:]] == ["InterruptEvent", "RunEndEvent"]
    assert isinstance(events[-2], InterruptEvent)
    assert events[-1].status == RunStatus.PAUSED
    assert result.status == RunStatus.PAUSED
    assert result.pause.response_key == "decision"


# ---------------------------------------------------------------------------------------- CA8


DELEGATED_CALLS: list[str] = []


def test_delegated_async_runner_uses_its_own_cache_not_the_parents() -> None:
    """CA8/R12: as_node(runner=r) caches in r's backend; the parent's backend stays empty."""
    calls = DELEGATED_CALLS  # module-level: a closure's list would be part of the cache key
    calls.clear()

    @node(output_name="y", cache=True)
    async def expensive(x: int) -> int:
        DELEGATED_CALLS.append("call")
        return x * 10

    own = InMemoryCache()
    parent_cache = InMemoryCache()
    child = Graph([expensive], name="child").as_node(runner=AsyncRunner(cache=own))
    graph = Graph([child], name="outer")
    parent = AsyncRunner(cache=parent_cache)

    async def main() -> None:
        await parent.run(graph, {"x": 1})
        await AsyncRunner().run(graph, {"x": 1})

    asyncio.run(main())
    assert calls == ["call"]
    assert len(parent_cache) == 0


def test_delegated_runner_without_a_cache_does_not_use_the_parents() -> None:
    """CA8/R12: a child on an uncached AsyncRunner is not cached even if the parent has a backend."""
    calls: list[str] = []

    @node(output_name="y", cache=True)
    async def expensive(x: int) -> int:
        calls.append("call")
        return x * 10

    child = Graph([expensive], name="child").as_node(runner=AsyncRunner())
    parent = AsyncRunner(cache=InMemoryCache())

    async def main() -> None:
        for _ in range(2):
            await parent.run(Graph([child], name="outer"), {"x": 1})

    asyncio.run(main())
    assert calls == ["call", "call"]


def test_cache_hit_node_end_is_cached_with_zero_duration(recorder: Any) -> None:
    """CA4: under AsyncRunner a hit ends with NodeEnd(cached=True, duration_ms=0.0), a miss with cached=False."""

    @node(output_name="y", cache=True)
    async def slow(x: int) -> int:
        await asyncio.sleep(0.01)
        return x

    runner = AsyncRunner(cache=InMemoryCache())

    async def main() -> None:
        for _ in range(2):
            await runner.run(Graph([slow]), {"x": 1}, event_processors=[recorder])

    asyncio.run(main())
    miss, hit = recorder.of(NodeEndEvent)
    assert miss.cached is False and miss.duration_ms > 0
    assert hit.cached is True and hit.duration_ms == 0.0


# ---------------------------------------------------------------------------------------- R14/EV


def test_async_runner_child_under_sync_runner_forwards_events_under_the_node_span() -> None:
    """EV3/EV5/EV9: an AsyncRunner child of a SyncRunner parent reports under the node span; one shutdown."""

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    processor = CountingShutdown()
    child = Graph([double], name="inner").as_node(runner=AsyncRunner())
    result = SyncRunner().run(Graph([child], name="outer"), {"x": 1}, event_processors=[processor])
    assert result["y"] == 2
    top, inner = [e for e in processor.events if isinstance(e, RunStartEvent)]
    gn_start = next(
        e for e in processor.events if isinstance(e, NodeStartEvent) and e.node_name == "inner"
    )
    assert inner.parent_span_id == gn_start.span_id
    assert inner.run_id != top.run_id
    assert kinds_of(processor.events, "double") == ["NodeStartEvent", "NodeEndEvent"]
    assert processor.shutdowns == 1


def test_interrupt_in_a_delegated_async_runner_child_pauses_and_resumes() -> None:
    """HI6/R12: a child on an explicit AsyncRunner pauses the parent with the dotted key, which resumes it."""

    @interrupt(output_name="decision")
    def ask(draft: str) -> None:
        return None

    graph = Graph([Graph([ask], name="review").as_node(runner=AsyncRunner())], name="app")
    runner = AsyncRunner()
    paused = asyncio.run(runner.run(graph, {"draft": "d"}))
    assert (paused.pause.node_name, paused.pause.response_key) == ("review/ask", "review.decision")
    resumed = asyncio.run(runner.run(graph, {"draft": "d", "review.decision": "ok"}))
    assert resumed.status == RunStatus.COMPLETED
    assert resumed["decision"] == "ok"


def test_namespaced_nested_interrupt_resumes_with_its_response_key() -> None:
    """HI3/HI6: pause.response_key ("review.decision") is an accepted runtime key that resumes the run."""

    @interrupt(output_name="decision")
    def ask(draft: str) -> None:
        return None

    graph = Graph([Graph([ask], name="review").as_node(namespaced=True)], name="app")
    runner = AsyncRunner()
    paused = asyncio.run(runner.run(graph, {"review.draft": "d"}))
    assert paused.pause.response_key == "review.decision"
    resumed = asyncio.run(runner.run(graph, {"review.draft": "d", "review.decision": "yes"}))
    assert resumed.status == RunStatus.COMPLETED




def test_dotted_answer_used_at_a_first_visit_then_a_second_pause_is_an_answer_error() -> None:
    """HI2/HI9: an answer is used at one visit; a later pause of that interrupt raises, and the
    error's checkpoint still continues the paused run."""
    seen: list[str] = []

    @node(output_name="draft")
    def write(query: str, decision: str = "") -> str:
        return f"{query}:{decision}"

    @interrupt(output_name="decision")
    def ask(draft: str) -> None:
        seen.append(draft)
        return None

    graph = Graph([write, Graph([ask], name="review").as_node()], entrypoint="write")
    with pytest.raises(InterruptAnswerError, match=r"checkpoint=error\.checkpoint") as caught:
        asyncio.run(AsyncRunner().run(graph, {"query": "q", "review.decision": "yes"}))

    assert seen == ["q:yes"]
    assert caught.value.result.status == RunStatus.PAUSED
    assert caught.value.checkpoint is not None


def test_every_map_item_emits_its_own_run_start_and_end_even_when_it_fails_validation() -> None:
    """EV8: every item emits its own RunStart/RunEnd (is_map=False), also a FAILED one."""

    @node(output_name="s")
    def add(x: int, y: int) -> int:
        return x + y

    recorder = CountingShutdown()
    SyncRunner().map(
        Graph([add]), {"x": [1, 2]}, map_over="x", error_handling="continue",
        event_processors=[recorder],
    )
    item_starts = [e for e in recorder.events if isinstance(e, RunStartEvent) and not e.is_map]

    assert len(item_starts) == 2


def test_iter_delivers_a_sync_runner_childs_events_while_the_child_still_runs() -> None:
    """GN7/R14: a SyncRunner child's events (emitted in its worker thread) reach iter() at once."""
    released = threading.Event()

    @node(output_name="y")
    def first(x: int) -> int:
        return x + 1

    @node(output_name="z")
    def second(y: int) -> bool:
        # waits for the consumer to see first's NodeEnd; times out if events are held back
        return released.wait(timeout=5)

    child = Graph([first, second], name="child").as_node(runner=SyncRunner())

    async def main() -> Any:
        events = AsyncRunner().iter(Graph([child], name="outer"), {"x": 1})
        async for event in events:
            if isinstance(event, NodeEndEvent) and event.node_name == "first":
                released.set()
        return events.result

    assert asyncio.run(main())["z"] is True
