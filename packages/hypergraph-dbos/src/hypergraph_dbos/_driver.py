"""The durable driver: AsyncRunner's driver whose node calls are DBOS steps.

The shared run loop (``hypergraph.runtime``) decides what runs; this driver only changes how:

- ``invoke`` runs the node's call (retries, timeout and generator draining included, as
  AsyncRunner does them) as one DBOS step named by the task id, relative to the workflow;
- the executor reserves every sibling's step position in task order before the superstep's
  work is gathered, so positions never depend on which sibling finishes first;
- nested graphs on this runner run inline in the same workflow, one after another (their
  leaf siblings still run concurrently), and nested map items one at a time, so every step
  position is drawn in an order the replay reproduces;
- a top-level ``map()`` answers ``ExecuteItems`` by starting one workflow per item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from hypergraph import runtime
from hypergraph.results import RunStatus
from hypergraph_async.driver import AsyncDriver, GatherExecutor
from hypergraph_async.limiter import active_limiter
from hypergraph_dbos import _steps

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = ["DBOSDriver", "ReservingExecutor"]

GRAPH = runtime.NodeKind.GRAPH
INTERRUPT = runtime.NodeKind.INTERRUPT


def step_name(task: runtime.NodeTask, depth: int) -> str:
    """The task id with the workflow's own path left off: the same in every process."""
    identity = task.identity
    return runtime.task_id(identity.path[depth:], task.node_name, task.superstep, task.visit)


@attrs.frozen(slots=True)
class StartItem(runtime.Effect):
    """Item ``index`` of a top-level map, as its own workflow (answered with its RunResult)."""

    index: int


class ReservingExecutor:
    """Reserves leaf steps in task order, then runs leaves concurrently and nested graphs in turn."""

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
        assert scope is not None
        nested = [i for i, task in enumerate(tasks) if driver.runs_inline(task)]
        for task in tasks:
            if task.plan.kind is not INTERRUPT and not driver.runs_inline(task):
                scope.reserve(step_name(task, driver.depth))
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

    def runs_inline(self, task: runtime.NodeTask) -> bool:
        """A nested graph on this runner: its own steps are drawn inside this workflow."""
        return task.plan.kind is GRAPH and self.owns(task.plan.node.runner)

    def owns(self, runner: Any) -> bool:
        return runner is None or runner is self.runner or type(runner) is type(self.runner)

    async def handle(self, effect: Any) -> Any:
        kind = type(effect)
        if kind is runtime.RunChild and self.owns(effect.runner):
            return await self.drive(effect.steps())
        if kind is StartItem:
            graph, items, info = self.map_source  # type: ignore[misc]
            return await self.runner._start_item(graph, items[effect.index], info, effect.index)
        return await super().handle(effect)

    async def invoke(self, effect: runtime.Invoke) -> Any:
        """The node's call as the durable step named by its task id (interrupt handlers aside)."""
        scope = self.scope
        task = effect.task
        if scope is None or task.plan.kind is INTERRUPT:
            return await super().invoke(effect)
        call = AsyncDriver.invoke

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
        results: list[Any] = [None] * effect.count
        stop = effect.stop_on_failure and active_limiter() is not None
        for index in range(effect.count):
            result = results[index] = await self.drive(effect.steps(index))
            if stop and result.status is RunStatus.FAILED:
                break
        return results
