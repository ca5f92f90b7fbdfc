"""``OpenTelemetryProcessor``: hypergraph's span tree mapped 1:1 onto OpenTelemetry spans (EV12).

Every run, map, map item and node already has a hypergraph span id, and every event names its
parent's (``parent_span_id``). This processor opens one OTel span per hypergraph span and parents
it on the OTel span of ``parent_span_id``. A top-level run has no hypergraph parent, so its span
becomes a child of the caller's current OTel span (or of ``parent_context`` when given): a web
request's trace continues into the graph.

While a node runs, its span is the current OTel span: the runners emit a node's start and end
events in the same context as the node's own code, so spans that user code (or an
instrumented client library) opens inside a node become children of the node's span. The
context is attached on ``NodeStartEvent`` and detached on ``NodeEndEvent``, ``NodeErrorEvent``
or ``InterruptEvent``.

A node retried under its ``RetryPolicy`` keeps one span: each failed attempt that was retried is
a ``hypergraph.node.retry`` span event, and the span's final status (and its
``hypergraph.attempts`` attribute) tells how the last attempt ended.

Per-run state is keyed by hypergraph ids alone: spans by span id, top-level runs by the run id
the runner hands to ``shutdown_run`` when the run ends, so runs sharing one processor from many
threads or asyncio tasks never see each other's state.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from hypergraph.events import (
    BaseEvent,
    CacheHitEvent,
    EventProcessor,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeRetryEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    SuperstepStartEvent,
)
from hypergraph.results import RunStatus

__all__ = ["OpenTelemetryProcessor"]

PREFIX = "hypergraph."
UNNAMED_GRAPH = "graph"


def _ns(timestamp: float) -> int:
    """Event timestamps are epoch seconds; OTel wants epoch nanoseconds."""
    return int(timestamp * 1_000_000_000)


def _attribute(value: Any) -> AttributeValue:
    """A value OTel accepts as an attribute: primitives as they are, sequences as strings."""
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def _message(error: str, error_type: str) -> str:
    """``"ValueError: boom"`` -> ``"boom"`` (event error texts are ``"<Type>: <message>"``)."""
    prefix = f"{error_type}: "
    return error[len(prefix) :] if error.startswith(prefix) else error


class OpenTelemetryProcessor(EventProcessor):
    """Turns hypergraph events into OpenTelemetry spans: one per run, map, map item and node.

    - ``tracer_name``: the instrumentation scope of the spans.
    - ``extra_attributes``: added to every span (e.g. ``{"service.component": "rag"}``).
    - ``tracer_provider``: the provider to use; default is OpenTelemetry's global one.
    - ``set_success_status``: mark completed runs and nodes ``OK`` (default: left ``UNSET``,
      as the OTel conventions recommend for instrumentation libraries).
    - ``parent_context``: the OTel context top-level runs are parented on; default is the
      context current when the run starts.

    Span names are the graph's name (``"graph"`` when unnamed), ``"<graph>.item"`` for map items,
    and the node's name for nodes. Attributes carry the ``hypergraph.`` prefix. Route decisions,
    cache hits, superstep starts and pauses are span events; a failing node's span gets status
    ``ERROR`` and an ``exception`` event.

    Safe to use from several threads, and to share between top-level runs going on at the same
    time (``asyncio.gather`` of two runs, or runs in two threads): each run's spans are kept
    apart, and ``shutdown_run(run_id)`` at the end of one run leaves the others' open spans
    alone.
    """

    def __init__(
        self,
        tracer_name: str = "hypergraph",
        *,
        extra_attributes: Mapping[str, AttributeValue] | None = None,
        tracer_provider: TracerProvider | None = None,
        set_success_status: bool = False,
        parent_context: Context | None = None,
    ) -> None:
        self._tracer = trace.get_tracer(tracer_name, tracer_provider=tracer_provider)
        self._extra = dict(extra_attributes or {})
        self._set_success_status = set_success_status
        self._parent_context = parent_context
        # Held only around dict bookkeeping and ``tracer.start_span``; never while a span is ended
        # or annotated (``span.end`` runs the exporting span processors). ``start_span`` calls
        # the sampler and every ``SpanProcessor.on_start`` with our lock held, which cannot
        # deadlock: no SDK lock is held while those run (``Span.start`` releases its own lock
        # before ``on_start``; the SDK's own processors do nothing in ``on_start``), and a thread
        # waiting for our lock holds no SDK lock, since none of our hooks waits for our lock while
        # inside the SDK. Reentrant, so a callback that feeds events back into this processor on
        # the same thread does not block on itself.
        self._lock = threading.RLock()
        # hypergraph span id -> its open OTel span, its role, its parent's id (when that span is
        # ours) and the open spans started under it (dicts as ordered sets: O(1) removal, so a
        # map with many items stays cheap)
        self._spans: dict[str, Span] = {}
        self._roles: dict[str, str] = {}
        self._parents: dict[str, str] = {}
        self._children: dict[str, dict[str, None]] = {}
        # node span id -> the token that detaches the context attached while it runs, that
        # context, and the span of the top-level run the node belongs to
        self._attached: dict[str, tuple[object, Context, str]] = {}
        # top-level runs (a RunStartEvent whose parent is not one of our spans) not ended yet, by
        # span id, and the span of each top-level run whose ``shutdown_run`` has not come yet
        self._running: set[str] = set()
        self._roots: dict[str, str] = {}
        # node span id -> attempts that failed and were retried so far
        self._retried: dict[str, int] = {}

    # -- runs and maps --------------------------------------------------------------------------

    def on_run_start(self, event: RunStartEvent) -> None:
        graph = event.graph_name or UNNAMED_GRAPH
        with self._lock:
            parent_role = self._roles.get(event.parent_span_id or "")
        if event.is_map:
            role, name = "map", graph
        else:
            role = "graph"
            name = f"{graph}.item" if parent_role == "map" else graph
        attributes = self._base_attributes(event, role)
        attributes[PREFIX + "graph_name"] = graph
        attributes[PREFIX + "is_map"] = event.is_map
        if event.map_size is not None:
            attributes[PREFIX + "map_size"] = event.map_size
        self._open(event, name, role, attributes, top_level_run=True)

    def on_run_end(self, event: RunEndEvent) -> None:
        with self._lock:
            span = self._spans.get(event.span_id)
            self._running.discard(event.span_id)  # paused counts as ended
        if span is None:
            return
        outcome = RunStatus(event.status).value
        span.set_attribute(PREFIX + "duration_ms", event.duration_ms)
        if outcome == RunStatus.FAILED.value:
            span.set_status(Status(StatusCode.ERROR, event.error or "failed"))
        elif outcome == RunStatus.COMPLETED.value and self._set_success_status:
            span.set_status(Status(StatusCode.OK))
        # A paused run ends with its interrupted node (and any GraphNode above it) still open.
        self._close(event.span_id, _ns(event.timestamp), outcome)

    def on_superstep_start(self, event: SuperstepStartEvent) -> None:
        self._add_event(
            event.span_id, "hypergraph.superstep.start", event,
            {PREFIX + "superstep": event.superstep},
        )

    # -- nodes ----------------------------------------------------------------------------------

    def on_node_start(self, event: NodeStartEvent) -> None:
        attributes = self._base_attributes(event, "node")
        attributes[PREFIX + "graph_name"] = event.graph_name or UNNAMED_GRAPH
        attributes[PREFIX + "node_name"] = event.node_name
        attributes[PREFIX + "superstep"] = event.superstep
        self._open(event, event.node_name, "node", attributes)
        with self._lock:
            span = self._spans.get(event.span_id)
        if span is not None:
            context = trace.set_span_in_context(span)
            token = otel_context.attach(context)
            with self._lock:
                self._attached[event.span_id] = (token, context, self._top_of(event.span_id))

    def _deactivate(self, span_id: str) -> None:
        """Undo ``on_node_start``'s attach; runners emit a node's end in the context it ran in."""
        with self._lock:
            attached = self._attached.pop(span_id, None)
        if attached is not None:
            otel_context.detach(attached[0])  # type: ignore[arg-type]

    def _detach_run(self, root: str) -> None:
        """Detach what a stopped run's nodes left attached in this context, innermost first.

        Contexts its nodes attached in other asyncio tasks or threads died with them; they are
        just forgotten.
        """
        with self._lock:
            left = [span_id for span_id, attached in self._attached.items() if attached[2] == root]
            # keyed by identity; the context is kept alive so its id cannot be reused meanwhile
            by_context: dict[int, tuple[object, Context]] = {}
            for span_id in left:
                token, context, _ = self._attached.pop(span_id)
                by_context[id(context)] = (token, context)
        while True:
            found = by_context.pop(id(otel_context.get_current()), None)
            if found is None:
                return
            otel_context.detach(found[0])  # type: ignore[arg-type]

    def _top_of(self, span_id: str) -> str:
        """The outermost span of ours above ``span_id`` (under the lock)."""
        parents = self._parents
        while span_id in parents:
            span_id = parents[span_id]
        return span_id

    def on_node_end(self, event: NodeEndEvent) -> None:
        self._deactivate(event.span_id)
        with self._lock:
            span = self._spans.get(event.span_id)
        if span is None:
            return
        span.set_attribute(PREFIX + "duration_ms", event.duration_ms)
        span.set_attribute(PREFIX + "cached", event.cached)
        self._set_attempts(event.span_id, span)
        if self._set_success_status:
            span.set_status(Status(StatusCode.OK))
        self._close(event.span_id, _ns(event.timestamp))

    def on_node_error(self, event: NodeErrorEvent) -> None:
        self._deactivate(event.span_id)
        with self._lock:
            span = self._spans.get(event.span_id)
        if span is None:
            return
        message = _message(event.error, event.error_type)
        self._set_attempts(event.span_id, span)
        span.add_event(
            "exception",
            {"exception.type": event.error_type, "exception.message": message},
            timestamp=_ns(event.timestamp),
        )
        span.set_status(Status(StatusCode.ERROR, event.error))
        self._close(event.span_id, _ns(event.timestamp))

    def on_node_retry(self, event: NodeRetryEvent) -> None:
        with self._lock:
            if event.span_id not in self._spans:
                return
            self._retried[event.span_id] = event.attempt
        self._add_event(
            event.span_id, "hypergraph.node.retry", event,
            {
                PREFIX + "attempt": event.attempt,
                PREFIX + "max_attempts": event.max_attempts,
                PREFIX + "retry.delay_s": event.delay_s,
                "exception.type": event.error_type,
                "exception.message": _message(event.error, event.error_type),
            },
        )

    def _set_attempts(self, span_id: str, span: Span) -> None:
        """On a retried node's span: how many attempts it took in all."""
        with self._lock:
            retried = self._retried.pop(span_id, 0)
        if retried:
            span.set_attribute(PREFIX + "attempts", retried + 1)

    def on_route_decision(self, event: RouteDecisionEvent) -> None:
        self._add_event(
            event.node_span_id or event.span_id, "hypergraph.route.decision", event,
            {PREFIX + "node_name": event.node_name, PREFIX + "decision": _attribute(event.decision)},
        )

    def on_cache_hit(self, event: CacheHitEvent) -> None:
        self._add_event(
            event.span_id, "hypergraph.cache.hit", event,
            {PREFIX + "node_name": event.node_name, PREFIX + "cache_key": event.cache_key},
        )

    def on_interrupt(self, event: InterruptEvent) -> None:
        self._deactivate(event.span_id)
        span_id = event.span_id
        with self._lock:
            if span_id not in self._spans:
                span_id = event.parent_span_id or ""
        self._add_event(
            span_id, "hypergraph.pause", event,
            {
                PREFIX + "node_name": event.node_name,
                PREFIX + "response_param": event.response_param,
            },
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def shutdown_run(self, run_id: str) -> None:
        """The top-level run or map ``run_id`` ended: end what it left open, as unfinished.

        Called once per top-level call by the runner. If the run never reported its end
        (``KeyboardInterrupt``, cancellation), its span and every span under it end marked
        ``unfinished``. Runs still going are left alone; once no top-level run is going, every
        span still open is ended as ``unfinished``.
        """
        with self._lock:
            root = self._roots.pop(run_id, None)
            interrupted = root is not None and root in self._running
            if interrupted:
                self._running.discard(root)  # type: ignore[arg-type]
        if root is not None:
            self._detach_run(root)  # a stopped node never reported its end
        if interrupted and root is not None:
            self._close(root, None, "unfinished")
        self._end_leftovers()

    def shutdown(self) -> None:
        """End every span still open as ``unfinished`` (runners call ``shutdown_run`` instead)."""
        with self._lock:
            self._running.clear()
            self._roots.clear()
        self._end_leftovers()

    def _end_leftovers(self) -> None:
        """With no top-level run going, nothing still open can end by itself: end it."""
        with self._lock:
            if self._running:
                return
            self._roots.clear()
            leftovers = [span_id for span_id in self._spans if span_id not in self._parents]
            attached = list(self._attached.values())
            self._attached.clear()
        for token, context, _ in reversed(attached):
            if otel_context.get_current() is context:
                otel_context.detach(token)  # type: ignore[arg-type]
        for span_id in leftovers:
            self._close(span_id, None, "unfinished")

    # -- helpers --------------------------------------------------------------------------------

    def _base_attributes(self, event: BaseEvent, role: str) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = dict(self._extra)
        attributes[PREFIX + "span.role"] = role
        attributes[PREFIX + "run_id"] = event.run_id
        if event.workflow_id is not None:
            attributes[PREFIX + "workflow_id"] = event.workflow_id
        if event.item_index is not None:
            attributes[PREFIX + "item_index"] = event.item_index
        if event.session_id is not None:
            attributes[PREFIX + "session_id"] = event.session_id
        return attributes

    def _open(
        self,
        event: BaseEvent,
        name: str,
        role: str,
        attributes: dict[str, AttributeValue],
        *,
        top_level_run: bool = False,
    ) -> None:
        with self._lock:
            parent = self._spans.get(event.parent_span_id or "")
            if parent is not None:
                context: Context | None = trace.set_span_in_context(parent)
            else:
                # None means "the current context": the caller's span, if any, becomes the parent.
                context = self._parent_context
            span = self._tracer.start_span(
                name, context=context, attributes=attributes, start_time=_ns(event.timestamp)
            )
            self._spans[event.span_id] = span
            self._roles[event.span_id] = role
            if parent is not None and event.parent_span_id is not None:
                self._parents[event.span_id] = event.parent_span_id
                self._children.setdefault(event.parent_span_id, {})[event.span_id] = None
            elif top_level_run:
                self._running.add(event.span_id)
                self._roots[event.run_id] = event.span_id

    def _close(self, span_id: str, end_time: int | None, outcome: str | None = None) -> None:
        """End ``span_id`` and, first, any span under it still open.

        ``outcome`` becomes the span's ``hypergraph.run.outcome``. Spans still open under it
        never reported their own end: they are marked ``paused`` when the run paused (the
        interrupt and the GraphNodes above it), otherwise ``unfinished``.
        """
        with self._lock:
            span = self._spans.pop(span_id, None)
            self._roles.pop(span_id, None)
            self._retried.pop(span_id, None)
            children = list(self._children.pop(span_id, {}))
            parent = self._parents.pop(span_id, None)
            if parent is not None:
                self._children.get(parent, {}).pop(span_id, None)
        left_open = "paused" if outcome == RunStatus.PAUSED.value else "unfinished"
        for child in children:
            self._close(child, end_time, left_open)
        if span is not None:
            if outcome is not None:
                span.set_attribute(PREFIX + "run.outcome", outcome)
            span.end(end_time=end_time)

    def _add_event(
        self,
        span_id: str,
        name: str,
        event: BaseEvent,
        attributes: dict[str, AttributeValue],
    ) -> None:
        with self._lock:
            span = self._spans.get(span_id)
        if span is not None:
            span.add_event(name, attributes, timestamp=_ns(event.timestamp))
