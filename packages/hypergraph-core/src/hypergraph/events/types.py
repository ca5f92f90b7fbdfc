"""Event types: frozen values describing what happened during a run (SPEC EV1, EV2)."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from hypergraph.results import RunStatus

__all__ = [
    "BaseEvent",
    "CacheHitEvent",
    "CacheMissEvent",
    "Event",
    "InterruptEvent",
    "NodeEndEvent",
    "NodeErrorEvent",
    "NodeRetryEvent",
    "NodeStartEvent",
    "RouteDecisionEvent",
    "RunEndEvent",
    "RunStartEvent",
    "StreamingChunkEvent",
    "SuperstepStartEvent",
]


@attrs.frozen(kw_only=True)
class BaseEvent:
    """Fields every event carries: which run, which span, when (epoch seconds)."""

    handler: ClassVar[str] = ""
    run_id: str
    span_id: str
    parent_span_id: str | None = None
    timestamp: float
    workflow_id: str | None = None
    item_index: int | None = None
    session_id: str | None = None


@attrs.frozen(kw_only=True)
class RunStartEvent(BaseEvent):
    """A run (or a map, with ``is_map=True``) begins."""

    handler: ClassVar[str] = "on_run_start"
    graph_name: str | None
    is_map: bool = False
    map_size: int | None = None


@attrs.frozen(kw_only=True)
class RunEndEvent(BaseEvent):
    """A run or map ended; ``error`` is ``"<Type>: <message>"`` when it failed."""

    handler: ClassVar[str] = "on_run_end"
    graph_name: str | None
    status: RunStatus
    error: str | None = None
    duration_ms: float = 0.0
    is_map: bool = False


@attrs.frozen(kw_only=True)
class SuperstepStartEvent(BaseEvent):
    """A superstep of a run begins."""

    handler: ClassVar[str] = "on_superstep_start"
    graph_name: str | None
    superstep: int


@attrs.frozen(kw_only=True)
class NodeStartEvent(BaseEvent):
    """A node begins executing (its ``span_id`` is the node's span)."""

    handler: ClassVar[str] = "on_node_start"
    node_name: str
    graph_name: str | None
    superstep: int = 0


@attrs.frozen(kw_only=True)
class NodeEndEvent(BaseEvent):
    """A node finished; ``cached`` is True when its result came from the cache."""

    handler: ClassVar[str] = "on_node_end"
    node_name: str
    graph_name: str | None
    duration_ms: float = 0.0
    cached: bool = False
    superstep: int = 0


@attrs.frozen(kw_only=True)
class NodeErrorEvent(BaseEvent):
    """A node raised; ``error`` is ``"<Type>: <message>"``."""

    handler: ClassVar[str] = "on_node_error"
    node_name: str
    graph_name: str | None
    error: str
    error_type: str
    superstep: int = 0


@attrs.frozen(kw_only=True)
class NodeRetryEvent(BaseEvent):
    """Attempt ``attempt`` of a node failed and is retried after ``delay_s`` seconds.

    Its ``span_id`` is the node's span: retries happen inside one node execution, which still
    ends with one ``NodeEndEvent`` or ``NodeErrorEvent``. ``error`` is ``"<Type>: <message>"``.
    """

    handler: ClassVar[str] = "on_node_retry"
    node_name: str
    graph_name: str | None
    attempt: int
    max_attempts: int
    error: str
    error_type: str
    delay_s: float


@attrs.frozen(kw_only=True)
class RouteDecisionEvent(BaseEvent):
    """A gate decided: a target name, ``END``, a list of names, or ``None``."""

    handler: ClassVar[str] = "on_route_decision"
    node_name: str
    graph_name: str | None
    decision: Any
    node_span_id: str | None = None


@attrs.frozen(kw_only=True)
class CacheHitEvent(BaseEvent):
    """A cache-enabled node's result was found in the cache; the function was not called."""

    handler: ClassVar[str] = "on_cache_hit"
    node_name: str
    graph_name: str | None
    cache_key: str


@attrs.frozen(kw_only=True)
class CacheMissEvent(BaseEvent):
    """A cache-enabled node's result was not in the cache; ``reason`` says why when known."""

    handler: ClassVar[str] = "on_cache_miss"
    node_name: str
    graph_name: str | None
    cache_key: str
    reason: str | None = None


@attrs.frozen(kw_only=True)
class StreamingChunkEvent(BaseEvent):
    """A generator node yielded chunk number ``index``."""

    handler: ClassVar[str] = "on_streaming_chunk"
    node_name: str
    graph_name: str | None
    chunk: Any
    index: int


@attrs.frozen(kw_only=True)
class InterruptEvent(BaseEvent):
    """The run paused at an interrupt; answer with ``values={response_param: ...}``."""

    handler: ClassVar[str] = "on_interrupt"
    node_name: str
    graph_name: str | None
    value: Any
    response_param: str


Event = (
    RunStartEvent
    | RunEndEvent
    | SuperstepStartEvent
    | NodeStartEvent
    | NodeEndEvent
    | NodeErrorEvent
    | NodeRetryEvent
    | RouteDecisionEvent
    | CacheHitEvent
    | CacheMissEvent
    | StreamingChunkEvent
    | InterruptEvent
)
