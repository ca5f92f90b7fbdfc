"""Node policies: how often a failing node is retried, how long to wait, and time limits.

``RetryPolicy`` is the declaration users attach with ``@node(retry=...)``, ``@route(retry=...)``,
``@interrupt(retry=...)`` or graph-wide with ``Graph(..., retry=...)``. ``call_with_policy`` and
``acall_with_policy`` are the execution core every runner calls around a node's function, so a
policy means the same thing on every runner. The plan resolves each node's policy once
(``NodePlan.retry`` and ``NodePlan.timeout``); nodes without one never reach this module.
``stop_reason``, ``describe_failure`` and ``add_attempt_notes`` are the loop's parts, for a
runner that records attempts itself (durable execution) and must end them the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from hypergraph._retry import (
    acall_with_policy,
    add_attempt_notes,
    call_with_policy,
    describe_failure,
    stop_reason,
)
from hypergraph.exceptions import PolicyError

__all__ = [
    "RetryOn",
    "RetryPolicy",
    "acall_with_policy",
    "add_attempt_notes",
    "call_with_policy",
    "describe_failure",
    "stop_reason",
]

RetryOn = tuple[type[Exception], ...] | Callable[[BaseException], bool]
"""Which failures are retried: exception classes, or a predicate over the exception."""


def _number(name: str, value: Any, *, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(
            f"RetryPolicy({name}={value!r}): {name} must be a number (seconds or a factor), got "
            f"{type(value).__name__}."
        )
    if not math.isfinite(value) or value < minimum:
        raise PolicyError(f"RetryPolicy({name}={value!r}): {name} must be finite and >= {minimum}.")
    return float(value)


def _to_retry_on(value: Any) -> RetryOn:
    """A single class or a list becomes a tuple; a predicate stays as it is."""
    if isinstance(value, type):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    return value  # type: ignore[no-any-return]


def _check_retry_on(value: RetryOn) -> None:
    if not isinstance(value, tuple):
        if not callable(value):
            raise PolicyError(
                f"RetryPolicy(retry_on={value!r}): retry_on must be exception classes, e.g. "
                "(TimeoutError, ConnectionError), or a function taking the exception and "
                "returning True to retry."
            )
        return
    if not value:
        raise PolicyError(
            "RetryPolicy(retry_on=()): an empty tuple would never retry. Name the exception "
            "classes to retry, or use max_attempts=1 to disable retries."
        )
    for item in value:
        if not isinstance(item, type) or not issubclass(item, BaseException):
            raise PolicyError(
                f"RetryPolicy(retry_on=...): {item!r} is not an exception class. Pass classes "
                "such as TimeoutError, or one predicate function."
            )
        if not issubclass(item, Exception):
            raise PolicyError(
                f"RetryPolicy(retry_on=...): {item.__name__} is not an Exception subclass; "
                "retrying it (like KeyboardInterrupt or asyncio.CancelledError) would make a run "
                "impossible to stop. Retry Exception subclasses only."
            )


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a failing node is retried: up to ``max_attempts`` calls in one node execution.

    The wait before attempt ``n + 1`` is ``initial_delay * backoff ** (n - 1)`` seconds, capped
    at ``max_delay``; with ``jitter`` each wait is drawn uniformly between half and all of that,
    so many callers failing together do not retry in lockstep. Only failures matching
    ``retry_on`` (classes, or a predicate over the exception) are retried; anything else
    propagates at once. ``RetryPolicy(max_attempts=1)`` switches a graph-wide default off.
    """

    max_attempts: int = 3
    initial_delay: float = 0.5
    backoff: float = 2.0
    max_delay: float = 30.0
    jitter: bool = True
    retry_on: RetryOn = attrs.field(default=(Exception,), converter=_to_retry_on)

    def __attrs_post_init__(self) -> None:
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise PolicyError(
                f"RetryPolicy(max_attempts={attempts!r}): max_attempts counts every call, the "
                "first included, so it must be an integer >= 1 (1 means no retries)."
            )
        object.__setattr__(
            self, "initial_delay", _number("initial_delay", self.initial_delay, minimum=0.0)
        )
        object.__setattr__(self, "backoff", _number("backoff", self.backoff, minimum=1.0))
        object.__setattr__(self, "max_delay", _number("max_delay", self.max_delay, minimum=0.0))
        if self.max_delay < self.initial_delay:
            raise PolicyError(
                f"RetryPolicy(initial_delay={self.initial_delay:g}, max_delay={self.max_delay:g}): "
                "max_delay caps every wait, so it cannot be smaller than initial_delay."
            )
        if not isinstance(self.jitter, bool):
            raise PolicyError(f"RetryPolicy(jitter={self.jitter!r}): jitter must be True or False.")
        _check_retry_on(self.retry_on)

    def retries(self, error: BaseException) -> bool:
        """True if ``error`` is a failure this policy retries."""
        retry_on = self.retry_on
        if isinstance(retry_on, tuple):
            return isinstance(error, retry_on)
        return bool(retry_on(error))

    def delay(self, failed_attempts: int, random: Callable[[], float] | None = None) -> float:
        """Seconds to wait after ``failed_attempts`` failures (``random`` draws the jitter)."""
        try:
            base = self.initial_delay * self.backoff ** (failed_attempts - 1)
        except OverflowError:
            base = self.max_delay
        base = min(base, self.max_delay)
        if self.jitter and base > 0:
            if random is None:
                import random as _random

                random = _random.random
            return base * (0.5 + 0.5 * random())
        return base


def resolve_retry(node_policy: RetryPolicy | None, default: RetryPolicy | None) -> RetryPolicy | None:
    """The policy a node runs with: its own, else the graph's; ``None`` when it never retries."""
    policy = node_policy if node_policy is not None else default
    if policy is None or policy.max_attempts == 1:
        return None
    return policy


def check_retry(value: Any, where: str) -> RetryPolicy | None:
    """``retry=`` as given to a decorator or a Graph: a RetryPolicy or ``None``."""
    if value is None or isinstance(value, RetryPolicy):
        return value
    raise PolicyError(
        f"{where}: retry= must be a RetryPolicy, got {value!r}. Write "
        "retry=RetryPolicy(max_attempts=3) (from hypergraph import RetryPolicy)."
    )


def check_timeout(value: Any, *, node_name: str, kind: str, is_async: bool) -> float | None:
    """``timeout=`` of a node: positive seconds, and only on async code (which can be stopped)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(
            f"{kind} {node_name!r}: timeout= must be a number of seconds, got {value!r}."
        )
    if not math.isfinite(value) or value <= 0:
        raise PolicyError(
            f"{kind} {node_name!r}: timeout={value!r} must be a positive, finite number of seconds."
        )
    if not is_async:
        raise PolicyError(
            f"{kind} {node_name!r} is synchronous, so timeout= cannot apply: Python cannot stop "
            "running sync code from outside, and the run would wait for it anyway. Make it an "
            "`async def` node (run blocking calls with `await asyncio.to_thread(...)` inside it), "
            "or use the client library's own timeout."
        )
    return float(value)
