"""The one shared ``max_concurrency`` budget of a run, published through a ContextVar (AC3-AC6).

The outermost run or map that receives ``max_concurrency`` creates the limiter; nested graphs,
map items and nested maps inherit it. Permits are taken only around leaf executions, so nesting
can never deadlock. A limiter belongs to one event loop: a child started on another loop (R14)
does not inherit it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

__all__ = ["Limiter", "active_limiter", "use_limiter"]


class Limiter:
    """A semaphore bound to the event loop that created it."""

    __slots__ = ("limit", "loop", "semaphore")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.semaphore = asyncio.Semaphore(limit)
        self.loop = asyncio.get_running_loop()


_LIMITER: ContextVar[Limiter | None] = ContextVar("hypergraph_limiter", default=None)


def active_limiter() -> Limiter | None:
    """The limiter in effect here, if it belongs to the running loop."""
    limiter = _LIMITER.get()
    if limiter is None or limiter.loop is not asyncio.get_running_loop():
        return None
    return limiter


@asynccontextmanager
async def use_limiter(max_concurrency: int | None) -> AsyncIterator[Limiter | None]:
    """Publish a new limiter for ``max_concurrency`` unless one is already active."""
    current = active_limiter()
    if current is not None or max_concurrency is None:
        yield current
        return
    limiter = Limiter(max_concurrency)
    token = _LIMITER.set(limiter)
    try:
        yield limiter
    finally:
        _LIMITER.reset(token)
