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

    Runners create one per top-level ``run()``/``map()``, and only when processors are
    attached, so runs without processors build no event objects at all. ``run_id`` is that
    top-level call's run id: ``shutdown()`` hands it to each processor's ``shutdown_run``, so a
    processor shared by concurrent runs knows which one ended without guessing from threads.
    """

    __slots__ = ("processors", "run_id")

    def __init__(self, processors: Sequence[EventProcessor], run_id: str | None = None) -> None:
        self.processors = tuple(processors)
        self.run_id = run_id

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
        """Like :meth:`shutdown`, awaiting ``shutdown_run_async`` of async processors (EV6)."""
        run_id = self.run_id
        for processor in self.processors:
            try:
                if isinstance(processor, AsyncEventProcessor):
                    if run_id is None:
                        await processor.shutdown_async()
                    else:
                        await processor.shutdown_run_async(run_id)
                else:
                    _shutdown(processor, run_id)
            except Exception:
                logger.warning("Event processor %r failed in shutdown()", processor, exc_info=True)

    def shutdown(self) -> None:
        """Tell every processor the top-level run ended: ``shutdown_run(run_id)`` (EV5)."""
        run_id = self.run_id
        for processor in self.processors:
            try:
                _shutdown(processor, run_id)
            except Exception:
                logger.warning("Event processor %r failed in shutdown()", processor, exc_info=True)


def _shutdown(processor: EventProcessor, run_id: str | None) -> None:
    """``shutdown_run(run_id)`` when both exist (duck-typed processors may lack it)."""
    shutdown_run = getattr(processor, "shutdown_run", None) if run_id is not None else None
    if shutdown_run is not None:
        shutdown_run(run_id)
    else:
        processor.shutdown()


def _log_failure(processor: EventProcessor, event: BaseEvent) -> None:
    logger.warning(
        "Event processor %r failed on %s; continuing without it for this event",
        processor, type(event).__name__, exc_info=True,
    )
