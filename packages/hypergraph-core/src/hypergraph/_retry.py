"""The retry loop around one node execution, as pure functions every runner shares.

Nothing here knows about graphs, events or runners: the caller passes the call, the resolved
policy and hooks (how to sleep, what to do on a retry, whether a failure may still be retried,
the concurrency slot to hold around each attempt). Tests inject ``sleep`` and ``random`` so
backoff is checked without waiting. ``asyncio`` is imported only by the async variant, which
only runs inside an event loop. ``stop_reason``, ``describe_failure`` and ``add_attempt_notes``
are the loops' decisions and notes, public for runners that drive attempts themselves (the DBOS
runner records each one durably), so every runner's notes read the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from hypergraph.exceptions import NodeTimeoutError

if TYPE_CHECKING:
    from hypergraph.policies import RetryPolicy

__all__ = [
    "acall_with_policy",
    "add_attempt_notes",
    "call_with_policy",
    "describe_failure",
    "stop_reason",
]

T = TypeVar("T")

OnRetry = Callable[[int, BaseException, float], object]
"""Called as ``on_retry(failed_attempt, error, delay_s)`` before waiting out a backoff."""
AsyncOnRetry = Callable[[int, BaseException, float], Awaitable[object]]


def call_with_policy(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    node_name: str,
    sleep: Callable[[float], object] | None = None,
    on_retry: OnRetry | None = None,
    can_retry: Callable[[], bool] | None = None,
    random: Callable[[], float] | None = None,
) -> T:
    """Call ``call()`` until it succeeds or ``policy`` gives up; the engine sees one outcome.

    ``sleep`` defaults to ``time.sleep``, ``random`` (jitter) to ``random.random``.
    ``can_retry()`` is asked after a retryable failure; ``False`` stops retrying (a generator
    that already streamed chunks). The last failure propagates with one PEP 678 note per
    attempt when there was more than one.
    """
    if sleep is None:
        import time

        sleep = time.sleep
    failures: list[str] = []
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except Exception as exc:
            reason = stop_reason(policy, attempt, exc, can_retry)
            if reason is not None:
                add_attempt_notes(exc, failures, attempt, node_name, policy, reason)
                raise
            failures.append(describe_failure(exc))
            delay = policy.delay(attempt, random)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
        # outside the except block: the failure (and the frames it holds) is not kept alive
        sleep(delay)


async def acall_with_policy(
    acall: Callable[[], Awaitable[T]],
    policy: RetryPolicy | None,
    timeout: float | None,
    *,
    node_name: str,
    sleep: Callable[[float], Awaitable[object]] | None = None,
    on_retry: AsyncOnRetry | None = None,
    can_retry: Callable[[], bool] | None = None,
    slot: AbstractAsyncContextManager[Any] | None = None,
    random: Callable[[], float] | None = None,
) -> T:
    """Await ``acall()`` under ``timeout`` (seconds per attempt), retried per ``policy``.

    ``slot`` (e.g. the run's ``max_concurrency`` semaphore) is entered around each attempt and
    left while waiting out a backoff, so a node that waits holds no slot; the timeout starts
    once the slot is held, so queueing never counts against it. An expired timeout raises
    :class:`~hypergraph.exceptions.NodeTimeoutError`, which ``retry_on`` may cover like any
    ``TimeoutError``. ``sleep`` defaults to ``asyncio.sleep``; the rest is as in
    :func:`call_with_policy`.
    """
    failures: list[str] = []
    attempt = 0
    while True:
        attempt += 1
        try:
            if slot is None:
                return await _attempt(acall, timeout, node_name)
            async with slot:
                return await _attempt(acall, timeout, node_name)
        except Exception as exc:
            reason = stop_reason(policy, attempt, exc, can_retry)
            if reason is not None:
                if policy is not None:
                    add_attempt_notes(exc, failures, attempt, node_name, policy, reason)
                raise
            assert policy is not None
            failures.append(describe_failure(exc))
            delay = policy.delay(attempt, random)
            if on_retry is not None:
                await on_retry(attempt, exc, delay)
        if sleep is None:
            import asyncio

            sleep = asyncio.sleep
        await sleep(delay)


async def _attempt(acall: Callable[[], Awaitable[T]], timeout: float | None, node_name: str) -> T:
    if timeout is None:
        return await acall()
    import asyncio

    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            return await acall()
    except TimeoutError:
        if scope.expired():  # ours, not a TimeoutError the node raised itself
            raise NodeTimeoutError(node_name, timeout) from None
        raise


def stop_reason(
    policy: RetryPolicy | None,
    attempt: int,
    error: BaseException,
    can_retry: Callable[[], bool] | None,
) -> str | None:
    """Why failed attempt ``attempt`` ends the node (``None``: retry it)."""
    if policy is None:
        return "no retry policy"
    if attempt >= policy.max_attempts:
        return "max_attempts reached"
    if not policy.retries(error):
        return "not covered by retry_on"
    if can_retry is not None and not can_retry():
        return "chunks were already streamed"
    return None


_NOTE_WIDTH = 200


def describe_failure(error: BaseException) -> str:
    """``"<Type>: <message>"``, shortened: a note per attempt must stay readable."""
    text = str(error)
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= _NOTE_WIDTH else line[: _NOTE_WIDTH - 1] + "…"


def add_attempt_notes(
    error: BaseException,
    failures: list[str],
    attempt: int,
    node_name: str,
    policy: RetryPolicy,
    reason: str,
) -> None:
    """PEP 678 notes on the final failure: which attempts failed (``failures``: the earlier
    ones, as ``describe_failure`` wrote them), and with what."""
    if not failures:
        return  # failed at once: the exception is exactly what the node raised
    error.add_note(
        f"hypergraph: node {node_name!r} failed on attempt {attempt} of {policy.max_attempts} "
        f"({reason}); every attempt:"
    )
    for number, text in enumerate([*failures, describe_failure(error)], start=1):
        error.add_note(f"  attempt {number}: {text}")
