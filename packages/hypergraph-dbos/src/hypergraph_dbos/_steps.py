"""The one place a node execution becomes a DBOS step.

Everything DBOS-specific about *executing a node* lives here, behind :func:`run_step`, which
the durable driver (``_driver.DBOSDriver.invoke``) calls with the runtime's task id.

Step ids in a DBOS workflow are positions (1, 2, 3, ...) drawn when a step starts, and replay
checks that the step recorded at a position has the same name. A superstep starts its siblings
concurrently, so the executor draws every sibling's position synchronously in task order before
anything is awaited (:meth:`Scope.reserve`).
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from hypergraph.exceptions import UnserializableValueError
from hypergraph_dbos._dbos_import import dbos

__all__ = ["Lane", "Scope", "current_scope", "in_step", "run_step", "sleep_index"]

DBOS = dbos.DBOS


class Lane:
    """One node execution of a superstep: its step name and the position reserved for it."""

    __slots__ = ("reservation", "step_name")

    def __init__(self, step_name: str, reservation: Any = None) -> None:
        self.step_name = step_name
        self.reservation = reservation


class Scope:
    """The durable workflow a driver runs in: finished steps, and positions reserved per task.

    ``memo`` maps step names to what their step returned in this execution of the workflow; a
    re-drive after an interrupt answer (same workflow, same task ids) reuses them instead of
    drawing new steps, and replay rebuilds it identically from the recorded steps. ``lanes``
    holds the positions the executor reserved, by step name, until the step runs.
    ``attempts`` is the read of the retried attempts earlier executions of this workflow
    recorded (``_attempts``), done once per execution by the first node with a policy.
    """

    __slots__ = ("attempts", "lanes", "memo", "workflow_id")

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        self.memo: dict[str, Any] = {}
        self.lanes: dict[str, Lane] = {}
        self.attempts: asyncio.Future[dict[str, Any]] | None = None

    def reserve(self, step_name: str) -> None:
        """Draw the step position of ``step_name`` now (synchronously), unless it already ran."""
        if step_name not in self.memo and step_name not in self.lanes:
            self.lanes[step_name] = Lane(step_name, DBOS.reserve_step())


_SCOPE: ContextVar[Scope | None] = ContextVar("hypergraph_dbos_scope", default=None)
_IN_STEP: ContextVar[bool] = ContextVar("hypergraph_dbos_in_step", default=False)
_STEP_SLEEPS: ContextVar[list[int] | None] = ContextVar("hypergraph_dbos_sleeps", default=None)


def current_scope() -> Scope | None:
    """The durable workflow this code runs in, or ``None`` outside DBOSAsyncRunner workflows."""
    return _SCOPE.get()


def in_step() -> bool:
    """Whether this code runs inside a node's DBOS step."""
    return _IN_STEP.get()


async def run_step(
    scope: Scope,
    name: str,
    call: Callable[[], Awaitable[Any]],
    options: dict[str, Any] | None = None,
    *,
    node: str = "",
    outputs: tuple[str, ...] = (),
) -> Any:
    """Run ``call`` as the durable step ``name`` of ``scope``'s workflow: once, ever.

    A step that finished before (in this execution or a crashed one) returns its recorded value
    without calling anything. A position reserved for ``name`` is used; otherwise one is drawn.
    """
    memo = scope.memo
    if name in memo:
        return memo[name]
    opts: dict[str, Any] = {"name": name}
    if options:
        opts.update(options)
    finished: list[Any] = []
    raised: list[Exception] = []

    async def step() -> Any:
        # inside a step nothing else is durable on its own: a nested run on another runner (and
        # any DBOSAsyncRunner run below it) executes plainly, as part of this one step
        sleeps = _STEP_SLEEPS.set([0])
        outside = _SCOPE.set(None)
        inside = _IN_STEP.set(True)
        try:
            value = await call()
        except Exception as exc:
            raised.append(exc)
            raise
        finally:
            _IN_STEP.reset(inside)
            _SCOPE.reset(outside)
            _STEP_SLEEPS.reset(sleeps)
        finished.append(value)
        return value

    lane = scope.lanes.pop(name, None)
    try:
        if lane is not None and lane.reservation is not None:
            value = await lane.reservation.run_async(opts, step)
        else:
            value = await DBOS.run_step_async(opts, step)  # type: ignore[call-overload]
    except Exception as exc:
        if finished:  # the node returned, DBOS could not store what it returned (DB8)
            raise _serialization_error(node or name, finished[0], exc, outputs) from exc
        if raised and raised[0] is not exc:
            # DBOS could not pickle the node's exception: the node's own error still propagates
            # (unrecorded, so a recovery runs this step again)
            raise raised[0] from None
        raise
    memo[name] = value
    return value


def sleep_index() -> int | None:
    """Per-step counter of ``durable_sleep`` calls (``None`` outside a durable step)."""
    counter = _STEP_SLEEPS.get()
    if counter is None:
        return None
    counter[0] += 1
    return counter[0]


def _serialization_error(
    node: str, value: Any, exc: BaseException, outputs: tuple[str, ...]
) -> UnserializableValueError:
    """Name the node and output whose value DBOS could not serialize."""
    if len(outputs) == 1:
        named = {outputs[0]: value}
    elif isinstance(value, tuple) and len(value) == len(outputs):
        named = dict(zip(outputs, value, strict=True))
    else:
        named = {}
    culprit = None
    for name, item in named.items():
        try:
            pickle.dumps(item)
        except Exception:
            culprit = name
            break
    where = f"output {culprit!r} of node {node!r}" if culprit else f"the result of node {node!r}"
    return UnserializableValueError(
        f"DBOS could not store {where}: {type(exc).__name__}: {exc}. Durable runs record every "
        "node output with pickle; return plain data, or instances of classes defined in an "
        "importable module (not __main__, no locks, sockets, open files or lambdas)."
    )

