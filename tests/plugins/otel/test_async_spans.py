"""OpenTelemetryProcessor under concurrency: AsyncRunner, ``asyncio.gather`` and ``to_thread``."""

from __future__ import annotations

import asyncio
import threading

from opentelemetry.sdk.trace import ReadableSpan

from hypergraph import AsyncRunner, Graph, RunStatus, SyncRunner, interrupt, node
from hypergraph.events import RunEndEvent, RunStartEvent


@node(output_name="doubled")
async def double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


@node(output_name="tripled")
async def triple(x: int) -> int:
    await asyncio.sleep(0)
    return x * 3


@node(output_name="doubled")
def double_sync(x: int) -> int:
    return x * 2


def attrs_of(span: ReadableSpan) -> dict:
    return dict(span.attributes or {})


def test_concurrent_map_items_keep_their_own_node_spans(tracing):
    """Items running concurrently each hold exactly their own node span."""
    graph = Graph([double], name="double_all")
    asyncio.run(
        AsyncRunner().map(
            graph, {"x": list(range(8))}, map_over="x", event_processors=[tracing.processor()]
        )
    )
    tree = tracing.tree()
    (root,) = tree.roots()
    items = tree.children(root)
    assert len(items) == 8
    for item in items:
        (child,) = tree.children(item)
        assert child.name == "double"
        assert attrs_of(child)["hypergraph.item_index"] == attrs_of(item)["hypergraph.item_index"]


def test_nodes_run_together_are_siblings_under_the_run(tracing):
    """Two nodes of one superstep, awaited together, are both children of the run span."""
    asyncio.run(
        AsyncRunner().run(
            Graph([double, triple], name="both"), {"x": 1}, event_processors=[tracing.processor()]
        )
    )
    tree = tracing.tree()
    assert sorted(s.name for s in tree.children(tree.named("both"))) == ["double", "triple"]


def test_gathered_runs_each_continue_their_callers_trace(tracing):
    """Runs started by concurrent tasks are parented on each task's own current span."""
    tracer = tracing.provider.get_tracer("web")
    processor = tracing.processor()

    async def request(name: str, x: int) -> None:
        with tracer.start_as_current_span(name):
            await AsyncRunner().run(
                Graph([double], name=f"graph-{name}"), {"x": x}, event_processors=[processor]
            )

    async def serve() -> None:
        await asyncio.gather(request("a", 1), request("b", 2))

    asyncio.run(serve())
    tree = tracing.tree()
    for name in ("a", "b"):
        assert tree.named(f"graph-{name}").parent.span_id == tree.named(name).context.span_id


def test_run_in_a_worker_thread_keeps_the_callers_span(tracing):
    """A SyncRunner run moved to ``asyncio.to_thread`` still continues the caller's trace."""
    tracer = tracing.provider.get_tracer("web")

    async def handler() -> None:
        with tracer.start_as_current_span("GET /double"):
            await asyncio.to_thread(
                SyncRunner().run,
                Graph([double_sync], name="threaded"),
                {"x": 1},
                event_processors=[tracing.processor()],
            )

    asyncio.run(handler())
    tree = tracing.tree()
    assert tree.named("threaded").parent.span_id == tree.named("GET /double").context.span_id


def test_pause_is_an_event_on_the_interrupt_span_and_ends_the_run(tracing):
    """A pausing interrupt records ``hypergraph.pause``; its span and the run end as ``paused``."""

    @interrupt(output_name="decision")
    def review(draft: str) -> None:
        return None

    result = asyncio.run(
        AsyncRunner().run(
            Graph([review], name="approval"),
            {"draft": "hello"},
            event_processors=[tracing.processor()],
        )
    )
    assert result.status == RunStatus.PAUSED
    tree = tracing.tree()
    assert tree.shape(tree.named("approval")) == ("approval", [("review", [])])
    (event,) = tree.named("review").events
    assert event.name == "hypergraph.pause"
    assert dict(event.attributes or {}) == {
        "hypergraph.node_name": "review",
        "hypergraph.response_param": "decision",
    }
    assert attrs_of(tree.named("approval"))["hypergraph.run.outcome"] == "paused"
    assert attrs_of(tree.named("review"))["hypergraph.run.outcome"] == "paused"


