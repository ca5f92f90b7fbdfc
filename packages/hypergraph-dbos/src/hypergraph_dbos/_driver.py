"""The durable driver: AsyncRunner's driver whose node calls are DBOS steps.

The shared run loop (``hypergraph.runtime``) decides what runs; this driver only changes how:

- ``invoke`` runs the node's call (retries, timeout and generator draining included, as
  AsyncRunner does them) as one DBOS step named by the task id, relative to the workflow; a
  ``RetryPolicy``'s failed attempts are recorded as they happen (``_attempts``), so a crash
  mid-backoff resumes the attempt count;
- the executor reserves every sibling's step position in task order before the superstep's
  work is gathered, so positions never depend on which sibling finishes first;
- a nested graph on this runner is a child workflow ``<workflow>/<node>``
  (:mod:`hypergraph_dbos._children`), its start reserved in task order like a step, so
  siblings run concurrently; one that may pause runs inline in this workflow instead, one
  after another; a nested map's items are one step each (positions reserved in item order,
  items concurrent), their nodes running plainly inside it;
- a top-level ``map()`` answers ``ExecuteItems`` by starting one workflow per item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import attrs

from hypergraph import runtime
from hypergraph.results import MapResult, RunResult, RunStatus
from hypergraph_async.driver import AsyncDriver, GatherExecutor
from hypergraph_async.limiter import active_limiter
from hypergraph_dbos import _attempts, _children, _steps

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = ["DBOSDriver", "ReservingExecutor"]

GRAPH = runtime.NodeKind.GRAPH
INTERRUPT = runtime.NodeKind.INTERRUPT


def step_name(task: runtime.NodeTask, depth: int) -> str:
    """The task id with the workflow's own path left off: the same in every process."""
    identity = task.identity
    return runtime.task_id(identity.path[depth:], task.node_name, task.superstep, task.visit)


_PARENT: ContextVar[runtime.NodeTask | None] = ContextVar("hypergraph_dbos_parent", default=None)
"""The graph-node task whose nested run (or map) the driver is driving right now."""


@attrs.frozen(slots=True)
class ItemStep(runtime.Effect):
    """Item ``index`` of a nested map as the one step ``name`` (answered with its RunResult)."""

    name: str
    steps: Callable[[int], runtime.Steps[Any]]
    index: int


@attrs.frozen(slots=True)
class StartItem(runtime.Effect):
    """Item ``index`` of a top-level map, as its own workflow (answered with its RunResult)."""

    index: int


class ReservingExecutor:
    """Reserves steps and child starts in task order, runs them concurrently, inline graphs in turn."""

    def __init__(self, driver: DBOSDriver) -> None:
        self.driver = driver
        self.gather = GatherExecutor()

    async def execute(
        self,
        tasks: Sequence[runtime.NodeTask],
        run_task: Callable[[runtime.NodeTask], Awaitable[runtime.TaskOutcome]],
    ) -> list[runtime.TaskOutcome | BaseException]:
        driver = self.driver
        scope = driver.scope
        if scope is None or _steps.in_step():
            return await self.gather.execute(tasks, run_task)
        nested = [i for i, task in enumerate(tasks) if driver.runs_inline(task)]
        if len(tasks) > 1:  # a lone task draws its position when its step starts
            for task in tasks:
                if driver.is_step(task):
                    scope.reserve(step_name(task, driver.depth))
                elif driver.is_child(task):
                    scope.reserve(_children.child_workflow_id(driver, task))
        if not nested:
            return await self.gather.execute(tasks, run_task)
        leaves = [task for i, task in enumerate(tasks) if i not in set(nested)]
        slots: list[Any] = [None] * len(tasks)

        async def in_turn() -> list[Any]:
            done: list[Any] = []
            for i in nested:
                try:
                    done.append(await run_task(tasks[i]))
                except Exception as exc:
                    done.append(exc)
            return done

        leaf_results, graph_results = await asyncio.gather(
            self.gather.execute(leaves, run_task) if leaves else _nothing(), in_turn()
        )
        rest = iter(leaf_results)
        for i in range(len(tasks)):
            slots[i] = graph_results[nested.index(i)] if i in nested else next(rest)
        return slots


async def _nothing() -> list[Any]:
    return []


def without_checkpoints(result: Any) -> Any:
    """A nested result DBOS can store: restorable snapshots (live state) left out."""
    if isinstance(result, RunResult):
        return attrs.evolve(result, checkpoint=None)
    if isinstance(result, MapResult):
        return MapResult(
            tuple(without_checkpoints(r) for r in result.results), result.run_id,
            result.total_duration_ms, result.map_over, result.map_mode, result.graph_name,
        )
    return result


