"""OpenTelemetryProcessor under concurrency: AsyncRunner, ``asyncio.gather`` and ``to_thread``."""

from __future__ import annotations

import asyncio

from opentelemetry.sdk.trace import ReadableSpan

from hypergraph import AsyncRunner, Graph, RunStatus, SyncRunner, interrupt, node


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
            Graph([review], name="approval"), {"draft": "hello"},
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
