"""A checkpointed run that SIGKILLs itself at its k-th node execution (reliability tests).

Usage: python killable_run.py DB MARKERS PHASE KILL_AT RUNNER DURABILITY [WORKFLOW_ID]

Every node execution that finishes writes a marker file ``<PHASE>-<node>-<n>`` into MARKERS; the
process kills itself with SIGKILL when it starts its KILL_AT-th node execution (0: never). The
graph has a fan-out (left/right from start), a loop (accumulate <-> again) and a nested graph
(finish: square, label). On a clean finish it prints the result values as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys

from kill_switch import KillSwitch

from hypergraph import AsyncRunner, Graph, SyncRunner, node, route
from hypergraph.checkpointers import SqliteCheckpointer

DB, MARKERS, PHASE, KILL_AT, RUNNER, DURABILITY = sys.argv[1:7]
WORKFLOW_ID = sys.argv[7] if len(sys.argv) > 7 else "wf"
switch = KillSwitch(MARKERS, PHASE, KILL_AT)


@node(output_name="base")
def start(n: int) -> int:
    switch.executing()
    switch.finished("start")
    return n


@node(output_name="l")
def left(base: int) -> int:
    switch.executing()
    switch.finished("left")
    return base + 1


@node(output_name="r")
def right(base: int) -> int:
    switch.executing()
    switch.finished("right")
    return base * 2


@node(output_name="total")
def accumulate(l: int, r: int, total: int = 0) -> int:  # noqa: E741
    switch.executing()
    switch.finished("accumulate")
    return total + l + r


@route(targets=["accumulate", "finish"])
def again(total: int = 0) -> str:
    switch.executing()
    switch.finished("again")
    return "accumulate" if total < 40 else "finish"


@node(output_name="sq")
def square(total: int = 0) -> int:
    switch.executing()
    switch.finished("square")
    return total * total


@node(output_name="text")
def label(sq: int) -> str:
    switch.executing()
    switch.finished("label")
    return f"sq={sq}"


inner = Graph([square, label], name="inner")
graph = Graph(
    [start, left, right, accumulate, again, inner.as_node(name="finish")],
    name="reliability", entrypoint="start",
)


def main() -> None:
    with SqliteCheckpointer(DB, durability=DURABILITY) as cp:  # type: ignore[arg-type]
        if RUNNER == "async":
            result = asyncio.run(AsyncRunner(checkpointer=cp).run(graph, {"n": 3}, workflow_id=WORKFLOW_ID))
        else:
            result = SyncRunner(checkpointer=cp).run(graph, {"n": 3}, workflow_id=WORKFLOW_ID)
    print(json.dumps(dict(result.values), sort_keys=True))


if __name__ == "__main__":
    main()
