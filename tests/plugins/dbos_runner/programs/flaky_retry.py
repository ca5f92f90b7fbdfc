"""A durable run whose only node fails ``fails`` times; the test kills it during a backoff.

Usage: ``python flaky_retry.py <database url> <marker dir> <workflow id> <fails> <max attempts>``.
Every execution of the node writes ``attempt.<n>.<pid>`` (``n`` counts executions across
processes; the file holds the start time) and fails with ``ConnectionError`` while ``n <=
fails``. The backoff is 0.02 s after attempt 1 and 1.5 to 3 s (jittered) after the later ones.
Each ``NodeRetryEvent`` this process sees is printed as ``retry <attempt>`` once it happened
(the attempts are recorded by then). The last line is JSON: the run's value or its error (type,
notes), and the attempts recorded for the node's step.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dbos import DBOS

from hypergraph import DBOSAsyncRunner, Graph, RetryPolicy, node
from hypergraph.events import EventProcessor, NodeRetryEvent

MARKERS = Path(sys.argv[2])
FAILS = int(sys.argv[4])
POLICY = RetryPolicy(
    max_attempts=int(sys.argv[5]), initial_delay=0.02, backoff=150.0, max_delay=3.0,
    jitter=True, retry_on=(ConnectionError,),
)
ATTEMPTS_EVENT = "hypergraph.attempts:1"
"""The attempts recorded for the run's first step (the only node)."""


@node(output_name="reply", retry=POLICY)
async def call_api(prompt: str) -> str:
    number = len(list(MARKERS.glob("attempt.*"))) + 1
    (MARKERS / f"attempt.{number}.{os.getpid()}").write_text(str(time.time()))
    if number <= FAILS:
        raise ConnectionError(f"flaky failure {number} in pid {os.getpid()}")
    return f"reply to {prompt}"


GRAPH = Graph([call_api], name="flaky_retry")


class Announce(EventProcessor):
    def on_node_retry(self, event: NodeRetryEvent) -> None:
        print(f"retry {event.attempt}", flush=True)


async def main() -> None:
    runner = DBOSAsyncRunner(system_database_url=sys.argv[1], graphs=[GRAPH])
    report: dict[str, Any] = {}
    try:
        result = await runner.run(
            GRAPH, {"prompt": "hi"}, workflow_id=sys.argv[3], event_processors=[Announce()]
        )
        report["reply"] = result.values["reply"]
    except Exception as exc:
        report["error"] = type(exc).__name__
        report["notes"] = list(getattr(exc, "__notes__", []))
    records = await DBOS.get_event_async(sys.argv[3], ATTEMPTS_EVENT, 0) or []
    report["recorded"] = [
        {k: record[k] for k in ("attempt", "text", "delay", "wake")} for record in records
    ]
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(100, exit=True)  # a hang shows where, before the test's timeout
    asyncio.run(main())
