"""Stopping a durable run whose caller gave up (``iter()`` left early, a timeout, Ctrl-C).

AsyncRunner cancels the task that drives the run. A DBOS workflow's body runs in a task DBOS
creates itself: shielded from the handle the caller awaits, and on DBOS's own event loop when
the workflow was recovered or dequeued. Cancelling the caller reaches neither, so this module
keeps the body task of every workflow executing in this process, cancels it (and the bodies of
its child workflows) and records the workflow CANCELLED in DBOS, so that no recovery continues a
run its caller stopped. Running the same ``workflow_id`` again resumes it (:func:`resume`):
finished steps are kept, the rest runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypergraph_dbos._dbos_import import dbos

__all__ = ["resume", "stop", "track", "untrack"]

DBOS = dbos.DBOS

_BODIES: dict[str, asyncio.Task[Any]] = {}
"""Workflow id -> the task executing its body in this process (any event loop)."""


def track(workflow_id: str, task: asyncio.Task[Any]) -> None:
    """``task`` executes the body of ``workflow_id`` (called as the body starts)."""
    _BODIES[workflow_id] = task


def untrack(workflow_id: str, task: asyncio.Task[Any]) -> None:
    """The body ended (called as it returns or raises)."""
    if _BODIES.get(workflow_id) is task:
        del _BODIES[workflow_id]


def _bodies_under(workflow_id: str) -> list[asyncio.Task[Any]]:
    """The body of ``workflow_id`` and of every child workflow ``<workflow_id>/...`` here."""
    prefix = workflow_id + "/"
    return [
        task for wid, task in list(_BODIES.items())
        if wid == workflow_id or wid.startswith(prefix)
    ]


async def _cancel_and_wait(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)


async def stop(workflow_id: str) -> None:
    """Cancel the run's bodies executing here, wait until they ended, record it CANCELLED.

    The record covers child workflows too (nested graphs, map items), wherever they execute:
    another process stops at its next step. A caller cancelled again meanwhile (a map cancels
    its items twice) still finishes stopping first.
    """
    stopping = asyncio.ensure_future(_stop(workflow_id))
    while not stopping.done():
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            continue
    stopping.result()


async def _stop(workflow_id: str) -> None:
    here = asyncio.get_running_loop()
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Task[Any]]] = {}
    for task in _bodies_under(workflow_id):
        if not task.done():
            by_loop.setdefault(task.get_loop(), []).append(task)
    waits: list[asyncio.Future[Any]] = []
    for loop, tasks in by_loop.items():
        if loop is here:
            waits.append(asyncio.ensure_future(_cancel_and_wait(tasks)))
        elif not loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(_cancel_and_wait(tasks), loop)
            waits.append(asyncio.wrap_future(future))
    if waits:
        await asyncio.wait(waits)
    await DBOS.cancel_workflow_async(workflow_id, cancel_children=True)


async def resume(workflow_id: str, queue_name: str) -> Any:
    """Resume a CANCELLED run and its cancelled child workflows; returns the run's handle."""
    children = await DBOS.list_workflows_async(
        workflow_id_prefix=workflow_id + "/", status="CANCELLED"
    )
    for child in children:
        await DBOS.resume_workflow_async(child.workflow_id, queue_name=queue_name)
    return await DBOS.resume_workflow_async(workflow_id, queue_name=queue_name)
