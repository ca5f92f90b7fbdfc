"""Events emitted during runs, and the processors that receive them.

``RichProgressProcessor`` and ``OpenTelemetryProcessor`` are resolved lazily through the plugin
registry, so importing this module never imports ``rich`` or OpenTelemetry.
"""

from typing import Any

from hypergraph.events.processor import AsyncEventProcessor, EventProcessor, TypedEventProcessor
from hypergraph.events.types import (
    BaseEvent,
    CacheHitEvent,
    CacheMissEvent,
    Event,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    StreamingChunkEvent,
    SuperstepStartEvent,
)

__all__ = [
    "AsyncEventProcessor",
    "BaseEvent",
    "CacheHitEvent",
    "CacheMissEvent",
    "Event",
    "EventProcessor",
    "InterruptEvent",
    "NodeEndEvent",
    "NodeErrorEvent",
    "NodeStartEvent",
    "OpenTelemetryProcessor",
    "RichProgressProcessor",
    "RouteDecisionEvent",
    "RunEndEvent",
    "RunStartEvent",
    "StreamingChunkEvent",
    "SuperstepStartEvent",
    "TypedEventProcessor",
]


def __getattr__(name: str) -> Any:
    from hypergraph.plugins import resolve_export

    value = resolve_export(name, "hypergraph.events")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
