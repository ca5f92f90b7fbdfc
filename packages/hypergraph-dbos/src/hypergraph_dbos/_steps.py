"""The one place a node execution becomes a DBOS step, and the deterministic ids that name steps.

Everything DBOS-specific about *executing a node* lives here, behind :func:`run_step`, so that
moving to the runtime's executor seam later means calling this from the seam instead of from the
AsyncRunner overrides.

Step ids in a DBOS workflow are positions (1, 2, 3, ...) drawn when a step starts, and replay
checks that the step recorded at a position has the same name. A superstep starts its siblings
concurrently, so the runner draws every durable unit's position synchronously in node order
before anything is awaited (:meth:`Scope.reserve`), and later units (nested graphs, drawn after
their events) wait for their turn (:meth:`Scope.turn`).
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from hypergraph.exceptions import UnserializableValueError
from hypergraph_dbos._dbos_import import dbos

__all__ = ["Lane", "Scope", "current_scope", "in_step", "run_step", "task_id"]

DBOS = dbos.DBOS


class Lane:
    """One durable unit started in a superstep: its task id, reserved position, and turn ticket."""

    __slots__ = ("reservation", "task_id", "ticket", "used")

    def __init__(self, task_id: str, reservation: Any = None, ticket: int | None = None) -> None:
        self.task_id = task_id
        self.reservation = reservation
        self.ticket = ticket
        self.used = False


class Scope:
    """The durable workflow the current code runs in: its memo of finished steps and its turns.

    ``memo`` maps task ids to what their step returned in this execution of the workflow; a
    re-drive after an interrupt answer (same workflow, same task ids) reuses them instead of
    drawing new steps, and replay rebuilds it identically from the recorded steps.
    """

    __slots__ = ("_done", "_next_ticket", "_turn", "_waiters", "memo", "path", "workflow_id")

    def __init__(self, workflow_id: str, path: str = "", memo: dict[str, Any] | None = None) -> None:
        self.workflow_id = workflow_id
        self.path = path
        self.memo: dict[str, Any] = {} if memo is None else memo
        self._next_ticket = 0
        self._turn = 0
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._done: set[int] = set()

    def nested(self, path: str) -> Scope:
        """The same workflow seen from an inline nested graph (task ids get ``path`` in front)."""
        return Scope(self.workflow_id, path, self.memo)

    def ticket(self) -> int:
        """A place in the order in which nested graphs of this workflow draw their positions."""
        ticket = self._next_ticket
        self._next_ticket += 1
        return ticket

    async def turn(self, ticket: int) -> None:
        """Wait until every nested graph with a smaller ticket has drawn its position."""
        if self._turn >= ticket:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(ticket, []).append(waiter)
        await waiter

    def release(self, ticket: int) -> None:
        """Pass the turn on once every smaller ticket has (releasing twice is harmless)."""
        if ticket < self._turn:
            return
        self._done.add(ticket)
        while self._turn in self._done:
            self._done.discard(self._turn)
            self._turn += 1
            for waiter in self._waiters.pop(self._turn, ()):
                if not waiter.done():
                    waiter.set_result(None)


_SCOPE: ContextVar[Scope | None] = ContextVar("hypergraph_dbos_scope", default=None)
_LANE: ContextVar[Lane | None] = ContextVar("hypergraph_dbos_lane", default=None)
_IN_STEP: ContextVar[bool] = ContextVar("hypergraph_dbos_in_step", default=False)
_STEP_SLEEPS: ContextVar[list[int] | None] = ContextVar("hypergraph_dbos_sleeps", default=None)


def current_scope() -> Scope | None:
    """The durable workflow this code runs in, or ``None`` outside DBOSAsyncRunner workflows."""
    return _SCOPE.get()


def in_step() -> bool:
    """Whether this code runs inside a node's DBOS step."""
    return _IN_STEP.get()


def task_id(scope: Scope, node_name: str, superstep: int, item_index: int | None = None) -> str:
    """Deterministic name of one node execution: graph path, node, map index, superstep.

    A node runs at most once per superstep, so the superstep doubles as its visit count.
    """
    item = "" if item_index is None else f"[{item_index}]"
    return f"{scope.path}{node_name}{item}@{superstep}"


async def run_step(
    tid: str,
    call: Callable[[], Awaitable[Any]],
    options: dict[str, Any] | None = None,
    *,
    node: str = "",
) -> Any:
    """Run ``call`` as the durable step ``tid``: once, ever, for the current workflow.

    Outside a DBOSAsyncRunner workflow it simply awaits ``call``. A step that finished before
    (in this execution or a crashed one) returns its recorded value without calling anything.
    """
    scope = _SCOPE.get()
    if scope is None:
        return await call()
    memo = scope.memo
    if tid in memo:
        return memo[tid]
    opts: dict[str, Any] = {"name": tid}
    if options:
        opts.update(options)
    finished: list[Any] = []

    async def step() -> Any:
        # inside a step nothing else is durable on its own: a nested run on another runner (and
        # any DBOSAsyncRunner run below it) executes plainly, as part of this one step
        sleeps = _STEP_SLEEPS.set([0])
        outside = _SCOPE.set(None)
        inside = _IN_STEP.set(True)
        try:
            value = await call()
        finally:
            _IN_STEP.reset(inside)
            _SCOPE.reset(outside)
            _STEP_SLEEPS.reset(sleeps)
        finished.append(value)
        return value

    lane = _LANE.get()
    try:
        if lane is not None and lane.task_id == tid and lane.reservation is not None and not lane.used:
            lane.used = True
            value = await lane.reservation.run_async(opts, step)
        else:
            value = await DBOS.run_step_async(opts, step)  # type: ignore[call-overload]
    except Exception as exc:
        if finished:  # the node returned, DBOS could not store what it returned (DB8)
            raise _serialization_error(node or tid, finished[0], exc) from exc
        raise
    memo[tid] = value
    return value


def reserve(scope: Scope, tid: str) -> Lane:
    """Draw the step position of ``tid`` now (synchronously), unless its step already ran."""
    if tid in scope.memo:
        return Lane(tid)
    return Lane(tid, DBOS.reserve_step())


def sleep_index() -> int | None:
    """Per-step counter of ``durable_sleep`` calls (``None`` outside a durable step)."""
    counter = _STEP_SLEEPS.get()
    if counter is None:
        return None
    counter[0] += 1
    return counter[0]


def _serialization_error(node: str, value: Any, exc: BaseException) -> UnserializableValueError:
    """Name the node and output whose value DBOS could not serialize."""
    culprit = None
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict):
        value = value[0]
    if isinstance(value, dict):
        for name, item in value.items():
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

