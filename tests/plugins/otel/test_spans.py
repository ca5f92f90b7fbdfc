"""OpenTelemetryProcessor with SyncRunner: the span tree, attributes, events and statuses (EV12)."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from hypergraph import END, Graph, NodeStartEvent, RunStartEvent, SyncRunner, node, route
from hypergraph.events import OpenTelemetryProcessor


@node(output_name="doubled")
def double(x: int) -> int:
    if x < 0:
        raise ValueError("negative input")
    return x * 2


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


inner = Graph([double], name="inner")
outer = Graph([inner.as_node(), add_one], name="outer")


def attrs_of(span: ReadableSpan) -> dict:
    return dict(span.attributes or {})


def test_from_hypergraph_events_resolves_the_plugin_class():
    """``from hypergraph.events import OpenTelemetryProcessor`` is this package's class."""
    from hypergraph_otel.processor import OpenTelemetryProcessor as Implementation

    assert OpenTelemetryProcessor is Implementation


def test_nested_run_spans_nest_run_node_child_run_child_node(tracing):
    """A nested graph's run span sits under its GraphNode's span, its nodes under it."""
    SyncRunner().run(outer, {"x": 1}, event_processors=[tracing.processor()])
    tree = tracing.tree()
    (root,) = tree.roots()
    assert tree.shape(root) == (
        "outer",
        [("inner", [("inner", [("double", [])])]), ("add_one", [])],
    )


def test_map_spans_nest_map_items_and_nodes(tracing):
    """A map span holds one ``<graph>.item`` span per item, each holding that item's nodes."""
    SyncRunner().map(inner, {"x": [1, 2]}, map_over="x", event_processors=[tracing.processor()])
    tree = tracing.tree()
    (root,) = tree.roots()
    assert tree.shape(root) == (
        "inner",
        [("inner.item", [("double", [])]), ("inner.item", [("double", [])])],
    )
    assert [attrs_of(s)["hypergraph.item_index"] for s in tree.children(root)] == [0, 1]


def test_span_roles_and_map_attributes(tracing):
    """Maps, item runs and nodes carry ``hypergraph.span.role`` and the map's size."""
    SyncRunner().map(inner, {"x": [1, 2, 3]}, map_over="x", event_processors=[tracing.processor()])
    tree = tracing.tree()
    (root,) = tree.roots()
    item = tree.children(root)[0]
    node_span = tree.children(item)[0]
    assert attrs_of(root)["hypergraph.span.role"] == "map"
    assert attrs_of(root)["hypergraph.is_map"] is True
    assert attrs_of(root)["hypergraph.map_size"] == 3
    assert attrs_of(item)["hypergraph.span.role"] == "graph"
    assert attrs_of(node_span)["hypergraph.span.role"] == "node"


def test_run_span_attributes_name_the_run(tracing):
    """A run span carries its run id, workflow id, graph name, duration and outcome."""
    result = SyncRunner().run(
        outer, {"x": 1}, workflow_id="wf-7", event_processors=[tracing.processor()]
    )
    attributes = attrs_of(tracing.tree().named("outer"))
    assert attributes["hypergraph.run_id"] == result.run_id
    assert attributes["hypergraph.workflow_id"] == "wf-7"
    assert attributes["hypergraph.graph_name"] == "outer"
    assert attributes["hypergraph.run.outcome"] == "completed"
    assert attributes["hypergraph.duration_ms"] >= 0


def test_node_span_attributes_name_the_node(tracing):
    """A node span carries its node and graph names, superstep, duration and cached flag."""
    SyncRunner().run(outer, {"x": 1}, event_processors=[tracing.processor()])
    attributes = attrs_of(tracing.tree().named("add_one"))
    assert attributes["hypergraph.node_name"] == "add_one"
    assert attributes["hypergraph.graph_name"] == "outer"
    assert attributes["hypergraph.superstep"] == 1
    assert attributes["hypergraph.cached"] is False
    assert attributes["hypergraph.duration_ms"] >= 0


def test_unnamed_graph_span_is_called_graph(tracing):
    """A run of a graph without a name is a span called ``graph``."""
    SyncRunner().run(Graph([double]), {"x": 1}, event_processors=[tracing.processor()])
    assert [s.name for s in tracing.tree().roots()] == ["graph"]


def test_failing_node_sets_error_status_and_records_an_exception_event(tracing):
    """Under ``error_handling="continue"`` the node span is ERROR with an ``exception`` event."""
    SyncRunner().run(
        inner, {"x": -1}, error_handling="continue", event_processors=[tracing.processor()]
    )
    span = tracing.tree().named("double")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: negative input"
    (event,) = span.events
    assert event.name == "exception"
    assert dict(event.attributes or {}) == {
        "exception.type": "ValueError",
        "exception.message": "negative input",
    }