@node(output_name="waited")
async def wait_a_bit(x: int) -> int:
    await asyncio.sleep(0.05)
    return x


@node(output_name="after")
async def after_wait(waited: int) -> int:
    return waited + 1


def _runs_and_their_nodes(tree, run_names: tuple[str, ...]) -> None:
    """Each run span completed and every node span hangs directly under its own run's span."""
    runs = {name: tree.named(name) for name in run_names}
    for run in runs.values():
        assert attrs_of(run)["hypergraph.run.outcome"] == "completed"
    nodes = [s for s in tree.spans if attrs_of(s)["hypergraph.span.role"] == "node"]
    assert nodes
    for span in nodes:
        own_run = runs[attrs_of(span)["hypergraph.graph_name"]]
        assert span.parent is not None
        assert span.parent.span_id == own_run.context.span_id, span.name
    assert sorted(s.name for s in tree.roots()) == sorted(run_names)


def test_concurrent_top_level_runs_sharing_a_processor_keep_their_spans(tracing):
    """The first run's shutdown ends nothing of a run still going on the same processor."""
    processor = tracing.processor()
    runner = AsyncRunner()

    async def both() -> None:
        await asyncio.gather(
            runner.run(
                Graph([wait_a_bit, after_wait], name="slow"), {"x": 1}, event_processors=[processor]
            ),
            runner.run(Graph([double], name="fast"), {"x": 1}, event_processors=[processor]),
        )

    asyncio.run(both())
    tree = tracing.tree()
    _runs_and_their_nodes(tree, ("slow", "fast"))
    assert tree.shape(tree.named("slow")) == ("slow", [("wait_a_bit", []), ("after_wait", [])])
    assert "hypergraph.run.outcome" not in attrs_of(tree.named("wait_a_bit"))


def test_runs_in_two_threads_sharing_a_processor_keep_their_spans(tracing):
    """A SyncRunner run finishing in one thread leaves another thread's run untouched."""
    started, release = threading.Event(), threading.Event()

    @node(output_name="waited")
    def hold(x: int) -> int:
        started.set()
        assert release.wait(timeout=10)
        return x

    @node(output_name="after")
    def after_hold(waited: int) -> int:
        return waited + 1

    processor = tracing.processor()
    worker = threading.Thread(
        target=SyncRunner().run,
        args=(Graph([hold, after_hold], name="held"), {"x": 1}),
        kwargs={"event_processors": [processor]},
    )
    worker.start()
    assert started.wait(timeout=10)
    SyncRunner().run(Graph([double_sync], name="quick"), {"x": 1}, event_processors=[processor])
    release.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    _runs_and_their_nodes(tracing.tree(), ("held", "quick"))


def test_an_interrupted_runs_shutdown_ends_only_its_own_spans(tracing):
    """A run that never reported its end is ended by its own shutdown, not by another's."""
    processor = tracing.processor()

    async def interrupted(cut_done: asyncio.Event) -> None:
        processor.on_event(RunStartEvent(run_id="a", span_id="a", timestamp=1.0, graph_name="cut"))
        processor.shutdown_run("a")  # no RunEndEvent: a KeyboardInterrupt or a cancellation
        cut_done.set()

    async def going(cut_done: asyncio.Event) -> None:
        processor.on_event(
            RunStartEvent(run_id="b", span_id="b", timestamp=1.0, graph_name="going")
        )
        await cut_done.wait()
        assert [s.name for s in tracing.tree().spans] == ["cut"]
        processor.on_event(
            RunEndEvent(
                run_id="b",
                span_id="b",
                timestamp=2.0,
                graph_name="going",
                status=RunStatus.COMPLETED,
                duration_ms=1000.0,
            )
        )
        processor.shutdown_run("b")

    async def both() -> None:
        cut_done = asyncio.Event()
        await asyncio.gather(going(cut_done), interrupted(cut_done))

    asyncio.run(both())
    tree = tracing.tree()
    assert attrs_of(tree.named("cut"))["hypergraph.run.outcome"] == "unfinished"
    assert attrs_of(tree.named("going"))["hypergraph.run.outcome"] == "completed"


