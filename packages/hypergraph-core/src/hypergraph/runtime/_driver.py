"""Drivers perform a loop's effects; executors decide how a superstep's tasks run.

``SyncDriver`` performs effects in the calling thread. Its executor — sequential by default,
a thread pool in the example ``ThreadPoolRunner`` — is the only thing a sync runner needs to
choose. AsyncRunner's driver (in ``hypergraph-async``) performs the same effects with
``await``; a durable driver wraps ``Invoke`` as a durable step named by ``task.task_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from hypergraph.engine.execution import join_chunks
from hypergraph.events.types import BaseEvent
from hypergraph.plan import GENERATOR
from hypergraph.policies import call_with_policy
from hypergraph.results import RunStatus
from hypergraph.runners.nesting import call_from_sync
from hypergraph.runtime._tasks import (
    CacheGet,
    CacheSet,
    Committed,
    Effect,
    ExecuteBatch,
    ExecuteItems,
    Invoke,
    NodeTask,
    RunChild,
    Steps,
    TaskOutcome,
    Tick,
)

if TYPE_CHECKING:
    from hypergraph.cache import NodeCache
    from hypergraph.events._emitter import Emitter

__all__ = [
    "DriverTraits",
    "Executor",
    "SequentialExecutor",
    "SyncDriver",
    "drain",
    "drive",
]


class DriverTraits:
    """What the loop asks of its driver: how failures and the event loop are treated.

    ``finish_siblings``: a failing node lets the rest of its superstep finish (AsyncRunner) or
    stops it (SyncRunner, SPEC R9). ``ticks``: yield to an event loop every superstep.
    ``caching``: the runner has a cache backend. ``persists``: answer a ``Committed`` effect
    after every superstep (a checkpointer). ``gathers``: perform ``GatherLeaves`` (plain
    async calls of unobserved supersteps; async drivers). ``observed``: something besides events watches
    nodes (cache, checkpointer), so every node runs as a task. ``journals_at_end``: ``journal``
    has no flush effect (each run is recorded once, when it ends), so a compiled plan may run
    timed and be journaled after its calls.
    """

    finish_siblings = False
    ticks = False
    caching = False
    observed = False
    persists = False
    gathers = False
    journals_at_end = False

    def check_fan_out(self, count: int, what: str) -> None:
        """Refuse an unbounded fan-out of ``count`` items (AsyncRunner's MP12); default: no limit."""

    def journal(self, loop: Any) -> tuple[list[Any], Effect | None] | None:
        """A persisting driver returns the list a recorded loop appends its plain calls to, and
        what the loop yields after each superstep it journaled so the driver records it then
        (None there: the run is written only when it ends, ``durability="exit"``). None: the
        loop yields ``Committed`` with its tasks instead."""
        return None

    def records_items(self, identity: Any) -> bool:
        """Whether this driver records the compiled items of the map at ``identity`` itself
        from what they did (``ExecuteItems.timed``), with no run loop per item; default: no."""
        return False


@runtime_checkable
class Executor(Protocol):
    """Runs one superstep's tasks with ``run_task``, in order or in parallel.

    Returns one entry per task it started, in task order: the task's ``TaskOutcome`` or the
    exception it raised. Stopping early (after a failure) returns a shorter list.
    """

    def execute(
        self, tasks: Sequence[NodeTask], run_task: Callable[[NodeTask], TaskOutcome]
    ) -> list[TaskOutcome | BaseException]: ...


class SequentialExecutor:
    """SyncRunner's executor: tasks one after another; the first failure ends the superstep."""

    def execute(
        self, tasks: Sequence[NodeTask], run_task: Callable[[NodeTask], TaskOutcome]
    ) -> list[TaskOutcome | BaseException]:
        results: list[TaskOutcome | BaseException] = []
        for task in tasks:
            try:
                results.append(run_task(task))
            except Exception as exc:
                results.append(exc)
                break
        return results


def drive(steps: Steps[Any], handle: Callable[[Any], Any]) -> Any:
    """Run a loop generator to its result, performing each yielded item with ``handle``.

    An exception from ``handle`` is thrown into the generator at the yield that asked for it,
    so the loop sees a failing node exactly where it called it.
    """
    try:
        effect = next(steps)
    except StopIteration as stop:
        return stop.value
    while True:
        try:
            answer = handle(effect)
        except BaseException as exc:
            try:
                effect = steps.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            effect = steps.send(answer)
        except StopIteration as stop:
            return stop.value


def drain(
    task: NodeTask,
    chunks: Any,
    send: Callable[[BaseEvent], None] | None,
    event: Any,
    collected: list[Any] | None = None,
) -> Any:
    """GN2: consume a sync generator fully, one StreamingChunkEvent per chunk; the stored value.

    ``collected`` receives the chunks as they come (a retry policy checks it is still empty).
    """
    if collected is None:
        collected = []
    for chunk in chunks:
        if send is not None and event is not None:
            send(event(chunk, len(collected)))
        collected.append(chunk)
    return join_chunks(task.plan, collected)


class SyncDriver(DriverTraits):
    """Performs effects in the calling thread; shared by every top-level call of a sync runner.

    Subclass it (or pass an ``executor``) to run supersteps differently; override ``invoke`` to
    wrap each node call (a durable step, a remote call).
    """

    def __init__(
        self,
        runner: Any,
        node_cache: NodeCache | None,
        emitter: Emitter | None,
        executor: Executor | None = None,
        *,
        observed: bool = False,
    ) -> None:
        self.runner = runner
        self.node_cache = node_cache
        self.emitter = emitter
        self.executor = executor if executor is not None else SequentialExecutor()
        self.caching = node_cache is not None
        self.observed = observed or node_cache is not None

    def drive(self, steps: Steps[Any]) -> Any:
        """Run ``steps`` (a run, map or task loop) to its result."""
        return drive(steps, self.handle)

    def handle(self, effect: Any) -> Any:
        """Perform one event or effect; the answer goes back into the loop."""
        if isinstance(effect, BaseEvent):
            if self.emitter is not None:
                self.emitter.send(effect)
            return None
        kind = type(effect)
        if kind is ExecuteBatch:
            run = effect.run_task

            def run_task(task: NodeTask) -> TaskOutcome:
                return self.drive(run(task))  # type: ignore[no-any-return]

            return self.executor.execute(effect.tasks, run_task)
        if kind is Invoke:
            return self.invoke(effect)
        if kind is CacheGet:
            assert self.node_cache is not None
            return self.node_cache.lookup(effect.node, effect.kwargs)
        if kind is CacheSet:
            assert self.node_cache is not None
            self.node_cache.store(effect.lookup, effect.outputs, effect.decision)
            return None
        if kind is RunChild:
            return self.run_child(effect)
        if kind is ExecuteItems:
            return self.execute_items(effect)
        if kind is Tick or kind is Committed:
            return None
        raise TypeError(f"{type(self).__name__} cannot perform {effect!r}")

    def invoke(self, effect: Invoke) -> Any:
        """Call the node's function (drain a generator); what it returned."""
        task = effect.task
        np = task.plan
        send = self.emitter.send if self.emitter is not None else None
        if np.retry is None:
            if np.kind is GENERATOR:
                return drain(task, np.func(**task.kwargs), send, effect.chunk_event)
            return np.func(**task.kwargs)
        on_retry = None
        if send is not None and effect.retry_event is not None:
            retry_event = effect.retry_event

            def on_retry(attempt: int, error: BaseException, delay: float) -> None:
                send(retry_event(attempt, error, delay))

        if np.kind is GENERATOR:  # retried only while no chunk was streamed
            chunks: list[Any] = []

            def attempt() -> Any:
                return drain(task, np.func(**task.kwargs), send, effect.chunk_event, chunks)

            return call_with_policy(
                attempt, np.retry, node_name=np.name, on_retry=on_retry,
                can_retry=lambda: not chunks,
            )
        return call_with_policy(
            lambda: np.func(**task.kwargs), np.retry, node_name=np.name, on_retry=on_retry
        )

    def run_child(self, effect: RunChild) -> Any:
        """A nested graph: on this driver when it names no other runner, else R14."""
        runner = effect.runner
        if runner is None or runner is self.runner:
            return self.drive(effect.steps())
        return call_from_sync(runner.capabilities.returns_coroutine, effect.call(runner))

    def execute_items(self, effect: ExecuteItems) -> list[Any]:
        """Map items in index order (MP5); in raise mode the first failure stops the map."""
        results: list[Any] = []
        direct = effect.direct
        for index in range(effect.count):
            result = direct(index) if direct is not None else self.drive(effect.steps(index))
            results.append(result)
            if effect.stop_on_failure and result.status is RunStatus.FAILED:
                break
        return results
