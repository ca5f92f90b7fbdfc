"""A small typed user program: `mypy --strict` must accept it (CI runs it, and so does pytest).

It uses the names users import, plugin ones included, and pins their static types with
``assert_type`` so a regression to ``Any`` fails the check.
"""

from __future__ import annotations

import asyncio
from typing import assert_type

from hypergraph import (
    END,
    AsyncRunner,
    DiskCache,
    ErrorHandling,
    FunctionNode,
    Graph,
    MapResult,
    RunResult,
    SyncRunner,
    node,
    route,
)
from hypergraph.checkpointers import SqliteCheckpointer
from hypergraph.events import OpenTelemetryProcessor, RichProgressProcessor


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node
def shout(text: str, times: int = 1) -> str:
    return text.upper() * times


@route(targets=["double", END])
def again(doubled: int) -> object:
    return END if doubled > 10 else "double"


def check_nodes() -> None:
    typed: FunctionNode[[int], int] = double
    assert typed.name == "double"
    # calling a node calls the function, with its signature
    assert_type(double(3), int)
    assert_type(shout("hi", times=2), str)
    renamed: FunctionNode[[int], int] = double.with_name("twice")
    assert_type(renamed("x" if False else 1), int)


def check_runners(tmp: str) -> None:
    runner = SyncRunner(cache=DiskCache(tmp))
    mode: ErrorHandling = "continue"
    result = runner.run(Graph([double]), {"x": 2}, error_handling=mode)
    assert_type(result, RunResult)
    batch = runner.map(Graph([double]), {"x": [1, 2]}, map_over="x", map_mode="product")
    assert_type(batch, MapResult)


async def check_async() -> int:
    runner = AsyncRunner()
    assert_type(runner, AsyncRunner)
    result = await runner.run(Graph([double]), {"x": 1}, on_missing="warn")
    value: int = result["doubled"]
    return value


def check_checkpointer() -> None:
    store = SqliteCheckpointer(":memory:", durability="exit")
    assert_type(store, SqliteCheckpointer)


def check_processors() -> None:
    assert_type(RichProgressProcessor, type[RichProgressProcessor])
    assert_type(OpenTelemetryProcessor, type[OpenTelemetryProcessor])


if __name__ == "__main__":
    check_nodes()
    print(asyncio.run(check_async()))