class DBOSDriver(AsyncDriver):
    """AsyncDriver inside a DBOS workflow (``scope``), or at a top-level map (``map_source``)."""

    def __init__(
        self,
        runner: Any,
        emitter: Any,
        *,
        scope: _steps.Scope | None = None,
        depth: int = 0,
        map_source: tuple[Graph, list[dict[str, Any]], runtime.RunContext] | None = None,
    ) -> None:
        super().__init__(runner, emitter, ReservingExecutor(self))
        self.observed = True  # every node is a task, so every node call is a step
        self.scope = scope
        self.depth = depth
        self.map_source = map_source
        # set by the workflow body: its graph's registry key, the workflow whose caller gets
        # the events, the run options children inherit, and (a nested map's child workflow)
        # the name its item steps start with
        self.graph_key: str | None = None
        self.caller_id: str | None = None
        self.run_options: dict[str, Any] = {}
        self.map_where: str | None = None
        from hypergraph_dbos.runner import DBOSAsyncRunner

        self.runner_kind = DBOSAsyncRunner

    async def foreign_step(self, effect: runtime.RunChild) -> Any:
        """A nested graph on another kind of runner (R14) is one step as a whole."""
        scope = self.scope
        assert scope is not None
        runner = effect.runner
        task = effect.task

        async def work() -> Any:
            call = effect.call(runner)
            result = await runtime.call_from_async(runner.capabilities.returns_coroutine, call)
            return without_checkpoints(result)

        return await _steps.run_step(scope, step_name(task, self.depth), work, node=task.node_name)

    def runs_inline(self, task: runtime.NodeTask) -> bool:
        """A nested graph on this runner that may pause: its steps are drawn in this workflow."""
        np = task.plan
        return np.kind is GRAPH and self.owns(np.node.runner) and np.pauses

    def is_child(self, task: runtime.NodeTask) -> bool:
        """A nested graph on this runner that cannot pause: a child workflow of this one."""
        np = task.plan
        return np.kind is GRAPH and not np.pauses and self.owns(np.node.runner)

    def is_step(self, task: runtime.NodeTask) -> bool:
        """Whether the task is one DBOS step: a node call, or a whole graph on another runner."""
        np = task.plan
        kind = np.kind
        if kind is INTERRUPT:
            return False
        if kind is GRAPH:
            return not np.pauses and not self.owns(np.node.runner)
        return True

    def durable(self) -> bool:
        """Inside the workflow itself (not inside one of its steps)."""
        return self.scope is not None and not _steps.in_step()

    def owns(self, runner: Any) -> bool:
        return runner is None or runner is self.runner or isinstance(runner, self.runner_kind)

    async def handle(self, effect: Any) -> Any:
        kind = type(effect)
        if kind is runtime.RunChild:
            if self.owns(effect.runner):
                if self.durable() and self.is_child(effect.task):
                    return await _children.run_child(self, effect)
                token = _PARENT.set(effect.task)
                try:
                    return await self.drive(effect.steps())
                finally:
                    _PARENT.reset(token)
            if self.durable() and self.is_step(effect.task):
                return await self.foreign_step(effect)
        if kind is ItemStep:
            scope = self.scope
            assert scope is not None
            item = effect

            async def work() -> Any:
                return without_checkpoints(await self.drive(item.steps(item.index)))

            return await _steps.run_step(scope, item.name, work, node=item.name)
        if kind is StartItem:
            graph, items, info = self.map_source  # type: ignore[misc]
            return await self.runner._start_item(graph, items[effect.index], info, effect.index)
        return await super().handle(effect)

    async def invoke(self, effect: runtime.Invoke) -> Any:
        """The node's call as the durable step named by its task id (interrupt handlers aside)."""
        scope = self.scope
        task = effect.task
        if scope is None or task.plan.kind is INTERRUPT or _steps.in_step():
            return await super().invoke(effect)
        # a policy's attempts are recorded as they fail, so a crash mid-backoff resumes the count
        call = _attempts.invoke_durably if task.plan.has_policy else AsyncDriver.invoke

        async def work() -> Any:
            return await call(self, effect)

        return await _steps.run_step(
            scope, step_name(task, self.depth), work, node=task.node_name,
            outputs=tuple(task.node.outputs),
        )

    async def execute_items(self, effect: runtime.ExecuteItems) -> list[Any]:
        """Top-level map: one workflow per item. Nested map inside a workflow: items in turn."""
        if self.scope is None and self.map_source is not None:
            _graph, items, _info = self.map_source
            original = effect.steps

            def item_steps(index: int) -> runtime.Steps[Any]:
                if not self.runner._item_ready(_graph, items[index]):
                    return (yield from original(index))  # the loop's own not-started result
                return (yield StartItem(index))

            return await super().execute_items(attrs.evolve(effect, steps=item_steps))
        scope = self.scope
        parent = _PARENT.get()
        if scope is None or _steps.in_step():
            return await super().execute_items(effect)
        where: str | None = None
        if parent is not None and not parent.plan.pauses:
            where = step_name(parent, self.depth)
        elif parent is None:
            where = self.map_where  # the map is this child workflow's whole run
        if where is not None:
            names = [f"{where}[{i}]" for i in range(effect.count)]
            for name in names:  # positions in item order, before any item starts
                scope.reserve(name)
            nested = effect.steps

            def item_step(index: int) -> runtime.Steps[Any]:
                return (yield ItemStep(names[index], nested, index))

            return await super().execute_items(attrs.evolve(effect, steps=item_step))
        # items that may pause run in the workflow itself, one at a time
        results: list[Any] = [None] * effect.count
        stop = effect.stop_on_failure and active_limiter() is not None
        for index in range(effect.count):
            result = results[index] = await self.drive(effect.steps(index))
            if stop and result.status is RunStatus.FAILED:
                break
        return results
