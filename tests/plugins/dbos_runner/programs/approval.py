"""A durable run that pauses for a human answer; each invocation is one process.

Usage: ``python approval.py <database url> <marker dir> <workflow id> [answer]``. Without an
answer it starts the run and prints ``paused=<response key>``; with one it answers from this
(new) process and prints ``result=<final>``. Nodes write ``<node>.<pid>`` markers.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import sys
from pathlib import Path

from hypergraph import DBOSAsyncRunner, Graph, interrupt, node

MARKERS = Path(sys.argv[2])


@node(output_name="draft")
def write(order: int) -> str:
    (MARKERS / f"write.{os.getpid()}").touch()
    return f"draft for order {order}"


@interrupt(output_name="decision")
def approve(draft: str) -> None:
    return None


@node(output_name="final")
def publish(draft: str, decision: str) -> str:
    (MARKERS / f"publish.{os.getpid()}").touch()
    return f"{draft}: {decision}"


REVIEW = Graph([write, approve, publish], name="review")
OTHER = Graph([write], name="other")
"""Registered too when ``HYPERGRAPH_TEST_EXTRA_GRAPH`` is set: another program version."""


async def main() -> None:
    graphs = [REVIEW, OTHER] if os.environ.get("HYPERGRAPH_TEST_EXTRA_GRAPH") else [REVIEW]
    runner = DBOSAsyncRunner(system_database_url=sys.argv[1], graphs=graphs)
    if len(sys.argv) > 4:
        result = await runner.run(REVIEW, {"decision": sys.argv[4]}, workflow_id=sys.argv[3])
        print(f"result={result.values['final']}", flush=True)
        return
    result = await runner.run(REVIEW, {"order": 7}, workflow_id=sys.argv[3])
    assert result.pause is not None
    print(f"paused={result.pause.response_key}", flush=True)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(100, exit=True)  # a hang shows where, before the test's timeout
    asyncio.run(main())
