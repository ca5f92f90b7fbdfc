"""A durable run whose node sleeps 4 s with ``durable_sleep``; the test kills it mid-sleep.

Usage: ``python sleeper.py <database url> <workflow id>``. Prints ``sleeping=<wake epoch>`` as
soon as the wake-up time is recorded (the test reads this line, then kills the process 2.5 s
later), and ``entered=<epoch> wake=<epoch> woke=<epoch>`` from the run that completes.
"""

from __future__ import annotations

import asyncio
import faulthandler
import sys
import time

from dbos import DBOS

from hypergraph import DBOSAsyncRunner, Graph, node
from hypergraph_dbos import durable_sleep

SLEEP_EVENT = "hypergraph.sleep:1:1"
"""The first durable_sleep of the run's first step (the only node)."""


@node(output_name="report")
async def wait_for_payment(order: int) -> str:
    entered = time.time()
    wake = await durable_sleep(4.0)
    return f"entered={entered} wake={wake} woke={time.time()}"


GRAPH = Graph([wait_for_payment], name="sleeper")


async def announce(workflow_id: str) -> None:
    wake = await DBOS.get_event_async(workflow_id, SLEEP_EVENT, 30)
    print(f"sleeping={wake}", flush=True)


async def main() -> None:
    runner = DBOSAsyncRunner(system_database_url=sys.argv[1], graphs=[GRAPH])
    runner.launch()
    watcher = asyncio.ensure_future(announce(sys.argv[2]))
    result = await runner.run(GRAPH, {"order": 1}, workflow_id=sys.argv[2])
    await watcher
    print(result.values["report"], flush=True)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(100, exit=True)  # a hang shows where, before the test's timeout
    asyncio.run(main())