def test_failed_run_has_outcome_failed_and_error_status(tracing):
    """The run around a failing node ends with outcome ``failed`` and status ERROR."""
    SyncRunner().run(
        inner, {"x": -1}, error_handling="continue", event_processors=[tracing.processor()]
    )
    span = tracing.tree().named("inner")
    assert attrs_of(span)["hypergraph.run.outcome"] == "failed"
    assert span.status.status_code is StatusCode.ERROR


def test_map_with_a_failed_item_marks_only_that_item_and_the_map(tracing):
    """One failing item makes its item span and the map span ERROR; the other item stays UNSET."""
    SyncRunner().map(
        inner,
        {"x": [1, -1]},
        map_over="x",
        error_handling="continue",
        event_processors=[tracing.processor()],
    )
    tree = tracing.tree()
    (root,) = tree.roots()
    ok, bad = tree.children(root)
    assert [ok.status.status_code, bad.status.status_code, root.status.status_code] == [
        StatusCode.UNSET,
        StatusCode.ERROR,
        StatusCode.ERROR,
    ]


def test_route_decision_is_an_event_on_the_gate_span(tracing):
    """A gate's decision is a ``hypergraph.route.decision`` event on the gate node's span."""

    @route(targets=["add_one", END])
    def decide(doubled: int) -> object:
        return "add_one" if doubled > 0 else END

    SyncRunner().run(
        Graph([double, decide, add_one]), {"x": 1}, event_processors=[tracing.processor()]
    )
    (event,) = tracing.tree().named("decide").events
    assert event.name == "hypergraph.route.decision"
    assert dict(event.attributes or {}) == {
        "hypergraph.node_name": "decide",
        "hypergraph.decision": "add_one",
    }


def test_superstep_starts_are_events_on_the_run_span(tracing):
    """Each superstep start is a ``hypergraph.superstep.start`` event on its run's span."""
    SyncRunner().run(outer, {"x": 1}, event_processors=[tracing.processor()])
    events = tracing.tree().named("outer").events
    assert [(e.name, dict(e.attributes or {})) for e in events] == [
        ("hypergraph.superstep.start", {"hypergraph.superstep": 0}),
        ("hypergraph.superstep.start", {"hypergraph.superstep": 1}),
    ]


def test_callers_current_span_becomes_the_run_spans_parent(tracing):
    """Run inside a caller's span (a web request), the graph's trace continues that trace."""
    tracer = tracing.provider.get_tracer("web")
    with tracer.start_as_current_span("GET /ingest") as request:
        SyncRunner().run(outer, {"x": 1}, event_processors=[tracing.processor()])
    run = tracing.tree().named("outer")
    assert run.parent is not None
    assert run.parent.span_id == request.get_span_context().span_id
    assert run.context.trace_id == request.get_span_context().trace_id


def test_parent_context_option_overrides_the_current_span(tracing):
    """``parent_context=`` parents top-level runs on that context instead of the current one."""
    from opentelemetry import trace

    tracer = tracing.provider.get_tracer("web")
    with tracer.start_as_current_span("job") as job:
        context = trace.set_span_in_context(job)
    with tracer.start_as_current_span("unrelated"):
        SyncRunner().run(
            inner, {"x": 1}, event_processors=[tracing.processor(parent_context=context)]
        )
    assert tracing.tree().named("inner").parent.span_id == job.get_span_context().span_id


def test_without_a_current_span_the_run_starts_a_new_trace(tracing):
    """Outside any span the top-level run span is a root."""
    SyncRunner().run(inner, {"x": 1}, event_processors=[tracing.processor()])
    assert [s.name for s in tracing.tree().roots()] == ["inner"]


def test_success_status_is_left_unset_by_default(tracing):
    """By default completed runs and nodes keep status UNSET, as OTel recommends for libraries."""
    SyncRunner().run(inner, {"x": 1}, event_processors=[tracing.processor()])
    assert {s.status.status_code for s in tracing.tree().spans} == {StatusCode.UNSET}


def test_set_success_status_marks_completed_runs_and_nodes_ok(tracing):
    """With ``set_success_status=True`` completed runs and nodes are OK."""
    SyncRunner().run(inner, {"x": 1}, event_processors=[tracing.processor(set_success_status=True)])
    assert {s.status.status_code for s in tracing.tree().spans} == {StatusCode.OK}


def test_extra_attributes_are_on_every_span(tracing):
    """``extra_attributes`` are copied onto every span the processor opens."""
    SyncRunner().run(
        outer,
        {"x": 1},
        event_processors=[tracing.processor(extra_attributes={"service.component": "rag"})],
    )
    assert {attrs_of(s)["service.component"] for s in tracing.tree().spans} == {"rag"}