def test_concurrent_async_nodes_each_parent_their_own_inner_spans(tracing):
    """Under gather, a span opened inside each async node is a child of that node's span."""
    import asyncio as _asyncio

    from hypergraph import AsyncRunner, Graph, node

    tracer = tracing.provider.get_tracer("user-code")

    @node(output_name="a")
    async def left(x: int) -> int:
        with tracer.start_as_current_span("left.inner"):
            await _asyncio.sleep(0.01)
        return x

    @node(output_name="b")
    async def right(x: int) -> int:
        with tracer.start_as_current_span("right.inner"):
            await _asyncio.sleep(0.01)
        return x

    _asyncio.run(
        AsyncRunner().run(
            Graph([left, right], name="pair"), {"x": 1}, event_processors=[tracing.processor()]
        )
    )
    tree = tracing.tree()
    assert tree.named("left.inner").parent.span_id == tree.named("left").context.span_id
    assert tree.named("right.inner").parent.span_id == tree.named("right").context.span_id



def no_span_is_current() -> bool:
    from opentelemetry import trace

    return not trace.get_current_span().get_span_context().is_valid


def test_a_stopped_runs_shutdown_detaches_its_node_while_another_run_is_open(tracing):
    """KeyboardInterrupt in a node: that run's own shutdown restores this thread's context."""
    import pytest

    processor = tracing.processor()
    started, release = threading.Event(), threading.Event()

    @node(output_name="waited")
    def hold(x: int) -> int:
        started.set()
        assert release.wait(timeout=10)
        return x

    @node(output_name="y")
    def interrupted(x: int) -> int:
        raise KeyboardInterrupt

    worker = threading.Thread(
        target=SyncRunner().run,
        args=(Graph([hold], name="held"), {"x": 1}),
        kwargs={"event_processors": [processor]},
    )
    worker.start()
    assert started.wait(timeout=10)
    try:
        with pytest.raises(KeyboardInterrupt):
            SyncRunner().run(
                Graph([interrupted], name="stopped"), {"x": 1}, event_processors=[processor]
            )
        current_after_stop = not no_span_is_current()
        held_open = "held" not in [s.name for s in tracing.tree().spans]
    finally:
        release.set()
        worker.join(timeout=10)
    assert not current_after_stop  # the node's context did not outlive its run
    assert held_open  # the other run was still open meanwhile
    tree = tracing.tree()
    assert attrs_of(tree.named("held"))["hypergraph.run.outcome"] == "completed"
    assert attrs_of(tree.named("interrupted"))["hypergraph.run.outcome"] == "unfinished"


def test_shutdown_run_from_another_thread_ends_that_run_only(tracing):
    """Pairing is by run id: a run's shutdown may come from any thread and ends only that run."""
    processor = tracing.processor()
    processor.on_event(RunStartEvent(run_id="a", span_id="a", timestamp=1.0, graph_name="cut"))
    processor.on_event(RunStartEvent(run_id="b", span_id="b", timestamp=1.0, graph_name="going"))
    closer = threading.Thread(target=processor.shutdown_run, args=("a",))
    closer.start()
    closer.join(timeout=10)
    assert [s.name for s in tracing.tree().spans] == ["cut"]
    processor.shutdown_run("b")
    assert attrs_of(tracing.tree().named("going"))["hypergraph.run.outcome"] == "unfinished"


def test_spans_opened_in_thread_pool_nodes_parent_on_their_node(tracing):
    """ThreadPoolRunner nodes run in pool threads; each one's inner span hangs under its node."""
    from hypergraph import ThreadPoolRunner

    tracer = tracing.provider.get_tracer("user-code")
    barrier = threading.Barrier(2, timeout=10)

    @node(output_name="a")
    def left(x: int) -> int:
        with tracer.start_as_current_span("left.inner"):
            barrier.wait()
        return x

    @node(output_name="b")
    def right(x: int) -> int:
        with tracer.start_as_current_span("right.inner"):
            barrier.wait()
        return x

    ThreadPoolRunner().run(Graph([left, right], name="pair"), {"x": 1}, event_processors=[tracing.processor()])
    tree = tracing.tree()
    assert tree.named("left.inner").parent.span_id == tree.named("left").context.span_id
    assert tree.named("right.inner").parent.span_id == tree.named("right").context.span_id
    assert no_span_is_current()
