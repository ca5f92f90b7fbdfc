"""``durable_sleep``: a wait inside a node that a restart does not start over (SPEC DB6)."""

from __future__ import annotations

import asyncio
import time

from hypergraph_dbos import _steps
from hypergraph_dbos._dbos_import import dbos

__all__ = ["durable_sleep"]

_EVENT = "hypergraph.sleep:"


async def durable_sleep(seconds: float) -> float:
    """Sleep ``seconds`` inside an async node; after a crash and restart, only what is left.

    The wake-up time (epoch seconds, returned) is recorded with the run the first time the node
    reaches this call; the re-executed node reads it back and sleeps until then. Outside a
    DBOSAsyncRunner run it is a plain ``asyncio.sleep``.
    """
    index = _steps.sleep_index()
    if index is None:
        wake = time.time() + seconds
        await asyncio.sleep(max(0.0, seconds))
        return wake
    DBOS = dbos.DBOS
    workflow_id = DBOS.workflow_id
    key = f"{_EVENT}{DBOS.step_id}:{index}"
    assert workflow_id is not None
    recorded = await DBOS.get_event_async(workflow_id, key, 0)
    if recorded is None:
        wake = time.time() + seconds
        await DBOS.set_event_async(key, wake)
    else:
        wake = float(recorded)
    remaining = wake - time.time()
    if remaining > 0:
        await asyncio.sleep(remaining)
    return wake
