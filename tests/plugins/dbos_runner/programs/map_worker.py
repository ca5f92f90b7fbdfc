"""One process of a map shared through PostgreSQL: the caller (``map``) or a plain ``worker``.

Usage: ``python map_worker.py <database url> <marker dir> <executor id> map|worker [kill]``.
Each item writes ``start-<i>.<pid>`` when it begins and ``done-<i>.<pid>`` when it ends; a worker
started with ``kill`` SIGKILLs itself inside its first item. Workers print ``ready`` once they
serve the queue; the caller prints ``results=<comma-separated>``.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import sys
from pathlib import Path

from hypergraph import DBOSAsyncRunner, Graph, node

MARKERS = Path(sys.argv[2])
KILL = len(sys.argv) > 5 and sys.argv[5] == "kill"
ITEMS = 24


@node(output_name="squared")
async def square(n: int) -> int:
    (MARKERS / f"start-{n}.{os.getpid()}").touch()
    if KILL:
        os.kill(os.getpid(), signal.SIGKILL)
    await asyncio.sleep(0.2)  # the item's work
    (MARKERS / f"done-{n}.{os.getpid()}").touch()
    return n * n


GRAPH = Graph([square], name="squares")


async def main() -> None:
    runner = DBOSAsyncRunner(
        system_database_url=sys.argv[1], executor_id=sys.argv[3], graphs=[GRAPH],
        queue="squares", worker_concurrency=1,
    )
    if sys.argv[4] == "worker":
        runner.launch()
        print("ready", flush=True)
        await asyncio.Event().wait()  # serve the queue until killed
        return
    result = await runner.map(GRAPH, {"n": list(range(ITEMS))}, map_over="n", workflow_id="big-map")
    print("results=" + ",".join(str(r.values["squared"]) for r in result.results), flush=True)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(170, exit=True)  # a hung worker shows where, then exits
    asyncio.run(main())
