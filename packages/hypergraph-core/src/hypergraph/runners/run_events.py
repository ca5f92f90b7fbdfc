"""Building a run's events: one function per event type, shared by every runner.

Runners only decide *when* to emit (SPEC EV4) and *how* to deliver (``Emitter.send`` or
``await Emitter.send_async``); the fields, ids and span parentage (EV2, EV3) are set here.
Called only when a processor is attached, so runs without processors build no event.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hypergraph.events._emitter import new_span_id
from hypergraph.events.types import (
    CacheHitEvent,
    CacheMissEvent,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeRetryEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    StreamingChunkEvent,
    SuperstepStartEvent,
)
from hypergraph.results import RunStatus

if TYPE_CHECKING:
    from hypergraph.cache import CacheLookup
    from hypergraph.plan import NodePlan
    from hypergraph.results import PauseInfo
    from hypergraph.runners._context import RunInfo

__all__ = [
    "cache_lookup",
    "chunk",
    "interrupted",
    "node_end",
    "node_error",
    "node_retry",
    "node_start",
    "not_started",
    "route_decision",
    "run_end",
    "run_start",
    "superstep_start",
]


def _run_fields(info: RunInfo) -> dict[str, Any]:
    return {
        "timestamp": time.time(),
        "run_id": info.run_id,
        "workflow_id": info.workflow_id,
        "item_index": info.item_index,
        "session_id": info.session_id,
        "graph_name": info.graph_name,
    }


def _node_fields(info: RunInfo, np: NodePlan, span: str) -> dict[str, Any]:
    fields = _run_fields(info)
    fields["span_id"] = span
    fields["parent_span_id"] = info.span_id
    fields["node_name"] = np.name
    return fields


def run_start(info: RunInfo, *, map_size: int | None = None) -> RunStartEvent:
    """A run (or, with ``map_size``, a map) begins; its span is the run's own."""
    return RunStartEvent(
        span_id=info.span_id, parent_span_id=info.parent_span_id,
        is_map=map_size is not None, map_size=map_size, **_run_fields(info),
    )


def run_end(
    info: RunInfo,
    status: RunStatus,
    error: BaseException | None,
    duration_ms: float,
    *,
    is_map: bool = False,
) -> RunEndEvent:
    """A run or map ended; ``error`` becomes ``"<Type>: <message>"``."""
    return RunEndEvent(
        span_id=info.span_id, parent_span_id=info.parent_span_id, status=status,
        error=None if error is None else f"{type(error).__name__}: {error}",
        duration_ms=duration_ms, is_map=is_map, **_run_fields(info),
    )


def superstep_start(info: RunInfo, superstep: int) -> SuperstepStartEvent:
    return SuperstepStartEvent(
        span_id=info.span_id, parent_span_id=info.parent_span_id, superstep=superstep,
        **_run_fields(info),
    )


def node_start(info: RunInfo, np: NodePlan, span: str, superstep: int) -> NodeStartEvent:
    return NodeStartEvent(superstep=superstep, **_node_fields(info, np, span))


def node_end(
    info: RunInfo, np: NodePlan, span: str, superstep: int, duration_ms: float, cached: bool
) -> NodeEndEvent:
    return NodeEndEvent(
        superstep=superstep, duration_ms=duration_ms, cached=cached, **_node_fields(info, np, span)
    )


def node_error(
    info: RunInfo, np: NodePlan, span: str, superstep: int, error: BaseException
) -> NodeErrorEvent:
    return NodeErrorEvent(
        superstep=superstep, error=f"{type(error).__name__}: {error}",
        error_type=type(error).__name__, **_node_fields(info, np, span),
    )


def node_retry(
    info: RunInfo, np: NodePlan, span: str, attempt: int, error: BaseException, delay_s: float
) -> NodeRetryEvent:
    """Attempt ``attempt`` failed and will be retried; on the node's span."""
    return NodeRetryEvent(
        attempt=attempt, max_attempts=np.retry.max_attempts if np.retry is not None else 1,
        error=f"{type(error).__name__}: {error}", error_type=type(error).__name__,
        delay_s=delay_s, **_node_fields(info, np, span),
    )


def route_decision(info: RunInfo, np: NodePlan, span: str, decision: Any) -> RouteDecisionEvent:
    return RouteDecisionEvent(decision=decision, node_span_id=span, **_node_fields(info, np, span))


def cache_lookup(
    info: RunInfo, np: NodePlan, span: str, lookup: CacheLookup
) -> CacheHitEvent | CacheMissEvent:
    """CacheHitEvent or CacheMissEvent (with the miss reason) for a cache-enabled node."""
    if lookup.hit:
        return CacheHitEvent(cache_key=lookup.key or "", **_node_fields(info, np, span))
    return CacheMissEvent(
        cache_key=lookup.key or "", reason=lookup.reason, **_node_fields(info, np, span)
    )


def chunk(info: RunInfo, np: NodePlan, span: str, value: Any, index: int) -> StreamingChunkEvent:
    """A yielded chunk: its own span id, the node's span as parent (EV3)."""
    fields = _node_fields(info, np, new_span_id())
    fields["parent_span_id"] = span
    return StreamingChunkEvent(chunk=value, index=index, **fields)


def interrupted(info: RunInfo, np: NodePlan, span: str, pause: PauseInfo) -> InterruptEvent:
    return InterruptEvent(
        value=pause.value, response_param=pause.response_param, **_node_fields(info, np, span)
    )


def not_started(info: RunInfo, error: BaseException) -> tuple[RunStartEvent, RunEndEvent]:
    """A map item that failed validation before running: its RunStart and a FAILED RunEnd."""
    return run_start(info), run_end(info, RunStatus.FAILED, error, 0.0)