def test_spans_use_the_given_tracer_name(tracing):
    """Spans belong to the instrumentation scope named by ``tracer_name``."""
    SyncRunner().run(
        inner, {"x": 1}, event_processors=[tracing.processor(tracer_name="my.service")]
    )
    assert {s.instrumentation_scope.name for s in tracing.tree().spans} == {"my.service"}


def test_span_times_come_from_the_events(tracing):
    """A span starts at its start event's timestamp, so late delivery keeps real timings."""
    processor = tracing.processor()
    processor.on_event(RunStartEvent(run_id="r", span_id="run", timestamp=100.0, graph_name="g"))
    processor.shutdown()
    assert tracing.tree().named("g").start_time == 100_000_000_000


def test_shutdown_ends_spans_left_open_as_unfinished(tracing):
    """Spans whose end never arrived are ended by ``shutdown()``, marked ``unfinished``."""
    processor = tracing.processor()
    processor.on_event(RunStartEvent(run_id="r", span_id="run", timestamp=1.0, graph_name="g"))
    processor.on_event(
        NodeStartEvent(
            run_id="r",
            span_id="n",
            parent_span_id="run",
            timestamp=2.0,
            node_name="step",
            graph_name="g",
        )
    )
    processor.shutdown()
    tree = tracing.tree()
    assert tree.shape(tree.named("g")) == ("g", [("step", [])])
    assert [attrs_of(tree.named(n))["hypergraph.run.outcome"] for n in ("g", "step")] == [
        "unfinished",
        "unfinished",
    ]


def test_one_processor_traces_consecutive_runs_as_separate_traces(tracing):
    """Reusing a processor for two runs gives two independent root spans."""
    processor = tracing.processor()
    SyncRunner().run(inner, {"x": 1}, event_processors=[processor])
    SyncRunner().run(inner, {"x": 2}, event_processors=[processor])
    roots = tracing.tree().roots()
    assert len(roots) == 2
    assert roots[0].context.trace_id != roots[1].context.trace_id


def test_cache_hit_is_an_event_on_the_node_span_marked_cached(tracing):
    """A cache hit adds ``hypergraph.cache.hit`` to the node span, whose ``cached`` is True."""
    from hypergraph import InMemoryCache

    @node(output_name="tripled", cache=True)
    def triple(x: int) -> int:
        return x * 3

    runner = SyncRunner(cache=InMemoryCache())
    runner.run(Graph([triple], name="warm"), {"x": 2})
    runner.run(Graph([triple], name="hit"), {"x": 2}, event_processors=[tracing.processor()])
    span = tracing.tree().named("triple")
    assert [e.name for e in span.events] == ["hypergraph.cache.hit"]
    assert attrs_of(span)["hypergraph.cached"] is True


def test_spans_opened_inside_a_node_are_children_of_the_node_span(tracing):
    """While a node runs its span is current, so user (or library) spans nest under it."""
    tracer = tracing.provider.get_tracer("user-code")

    @node(output_name="answer")
    def ask(question: str) -> str:
        with tracer.start_as_current_span("llm.call"):
            return question.upper()

    SyncRunner().run(
        Graph([ask], name="qa"), {"question": "hi"}, event_processors=[tracing.processor()]
    )
    tree = tracing.tree()
    assert tree.named("llm.call").parent.span_id == tree.named("ask").context.span_id
    assert trace_current_span_is_invalid()


def test_failing_node_leaves_no_span_current_afterwards(tracing):
    """The node's context is detached on NodeErrorEvent too."""

    @node(output_name="y")
    def boom(x: int) -> int:
        raise RuntimeError("no")

    SyncRunner().run(
        Graph([boom]), {"x": 1}, error_handling="continue", event_processors=[tracing.processor()]
    )
    assert trace_current_span_is_invalid()


def trace_current_span_is_invalid() -> bool:
    from opentelemetry import trace

    return not trace.get_current_span().get_span_context().is_valid


def test_a_run_started_inside_a_node_leaves_that_node_span_current(tracing):
    """A separate top-level run inside a node (same processor) does not detach the outer node."""
    tracer = tracing.provider.get_tracer("user-code")
    processor = tracing.processor()

    @node(output_name="y")
    def outer_step(x: int) -> int:
        SyncRunner().run(inner, {"x": x}, event_processors=[processor])
        with tracer.start_as_current_span("after.inner.run"):
            return x

    SyncRunner().run(Graph([outer_step], name="outer2"), {"x": 1}, event_processors=[processor])
    tree = tracing.tree()
    assert tree.named("after.inner.run").parent.span_id == tree.named("outer_step").context.span_id
    assert trace_current_span_is_invalid()
