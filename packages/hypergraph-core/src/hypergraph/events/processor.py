"""Event processors: what users subclass to observe runs (SPEC EV5, EV6)."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypergraph.events.types import (
        BaseEvent,
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

__all__ = ["AsyncEventProcessor", "EventProcessor", "TypedEventProcessor", "emitting_caller"]


def emitting_caller() -> tuple[int, Any]:
    """Who is emitting: the thread and, inside an event loop, the asyncio task (else ``None``).

    Runners emit a top-level run's ``RunStartEvent`` and call ``shutdown()`` for it from the
    same thread and task, so stateful processors can pair each ``shutdown()`` with its run.
    """
    asyncio = sys.modules.get("asyncio")  # no loop can run if asyncio was never imported
    task = None
    if asyncio is not None:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no event loop running in this thread
            task = None
    return threading.get_ident(), task


class EventProcessor:
    """Receives every event through ``on_event``.

    The default ``on_event`` calls the typed method for the event (``on_node_start``,
    ``on_run_end``, ...) when the subclass defines it, so overriding just the methods you care
    about is enough. ``shutdown()`` is called once after the top-level run or map ends.
    """

    def on_event(self, event: BaseEvent) -> None:
        method = getattr(self, event.handler, None)
        if method is not None:
            method(event)

    def shutdown(self) -> None:
        """Flush and release resources; called once per top-level run or map."""


class TypedEventProcessor(EventProcessor):
    """An EventProcessor that spells out every typed hook (all no-ops by default)."""

    def on_run_start(self, event: RunStartEvent) -> None: ...
    def on_run_end(self, event: RunEndEvent) -> None: ...
    def on_superstep_start(self, event: SuperstepStartEvent) -> None: ...
    def on_node_start(self, event: NodeStartEvent) -> None: ...
    def on_node_end(self, event: NodeEndEvent) -> None: ...
    def on_node_error(self, event: NodeErrorEvent) -> None: ...
    def on_node_retry(self, event: NodeRetryEvent) -> None: ...
    def on_route_decision(self, event: RouteDecisionEvent) -> None: ...
    def on_cache_hit(self, event: CacheHitEvent) -> None: ...
    def on_cache_miss(self, event: CacheMissEvent) -> None: ...
    def on_streaming_chunk(self, event: StreamingChunkEvent) -> None: ...
    def on_interrupt(self, event: InterruptEvent) -> None: ...


class AsyncEventProcessor(EventProcessor):
    """A processor whose hooks are coroutines; async runners await them.

    Sync runners call the plain ``on_event``/``shutdown`` instead.
    """

    async def on_event_async(self, event: BaseEvent) -> None:
        self.on_event(event)

    async def shutdown_async(self) -> None:
        self.shutdown()
