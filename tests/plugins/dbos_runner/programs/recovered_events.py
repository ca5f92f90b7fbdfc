"""A durable run killed mid-way; the restarted program attaches to its recovery with processors.

Usage: ``python recovered_events.py <database url> <marker dir> <workflow id>``. Node ``middle``
SIGKILLs the process while ``<marker dir>/armed`` exists. The restarted program launches DBOS
(recovery starts in the background), waits until the recovery runs ``middle``, then calls ``run(..., workflow_id=...)`` with a processor
and prints ``ended=<node>`` for every NodeEndEvent it receives and ``result=<total>``.
Nodes write ``<node>.<pid>`` markers.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import sys
from pathlib import Path
from typing import Any

from hypergraph import DBOSAsyncRunner, Graph, node
from hypergraph.events import EventProcessor, NodeEndEvent
from hypergraph_dbos.runner import live_target

MARKERS = Path(sys.argv[2])
WORKFLOW_ID = sys.argv[3]


@node(output_name="a")
def start(x: int) -> int:
    (MARKERS / f"start.{os.getpid()}").touch()
    return x + 1


@node(output_name="b")
async def middle(a: int) -> int:
    (MARKERS / f"middle.{os.getpid()}").touch()
    armed = MARKERS / "armed"
    if armed.exists():
        armed.unlink()
        os.kill(os.getpid(), signal.SIGKILL)
    while live_target(WORKFLOW_ID) is None:  # the recovery may start before the caller attaches
        await asyncio.sleep(0.01)
    return a * 10


@node(output_name="total")
def finish(b: int) -> int:
    (MARKERS / f"finish.{os.getpid()}").touch()
    return b + 1


GRAPH = Graph([start, middle, finish], name="recovered_events")


class Ends(EventProcessor):
    def on_event(self, event: Any) -> None:
        if isinstance(event, NodeEndEvent):
            print(f"ended={event.node_name}", flush=True)


async def main() -> None:
    runner = DBOSAsyncRunner(system_database_url=sys.argv[1], graphs=[GRAPH])
    runner.launch()  # pending runs recover from here on, before run() is called
    if not (MARKERS / "armed").exists():  # the restart: attach only once the recovery runs
        while not (MARKERS / f"middle.{os.getpid()}").exists():
            await asyncio.sleep(0.01)
    result = await runner.run(GRAPH, {"x": 1}, workflow_id=WORKFLOW_ID, event_processors=[Ends()])
    print(f"result={result['total']}", flush=True)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(100, exit=True)  # a hang shows where, before the test's timeout
    asyncio.run(main())
