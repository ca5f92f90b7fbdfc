"""A durable run its caller stops, then a restart, then the same id again; one process per step.

Usage: ``python stopper.py <database url> <marker dir> <workflow id> <stop|launch|again>``.
``stop`` starts the run and leaves ``iter()`` while node ``wait`` runs; ``launch`` only launches
DBOS (recovering whatever is pending) and prints the workflow's status; ``again`` runs the same
workflow id and prints ``result=<value>``. Nodes write ``<node>.<pid>`` markers; ``wait`` blocks
only while ``<marker dir>/hold`` exists.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import sys
from pathlib import Path

from dbos import DBOS

from hypergraph import DBOSAsyncRunner, Graph, node
from hypergraph.events import NodeStartEvent

MARKERS = Path(sys.argv[2])
WAITING = asyncio.Event()


@node(output_name="a")
def prepare(x: int) -> int:
    (MARKERS / f"prepare.{os.getpid()}").touch()
    return x + 1


@node(output_name="b")
async def wait(a: int) -> int:
    (MARKERS / f"wait.{os.getpid()}").touch()
    if (MARKERS / "hold").exists():
        WAITING.set()
        await asyncio.Event().wait()  # until cancelled
    return a * 10


GRAPH = Graph([prepare, wait], name="stopper")


async def main() -> None:
    runner = DBOSAsyncRunner(system_database_url=sys.argv[1], graphs=[GRAPH])
    workflow_id, mode = sys.argv[3], sys.argv[4]
    if mode == "stop":
        async with runner.iter(GRAPH, {"x": 1}, workflow_id=workflow_id) as events:
            async for event in events:
                if isinstance(event, NodeStartEvent) and event.node_name == "wait":
                    await WAITING.wait()
                    break
    elif mode == "launch":
        runner.launch()
    else:
        result = await runner.run(GRAPH, {"x": 1}, workflow_id=workflow_id)
        print(f"result={result['b']}", flush=True)
    status = await DBOS.get_workflow_status_async(workflow_id)
    assert status is not None
    print(f"status={status.status}", flush=True)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(100, exit=True)  # a hang shows where, before the test's timeout
    asyncio.run(main())
