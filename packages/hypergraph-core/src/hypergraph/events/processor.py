"""Event processors: what users subclass to observe runs (SPEC EV5, EV6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

__all__ = ["AsyncEventProcessor", "EventProcessor", "TypedEventProcessor"]


class EventProcessor:
    """Receives every event through ``on_event``.

    The default ``on_event`` calls the typed method for the event (``on_node_start``,
    ``on_run_end``, ...) when the subclass defines it, so overriding just the methods you care
    about is enough.

    When a top-level run or map ends, the runner calls ``shutdown_run(run_id)`` once, with the
    ``run_id`` of that run's ``RunStartEvent``; by default it calls ``shutdown()``. A processor
    shared by runs going on at the same time keys its per-run state by that id (events name
    their run and span) and overrides ``shutdown_run``; a simple one just overrides ``shutdown``.
    """

    def on_event(self, event: BaseEvent) -> None:
        method = getattr(self, event.handler, None)
        if method is not None:
            method(event)

    def shutdown(self) -> None:
        """Flush and release resources; called once per top-level run or map (SPEC EV5)."""

    def shutdown_run(self, run_id: str) -> None:
        """The top-level run or map ``run_id`` ended: release what belongs to it.

        Called once per top-level run or map, instead of ``shutdown()``; nested runs never
        call it. The default calls ``shutdown()``.
        """
        self.shutdown()


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

    Sync runners call the plain ``on_event``/``shutdown_run`` instead.
    """

    async def on_event_async(self, event: BaseEvent) -> None:
        self.on_event(event)

    async def shutdown_async(self) -> None:
        self.shutdown()

    async def shutdown_run_async(self, run_id: str) -> None:
        """``shutdown_run`` for async runners: the subclass's ``shutdown_run`` if it defines
        one, else ``shutdown_async()``."""
        if type(self).shutdown_run is not EventProcessor.shutdown_run:
            self.shutdown_run(run_id)
        else:
            await self.shutdown_async()
