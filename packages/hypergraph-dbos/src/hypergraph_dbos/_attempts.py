"""A node's retries inside its DBOS step, with every retried attempt recorded in the workflow.

A node with a ``RetryPolicy`` is still one DBOS step per node call (one step name, one
position, whatever the number of attempts), so sibling positions stay what the executor reserved.
What makes the attempt count durable is a workflow event owned by that step,
``hypergraph.attempts:<step id>``: before waiting out a backoff, the loop writes the list of
failed attempts so far (error, note text, chosen delay, absolute wake-up time). A process that
crashed mid-backoff leaves the step unfinished, so recovery executes the step again; the loop
then reads the list, replays those attempts without calling the node (their notes, and their
``NodeRetryEvent`` again for the recovering process's processors), sleeps only what is left
of the last backoff (the recorded wake-up time, so jitter is drawn once) and continues with
the next attempt. The final outcome is the step's own record, as for any node.

The records are plain dicts holding the node's exception as pickled bytes, so reading them back
never fails and a stored run never depends on a class of this package; an exception that does
not survive a pickle round trip (or whose class the recovering process cannot import) is
replayed as ``RuntimeError("<Type>: <message>")``. DBOS's own step retries
(``retries_allowed``) are not used: they retry inside one step in memory (a crash starts over),
raise ``DBOSMaxStepRetriesExceeded`` instead of the node's error, and know no ``retry_on``
predicate, jitter, events or concurrency slot.
"""

from __future__ import annotations

import asyncio
import functools
import pickle
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from hypergraph.policies import (
    acall_with_policy,
    add_attempt_notes,
    describe_failure,
    stop_reason,
)
from hypergraph_dbos import _steps
from hypergraph_dbos._dbos_import import dbos

if TYPE_CHECKING:
    from hypergraph import runtime
    from hypergraph.policies import RetryPolicy
    from hypergraph_dbos._driver import DBOSDriver

__all__ = ["EVENT", "durable_attempts", "invoke_durably"]

EVENT = "hypergraph.attempts:"
"""Workflow event ``hypergraph.attempts:<step id>``: the retried attempts of that node step."""


async def invoke_durably(driver: DBOSDriver, effect: runtime.Invoke) -> Any:
    """The node call of a node with a policy, inside its step: AsyncRunner's, attempts durable."""
    scope = driver.scope
    assert scope is not None
    return await driver._with_policy(effect, functools.partial(durable_attempts, scope=scope))


async def durable_attempts(
    acall: Callable[[], Awaitable[Any]],
    policy: RetryPolicy | None,
    timeout: float | None,
    *,
    node_name: str,
    on_retry: Callable[[int, BaseException, float], Awaitable[object]] | None = None,
    can_retry: Callable[[], bool] | None = None,
    slot: AbstractAsyncContextManager[Any] | None = None,
    scope: _steps.Scope,
) -> Any:
    """``acall_with_policy`` whose retried failures survive a crash (see the module docstring).

    Each attempt is one ``acall_with_policy`` call without a policy: it holds ``slot`` and runs
    under ``timeout``, exactly as AsyncRunner's attempts do, and the backoff holds no slot.
    """
    if policy is None:  # a timeout alone: one attempt, nothing to record
        return await acall_with_policy(acall, None, timeout, node_name=node_name, slot=slot)
    DBOS = dbos.DBOS
    key = f"{EVENT}{DBOS.step_id}"
    records: list[dict[str, Any]] = list((await _earlier(scope)).get(key, ()))
    failures = [record["text"] for record in records]
    wake = 0.0
    if records:  # a crash interrupted this node execution: resume its attempt count
        for record in records:
            if on_retry is not None:
                await on_retry(record["attempt"], _replayed(record), record["delay"])
        last = records[-1]
        wake = last["wake"]
        counter = _steps._STEP_SLEEPS.get()
        if counter is not None:  # durable_sleep calls of the replayed attempts keep their keys
            counter[0] = last["sleeps"]
    attempt = len(records)
    if attempt >= policy.max_attempts:  # the policy shrank since the crash: no further call
        error = _replayed(records[-1])
        add_attempt_notes(error, failures[:-1], attempt, node_name, policy, "max_attempts reached")
        raise error
    while True:
        if attempt:
            await asyncio.sleep(max(0.0, wake - time.time()))
        attempt += 1
        try:
            return await acall_with_policy(acall, None, timeout, node_name=node_name, slot=slot)
        except Exception as exc:
            reason = stop_reason(policy, attempt, exc, can_retry)
            if reason is not None:
                add_attempt_notes(exc, failures, attempt, node_name, policy, reason)
                raise
            text = describe_failure(exc)
            failures.append(text)
            delay = policy.delay(attempt)
            wake = time.time() + delay
            counter = _steps._STEP_SLEEPS.get()
            records.append({
                "attempt": attempt, "text": text, "error": _storable(exc), "delay": delay,
                "wake": wake, "sleeps": counter[0] if counter is not None else 0,
            })
            await DBOS.set_event_async(key, records)  # durable before the backoff starts
            if on_retry is not None:
                await on_retry(attempt, exc, delay)


async def _earlier(scope: _steps.Scope) -> dict[str, Any]:
    """Every step's recorded attempts from earlier executions of the workflow, read once.

    Within one execution a step runs at most once, so a read at the first node with a policy
    sees all that any later step of this execution could resume from. It runs inside that
    node's step, where DBOS reads events without recording the read as a step.
    """
    if scope.attempts is None:
        scope.attempts = asyncio.ensure_future(_read_attempts(scope.workflow_id))
    try:
        return await asyncio.shield(scope.attempts)
    except Exception:
        scope.attempts = None  # the next node with a policy reads again
        raise


async def _read_attempts(workflow_id: str) -> dict[str, Any]:
    events = await dbos.DBOS.get_all_events_async(workflow_id)
    return {key: value for key, value in events.items() if key.startswith(EVENT)}


def _storable(error: BaseException) -> bytes | None:
    """The pickled exception if it can be read back, else ``None`` (its text is kept)."""
    try:
        data = pickle.dumps(error)
        pickle.loads(data)
    except Exception:
        return None
    return data


def _replayed(record: dict[str, Any]) -> BaseException:
    """The recorded exception, or a stand-in with its text when it cannot be read back here."""
    data: bytes | None = record["error"]
    if data is not None:
        try:
            error: BaseException = pickle.loads(data)
        except Exception:
            pass
        else:
            return error
    return RuntimeError(record["text"])
