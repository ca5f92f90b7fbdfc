"""A checkpointed ``map()`` that SIGKILLs itself at its k-th node execution (reliability tests).

Usage: python killable_map.py DB MARKERS PHASE KILL_AT RUNNER

Four items over a two-node chain (``double`` then ``shift``), ``workflow_id="m"``, default
("sync") durability. Every node execution that finishes writes a marker file
``<PHASE>-<node>-<n>`` into MARKERS; the process kills itself when it starts its KILL_AT-th node
execution (0: never). On a clean finish it prints the items' results as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys

from kill_switch import KillSwitch

from hypergraph import AsyncRunner, Graph, SyncRunner, node
from hypergraph.checkpointers import SqliteCheckpointer

DB, MARKERS, PHASE, KILL_AT, RUNNER = sys.argv[1:6]
switch = KillSwitch(MARKERS, PHASE, KILL_AT)


@node(output_name="y")
def double(x: int) -> int:
    switch.executing()
    switch.finished("double")
    return x * 2


@node(output_name="z")
def shift(y: int) -> int:
    switch.executing()
    switch.finished("shift")
    return y + 1


def main() -> None:
    graph = Graph([double, shift], name="items")
    values = {"x": [1, 2, 3, 4]}
    with SqliteCheckpointer(DB) as cp:
        if RUNNER == "async":
            result = asyncio.run(
                AsyncRunner(checkpointer=cp).map(graph, values, map_over="x", workflow_id="m")
            )
        else:
            result = SyncRunner(checkpointer=cp).map(graph, values, map_over="x", workflow_id="m")
    print(json.dumps([r["z"] for r in result]))


if __name__ == "__main__":
    main()
