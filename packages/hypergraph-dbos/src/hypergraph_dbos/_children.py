"""Nested graphs as DBOS child workflows ``<parent workflow id>/<graph node path>`` (SPEC CP9).

A nested graph on this runner whose run cannot pause is a child workflow of the workflow that
reaches it. DBOS records the child's start in the parent at a step position the executor
reserved in task order, so sibling nested graphs run concurrently (each draws its own steps in
its own workflow) and a replay finds every child at the same position. A recovered parent finds
its child by that record and waits for it; a recovered child finishes on its own, once.

Nested graphs that may pause stay inline in the parent workflow: a pause is the top-level
workflow waiting durably for its answer, and the answer re-drives the parent's loop.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import TYPE_CHECKING, Any

from hypergraph import runtime
from hypergraph_dbos import _app, _cancel, _steps
from hypergraph_dbos._dbos_import import WorkflowHandleAsyncTask, dbos
from hypergraph_dbos._forward import ForwardingEmitter

if TYPE_CHECKING:
    from hypergraph.nodes.graph_node import GraphNode
    from hypergraph_dbos._driver import DBOSDriver

__all__ = ["CHILD_WORKFLOW_NAME", "child_workflow_id", "run_child", "run_child_workflow"]

DBOS = dbos.DBOS

CHILD_WORKFLOW_NAME = "hypergraph.run_child"


class _Live:
    """What a child body started from a parent in this process reuses: loop, emitter, runner."""

    __slots__ = ("emitter", "loop", "node", "runner", "steps")

    def __init__(self, driver: DBOSDriver, effect: runtime.RunChild) -> None:
        self.steps = effect.steps
        self.node: GraphNode = effect.task.plan.node
        self.emitter = driver.emitter
        self.runner = driver.runner
        self.loop = asyncio.get_running_loop()


_LIVE: dict[str, _Live] = {}
"""Child workflow id -> its parent's live resources, until the child's body picks them up."""


def node_path(driver: DBOSDriver, task: runtime.NodeTask) -> tuple[str, ...]:
    """Graph-node names from the driver's workflow graph down to the task's graph node."""
    return (*task.identity.path[driver.depth:], task.node_name)


def child_workflow_id(driver: DBOSDriver, task: runtime.NodeTask) -> str:
    """``<workflow>/<graph node path>``; a later visit of the node (a cycle) adds ``@<visit>``."""
    scope = driver.scope
    assert scope is not None
    *above, name = node_path(driver, task)
    last = name if task.visit == 1 else f"{name}@{task.visit}"
    return "/".join((scope.workflow_id, *above, last))


async def run_child(driver: DBOSDriver, effect: runtime.RunChild) -> Any:
    """Run the nested graph of ``effect`` as a child workflow; answer its result (or raise)."""
    scope = driver.scope
    assert scope is not None and driver.graph_key is not None
    task = effect.task
    workflow_id = child_workflow_id(driver, task)
    memo = scope.memo
    if workflow_id in memo:  # a re-drive of this workflow (an interrupt's answer)
        return memo[workflow_id]
    lane = scope.lanes.pop(workflow_id, None)
    position = None if lane is None or lane.reservation is None else lane.reservation.step_id
    options = {
        **driver.run_options,
        "path": list(task.identity.path),
        "node_path": list(node_path(driver, task)),
        "caller": driver.caller_id,
        "workflow_id": task.identity.workflow_id,
    }
    live = _LIVE[workflow_id] = _Live(driver, effect)
    try:
        handle = await _start(workflow_id, position, (driver.graph_key, effect.values, options))
        if isinstance(handle, WorkflowHandleAsyncTask):
            outcome: dict[str, Any] = await handle.task
        else:
            # it ran before (a replay) or runs elsewhere (its own recovery): wait for its result
            # outside the workflow's context, so the wait is not recorded as a step of its own
            waiting = asyncio.get_running_loop().create_task(
                handle.get_result(), context=contextvars.Context()
            )
            outcome = await waiting
    finally:
        if _LIVE.get(workflow_id) is live:
            del _LIVE[workflow_id]
    error = outcome.get("error")
    if error is not None:
        raise error
    memo[workflow_id] = outcome["result"]
    return outcome["result"]


async def _start(workflow_id: str, position: int | None, args: tuple[Any, ...]) -> Any:
    """Start the child workflow at the reserved ``position`` of the calling workflow."""
    from dbos import _core
    from dbos._context import DBOSContext, get_local_dbos_context
    from dbos._dbos import _get_dbos_instance

    await DBOS._configure_asyncio_thread_pool()
    context = get_local_dbos_context()
    assert context is not None
    drawn = context.function_id
    if position is not None:  # DBOS draws the start's position as the next one: make it ours
        context.function_id = position - 1
    try:
        with dbos.SetWorkflowID(workflow_id):
            child = DBOSContext.create_start_workflow_child(context)
    finally:
        if position is not None:
            context.function_id = drawn
    return await _core.start_workflow_async(_get_dbos_instance(), child, run_child_workflow, args, {})


@DBOS.workflow(name=CHILD_WORKFLOW_NAME)
async def run_child_workflow(
    key: str, values: dict[str, Any], options: dict[str, Any]
) -> dict[str, Any]:
    """The nested graph at ``options['node_path']`` of graph ``key``, run with ``values``."""
    from hypergraph_dbos._driver import _PARENT, DBOSDriver, without_checkpoints
    from hypergraph_dbos.runner import caller_of, portable_error

    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    live = _LIVE.pop(workflow_id, None)
    if live is not None and live.loop is not asyncio.get_running_loop():
        live = None
    caller = options["caller"]
    if live is not None:
        node, runner, emitter = live.node, live.runner, live.emitter
    else:  # a recovery, or a resume on DBOS's own loop: events go to whoever waits for the run
        node, runner = _app.lookup_node(key, tuple(options["node_path"]))
        emitter = ForwardingEmitter(lambda: caller_of(caller))
    scope = _steps.Scope(workflow_id)
    token = _steps._SCOPE.set(scope)
    outer = _PARENT.set(None)  # a context copied from the parent: no graph node drives this
    body = asyncio.current_task()
    if body is not None:
        _cancel.track(workflow_id, body)
    path = tuple(options["path"])
    driver = DBOSDriver(runner, emitter, scope=scope, depth=len(path) + 1)
    driver.graph_key = _app.graph_key(node.graph)
    driver.caller_id = caller
    driver.run_options = {k: options[k] for k in ("max_iterations", "session_id")}
    if node.map_config is not None:
        driver.map_where = node.name
    try:
        if live is not None:
            steps = live.steps()
        else:
            info = runtime.RunContext(
                graph_name=node.graph.name, emitter=emitter,
                max_iterations=options["max_iterations"], error_handling="raise",
                on_missing="ignore", workflow_id=options["workflow_id"],
                session_id=options.get("session_id"), path=path,
            )
            steps = runtime.child_steps(node, values, info, info.span_id, driver)
        try:
            result = await driver.drive(steps)
        except Exception as exc:
            return {"error": portable_error(exc)}
        return {"result": without_checkpoints(result)}
    finally:
        if body is not None:
            _cancel.untrack(workflow_id, body)
        _PARENT.reset(outer)
        _steps._SCOPE.reset(token)
