"""The values a run loop hands to its driver: node tasks, their outcomes, and effects.

The loop (``hypergraph.runtime._loop``) is a generator that never performs I/O itself. It yields
*effects* — deliver this event, execute these tasks, look this up in the cache, call this node,
run this nested graph — and the driver (SyncRunner, AsyncRunner, a durable or distributed
runner) performs each one its own way and sends the answer back.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from hypergraph.runtime._identity import RunIdentity, task_id

if TYPE_CHECKING:
    from hypergraph.events.types import BaseEvent
    from hypergraph.nodes._base import HyperNode
    from hypergraph.plan import NodePlan
    from hypergraph.results import MapResult, PauseInfo, RunResult
    from hypergraph.runtime._snapshot import RunSnapshot

__all__ = [
    "CacheGet",
    "CacheSet",
    "Committed",
    "Effect",
    "ExecuteBatch",
    "ExecuteItems",
    "GatherLeaves",
    "Invoke",
    "Journaled",
    "NodeTask",
    "RunChild",
    "Steps",
    "TaskOutcome",
    "Tick",
]


@attrs.frozen(slots=True)
class NodeTask:
    """One execution of one node: what to call, with which arguments, and its identity."""

    plan: NodePlan
    kwargs: dict[str, Any]
    identity: RunIdentity
    superstep: int
    visit: int

    @property
    def node_name(self) -> str:
        return self.plan.name

    @property
    def node(self) -> HyperNode:
        return self.plan.node  # type: ignore[no-any-return]

    @property
    def task_id(self) -> str:
        """Deterministic: path, node name, superstep, visit (see :func:`task_id`)."""
        return task_id(self.identity.path, self.plan.name, self.superstep, self.visit)


@attrs.frozen(slots=True)
class TaskOutcome:
    """What one task produced: outputs by name, a gate's decision, or a pause."""

    task: NodeTask
    outputs: dict[str, Any] = attrs.field(factory=dict)
    # a gate's decision in engine form (END or target indices); None for other nodes
    decision: Any = None
    pause: PauseInfo | None = None
    # the paused nested run's own snapshot, so a resume restores it instead of re-running it
    child: RunSnapshot | None = None
    cached: bool = False


# ---------------------------------------------------------------------------- effects
class Effect:
    """Base of everything a loop yields besides events."""

    __slots__ = ()


@attrs.frozen(slots=True)
class ExecuteBatch(Effect):
    """Run these tasks (one superstep); answer one result per task started.

    ``run_task(task)`` is the task's own loop (events, cache, the call): drive it to its
    ``TaskOutcome`` in whatever order, thread or process the driver likes.

    Each result is a ``TaskOutcome`` or the exception the task raised. A driver that stops at
    the first failure (SyncRunner) answers a shorter list: tasks past it never ran.
    """

    tasks: Sequence[NodeTask]
    run_task: Callable[[NodeTask], Steps[TaskOutcome]]


@attrs.frozen(slots=True)
class ExecuteItems(Effect):
    """Run map items ``0..count-1``; ``steps(i)`` is item i's loop. Answer a list of results.

    Items never raise their node's failure (they return FAILED results); a driver may stop
    starting items once one failed when ``stop_on_failure`` is set. Missing items are ``None``.
    """

    count: int
    steps: Callable[[int], Steps[RunResult]]
    stop_on_failure: bool
    # item i without a generator (compiled items): a driver may call it instead of driving
    # ``steps(i)``; it returns an object with a ``status`` (the item itself stays in the map)
    direct: Callable[[int], Any] | None = None
    # the map's own identity: item ``i`` runs at path ``(*identity.path, str(i))``
    identity: RunIdentity | None = None
    # item i as a coroutine (compiled items of async functions): ``await direct_async(i, sem)``
    # with the shared budget's semaphore (or None) held around each async call
    direct_async: Callable[[int, Any], Any] | None = None
    # compiled items run timed (``TimedItems``, "exit" durability): a persisting driver writes
    # the items ``direct`` ran from what they did (``records_items``)
    timed: Any = None


