"""Delivering events to processors: isolation, span ids, and shutdown once (SPEC EV3, EV7)."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hypergraph.events.processor import AsyncEventProcessor

if TYPE_CHECKING:
    from hypergraph.events.processor import EventProcessor
    from hypergraph.events.types import BaseEvent

__all__ = ["Emitter", "new_span_id"]

logger = logging.getLogger("hypergraph.events")


_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def new_span_id() -> str:
    """A random 16-hex-digit span id (a seeded PRNG: unique, not secret, no system call)."""
    return f"{_ids.getrandbits(64):016x}"


class Emitter:
    """Sends events to a fixed list of processors; a failing processor is logged and skipped.

    Runners create one only when processors are attached, so runs without processors build no
    event objects at all.
    """

    __slots__ = ("processors",)

    def __init__(self, processors: Sequence[EventProcessor]) -> None:
        self.processors = tuple(processors)

    def send(self, event: BaseEvent) -> None:
        """Deliver ``event`` to every processor's ``on_event``."""
        for processor in self.processors:
            try:
                processor.on_event(event)
            except Exception:
                _log_failure(processor, event)

    async def send_async(self, event: BaseEvent) -> None:
        """Like :meth:`send`, awaiting ``on_event_async`` of async processors (EV6)."""
        for processor in self.processors:
            try:
                if isinstance(processor, AsyncEventProcessor):
                    await processor.on_event_async(event)
                else:
                    processor.on_event(event)
            except Exception:
                _log_failure(processor, event)

    async def shutdown_async(self) -> None:
        for processor in self.processors:
            try:
                if isinstance(processor, AsyncEventProcessor):
                    await processor.shutdown_async()
                else:
                    processor.shutdown()
            except Exception:
                logger.warning("Event processor %r failed in shutdown()", processor, exc_info=True)

    def shutdown(self) -> None:
        for processor in self.processors:
            try:
                processor.shutdown()
            except Exception:
                logger.warning("Event processor %r failed in shutdown()", processor, exc_info=True)


def _log_failure(processor: EventProcessor, event: BaseEvent) -> None:
    logger.warning(
        "Event processor %r failed on %s; continuing without it for this event",
        processor, type(event).__name__, exc_info=True,
    )
