"""A durable program the crash tests run in child processes, kill with SIGKILL, and start again.

Usage: ``python crash_graph.py <database url> <marker dir> <workflow id> [kill-at node]``.
``aside`` (beside the fan-out) and ``nested`` (after it) are nested graphs, so child workflows
``<id>/aside`` and ``<id>/nested``. Every node writes a marker ``<node>.<pid>`` when it runs; the node named by ``kill-at`` writes
``killed.<time>`` and SIGKILLs its own process (only while ``<marker dir>/armed`` exists, so the
restarted program runs through). The result is printed as ``result=<total>``.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import sys
import time
from pathlib import Path

from hypergraph import DBOSAsyncRunner, Graph, node

MARKERS = Path(sys.argv[2])
KILL_AT = sys.argv[4] if len(sys.argv) > 4 else None


def visit(name: str) -> None:
    """Record that ``name`` runs in this process; die here if this is the armed kill point."""
    (MARKERS / f"{name}.{os.getpid()}").touch()
    armed = MARKERS / "armed"
    if name == KILL_AT and armed.exists():
        armed.unlink()
        (MARKERS / f"killed.{time.time()}").touch()
        os.kill(os.getpid(), signal.SIGKILL)


@node(output_name="a")
def start(x: int) -> int:
    visit("start")
    return x + 1


@node(output_name="b1")
async def left(a: int) -> int:
    visit("left")
    return a * 2


@node(output_name="b2")
async def middle(a: int) -> int:
    visit("middle")
    return a * 3


@node(output_name="b3")
async def right(a: int) -> int:
    visit("right")
    return a * 5


@node(output_name="c")
def inner_sum(b1: int, b2: int) -> int:
    visit("inner_sum")
    return b1 + b2


@node(output_name="d")
async def inner_scale(c: int) -> int:
    visit("inner_scale")
    return c * 10


@node(output_name="e")
async def side(a: int) -> int:
    visit("side")
    return a * 7


@node(output_name="total")
def finish(d: int, b3: int, e: int) -> int:
    visit("finish")
    return d + b3 + e


INNER = Graph([inner_sum, inner_scale], name="inner")
SIDE = Graph([side], name="side_graph")
GRAPH = Graph(
    [start, left, middle, right, SIDE.as_node(name="aside"), INNER.as_node(name="nested"), finish],
    name="crashy",
)
NODES = ("start", "left", "middle", "right", "side", "inner_sum", "inner_scale", "finish")


async def main() -> None:
    runner = DBOSAsyncRunner(system_database_url=sys.argv[1], graphs=[GRAPH])
    result = await runner.run(GRAPH, {"x": 1}, workflow_id=sys.argv[3])
    print(f"result={result.values['total']}", flush=True)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(100, exit=True)  # a hang shows where, before the test's timeout
    asyncio.run(main())
