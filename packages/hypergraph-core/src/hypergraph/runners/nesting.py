"""How a parent runner calls a nested graph's runner, from ``returns_coroutine`` alone (R14).

| parent async | child async | call                                               |
|--------------|-------------|----------------------------------------------------|
| yes          | yes         | ``await child.run(...)``                           |
| yes          | no          | ``await asyncio.to_thread(child.run, ...)``        |
| no           | yes         | ``asyncio.run(child.run(...))`` (helper thread if a loop runs here) |
| no           | no          | ``child.run(...)``                                 |

Adding a runner never means editing this table: it only declares its capabilities.
"""

from __future__ import annotations

import contextvars
import enum
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["NestedCall", "call_from_async", "call_from_sync", "nested_call"]

T = TypeVar("T")


class NestedCall(enum.Enum):
    """The four ways a parent can call a child runner."""

    DIRECT = "direct"
    ASYNCIO_RUN = "asyncio.run"
    TO_THREAD = "asyncio.to_thread"
    AWAIT = "await"


def nested_call(parent_returns_coroutine: bool, child_returns_coroutine: bool) -> NestedCall:
    """The strategy for a parent/child pair of ``returns_coroutine`` flags."""
    if parent_returns_coroutine:
        return NestedCall.AWAIT if child_returns_coroutine else NestedCall.TO_THREAD
    return NestedCall.ASYNCIO_RUN if child_returns_coroutine else NestedCall.DIRECT


def call_from_sync(child_returns_coroutine: bool, call: Callable[[], Any]) -> Any:
    """Run ``call`` (which returns a result, or a coroutine if the child is async) from sync code."""
    if nested_call(False, child_returns_coroutine) is NestedCall.DIRECT:
        return call()
    import asyncio  # only sync parents of async children need it; keeps `import hypergraph` light

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call())
    return _run_in_helper_thread(call)


async def call_from_async(child_returns_coroutine: bool, call: Callable[[], Any]) -> Any:
    """Run ``call`` from a coroutine without blocking the event loop."""
    import asyncio

    if nested_call(True, child_returns_coroutine) is NestedCall.AWAIT:
        return await call()
    return await asyncio.to_thread(call)


def _run_in_helper_thread(call: Callable[[], Awaitable[T]]) -> T:
    """A loop already runs in this thread: give the child its own loop in a helper thread."""
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome["value"] = context.run(_run_coroutine, call)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="hypergraph-nested-loop")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _run_coroutine(call: Callable[[], Awaitable[T]]) -> T:
    import asyncio

    async def main() -> T:
        return await call()

    return asyncio.run(main())