@attrs.frozen(slots=True)
class GatherLeaves(Effect):
    """Await these plain async calls ``(func, kwargs)`` concurrently, each under the shared
    budget; answer what each returned, or the exception it raised, in order.

    Only yielded to drivers with ``gathers`` set, for supersteps nothing observes.
    """

    calls: tuple[tuple[Callable[..., Any], dict[str, Any]], ...]


@attrs.frozen(slots=True)
class CacheGet(Effect):
    """Look ``node``'s result up for these keyword arguments; answer a ``CacheLookup``."""

    node: HyperNode
    kwargs: dict[str, Any]


@attrs.frozen(slots=True)
class CacheSet(Effect):
    """Store a successful execution under the key of ``lookup``; answer ``None``."""

    lookup: Any
    outputs: dict[str, Any]
    decision: Any = None


@attrs.frozen(slots=True)
class Invoke(Effect):
    """Call the task's function and answer what it returned (a generator drained, GN2).

    ``chunk_event(chunk, index)`` builds the StreamingChunkEvent of each yielded chunk, or is
    ``None`` when nothing listens; ``retry_event`` likewise for retries under the node's
    ``RetryPolicy`` (``task.plan.retry``, ``task.plan.timeout``), which the driver applies.
    This is the seam a durable driver wraps as one step.
    """

    task: NodeTask
    chunk_event: Callable[[Any, int], BaseEvent] | None = None
    # builds the NodeRetryEvent of a retry (attempt, error, delay) when something listens
    retry_event: Callable[[int, BaseException, float], BaseEvent] | None = None


@attrs.frozen(slots=True)
class RunChild(Effect):
    """Run a nested graph node's inner graph; answer its ``RunResult`` or ``MapResult``.

    ``steps()`` is the child's loop for a driver that runs it itself (same runner, shared
    emitter and limiter); ``call(runner)`` is the public ``run()``/``map()`` call for a runner
    of another kind (SPEC R12, R14).
    """

    task: NodeTask
    runner: Any
    # ``steps()`` runs afresh (or from the parent's paused snapshot); ``steps(snapshot)``
    # continues the child from ``snapshot`` (a checkpointer restoring a nested run)
    steps: Callable[..., Steps[RunResult | MapResult]]
    call: Callable[[Any], Callable[[], Any]]
    # the inner run's input values (what a checkpointer compares before restoring it)
    values: dict[str, Any] | None = None


@attrs.frozen(slots=True)
class Committed(Effect):
    """A superstep was committed; only yielded to drivers with ``persists`` set.

    ``snapshot()`` is the run's restorable state right now (between supersteps); ``tasks`` and
    ``results`` are the superstep's tasks and what each produced (an outcome or an exception;
    tasks past the end of ``results`` never ran). This is where a checkpointer writes.
    """

    identity: RunIdentity
    superstep: int
    tasks: Sequence[NodeTask]
    results: Sequence[Any]
    snapshot: Callable[[], RunSnapshot]
    # the committing ``RunLoop``, for a checkpointer that records only what changed
    loop: Any = None


class Journaled(Effect):
    """The loop committed a superstep whose calls it only journaled: record it now.

    A recorded run that nothing else observes calls plain sync nodes itself and appends each
    call to the journal its driver gave it (``DriverTraits.journal``); after each such
    superstep it yields this (the same object every time), unless the driver writes the run
    only when it ends.
    """

    __slots__ = ("data", "loop")

    def __init__(self, loop: Any, data: Any = None) -> None:
        self.loop = loop
        self.data = data  # what the driver keeps for this loop's writes


@attrs.frozen(slots=True)
class Tick(Effect):
    """A point where an async driver lets the event loop run (cancellation, streaming)."""


T = TypeVar("T")
Steps = Generator[Any, Any, T]
"""A loop generator: yields events and effects, returns the run's (or task's) result."""
