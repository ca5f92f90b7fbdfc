"""Events emitted during runs, and the processors that receive them.

``RichProgressProcessor`` and ``OpenTelemetryProcessor`` are resolved lazily through the plugin
registry, so importing this module never imports ``rich`` or OpenTelemetry.
"""

from typing import TYPE_CHECKING

from hypergraph.events.processor import AsyncEventProcessor, EventProcessor, TypedEventProcessor
from hypergraph.events.types import (
    BaseEvent,
    CacheHitEvent,
    CacheMissEvent,
    Event,
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
from hypergraph.plugins import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    # Typed for checkers; resolved lazily at run time, so importing this module stays light.
    from hypergraph.events.rich_progress import RichProgressProcessor as RichProgressProcessor
if TYPE_CHECKING: from hypergraph_otel.processor import OpenTelemetryProcessor as OpenTelemetryProcessor  # noqa: E701, I001

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
    "NodeRetryEvent",
    "NodeStartEvent",
    "RouteDecisionEvent",
    "RunEndEvent",
    "RunStartEvent",
    "StreamingChunkEvent",
    "SuperstepStartEvent",
    "TypedEventProcessor",
]

# RichProgressProcessor, OpenTelemetryProcessor: resolved through the plugin registry
__getattr__, __dir__ = _lazy_exports(__name__, globals())
