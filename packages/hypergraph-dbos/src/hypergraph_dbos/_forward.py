"""Events of a durable run whose body executes on another event loop than its caller.

DBOS executes recovered, resumed and dequeued workflows on its own background event loop, and a
recovered run may start before anyone calls ``run()`` for it. Such a body emits through a
:class:`ForwardingEmitter`: each event goes to whichever caller in this process waits for the
workflow *at that moment* (``run(graph, values, workflow_id=...)``, ``iter()``), on the caller's
own loop, in order and with the caller's backpressure; with no caller waiting it goes nowhere.
A caller that attaches mid-run receives the remaining events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from hypergraph.runtime import Emitter

if TYPE_CHECKING:
    from hypergraph.events import BaseEvent, EventProcessor

__all__ = ["ForwardingEmitter"]

Target = Callable[[], "tuple[asyncio.AbstractEventLoop, Emitter] | None"]
"""Returns the waiting caller's loop and emitter, or ``None`` when nobody waits."""


class ForwardingEmitter(Emitter):
    """An emitter that delivers to the emitter of the workflow's current caller, on its loop."""

    __slots__ = ("target",)

    def __init__(self, target: Target) -> None:
        super().__init__(())
        self.target = target

    @property  # type: ignore[override]
    def processors(self) -> tuple[EventProcessor, ...]:
        """The current caller's processors (nested runs on other runners call them directly)."""
        found = self.target()
        return () if found is None else found[1].processors

    @processors.setter
    def processors(self, value: tuple[EventProcessor, ...]) -> None:
        del value  # always the current caller's

    def send(self, event: BaseEvent) -> None:
        found = self.target()
        if found is None:
            return
        loop, emitter = found
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            emitter.send(event)
            return
        try:
            loop.call_soon_threadsafe(emitter.send, event)
        except RuntimeError:  # the caller's loop closed meanwhile
            return

    async def send_async(self, event: BaseEvent) -> None:
        found = self.target()
        if found is None:
            return
        loop, emitter = found
        if loop is asyncio.get_running_loop():
            await emitter.send_async(event)
            return
        try:
            future = asyncio.run_coroutine_threadsafe(emitter.send_async(event), loop)
        except RuntimeError:  # the caller's loop closed meanwhile
            return
        await asyncio.wait({asyncio.wrap_future(future)})

    async def shutdown_async(self) -> None:
        """The caller shuts its own emitter down when its ``run()`` returns."""

    def shutdown(self) -> None:
        """The caller shuts its own emitter down when its ``run()`` returns."""
