"""DBOSAsyncRunner per-node overhead vs AsyncRunner vs raw DBOS steps, on one SQLite file.

    uv run --all-packages python benchmarks/run_dbos.py            # DELETE and WAL journals
    uv run --all-packages python benchmarks/run_dbos.py --quick

Each SQLite journal mode runs in its own process, since DBOS is one per process (WAL is
DBOSAsyncRunner's default; ``sqlite_wal=False`` keeps DBOS's own DELETE journal). Per process,
on one system database file: a 200-node chain and a fan-out of 100 async nodes, each as plain Python
calls, AsyncRunner, raw DBOS steps in one workflow (``run_step_async``, and ``reserve_step`` +
``gather`` for the fan-out), and DBOSAsyncRunner. Reported: best-of-N milliseconds per node, and
DBOSAsyncRunner / raw DBOS. A third row runs the chain with a graph-wide ``RetryPolicy`` that
never fires: what a durable attempt count costs a node that succeeds at once (one event read).
A fourth puts 20 one-node nested graphs side by side: DBOSAsyncRunner runs each as a child
workflow, raw DBOS starts 20 one-step child workflows from one workflow and gathers them (ms
per nested graph).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHAIN = 200
FAN = 100
NESTED = 20


async def work(x: int) -> int:
    return x + 1


def build_graphs() -> tuple[Any, Any, Any, Any]:
    from hypergraph import Graph, RetryPolicy, node

    chain_nodes = []
    for i in range(CHAIN):
        source = "x" if i == 0 else f"v{i - 1}"
        chain_nodes.append(node(output_name=f"v{i}")(work).rename_inputs(x=source).with_name(f"n{i}"))
    chain = Graph(chain_nodes, name="bench_chain")
    fan_nodes = [
        node(output_name=f"f{i}")(work).with_name(f"fan{i}") for i in range(FAN)
    ]
    fan = Graph(fan_nodes, name="bench_fan")
    retried = Graph(chain_nodes, name="bench_retried", retry=RetryPolicy(max_attempts=3))
    one = Graph([node(output_name="y")(work)], name="bench_one")
    nested = Graph(
        [one.as_node(name=f"g{i}").rename_outputs(y=f"y{i}") for i in range(NESTED)],
        name="bench_nested",
    )
    return chain, fan, retried, nested


async def best(repeat: int, make: Any) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await make()
        times.append(time.perf_counter() - start)
    return min(times)


async def measure(journal: str, repeat: int) -> dict[str, float]:
    from dbos import DBOS, SetWorkflowID

    from hypergraph import AsyncRunner, DBOSAsyncRunner

    folder = Path(tempfile.mkdtemp(prefix="hg-bench-"))
    database = folder / "bench.sqlite"
    chain, fan, retried, nested = build_graphs()
    runner = DBOSAsyncRunner(
        system_database_url=f"sqlite:///{database}", graphs=[chain, fan, retried, nested],
        sqlite_wal=journal == "wal",
    )

    @DBOS.workflow(name="bench.raw_chain")
    async def raw_chain(x: int) -> int:
        for i in range(CHAIN):
            x = await DBOS.run_step_async({"name": f"n{i}"}, work, x)
        return x

    @DBOS.workflow(name="bench.raw_fan")
    async def raw_fan(x: int) -> int:
        slots = [DBOS.reserve_step() for _ in range(FAN)]
        done = await asyncio.gather(*(s.run_async({"name": f"fan{i}"}, work, x) for i, s in enumerate(slots)))
        return sum(done)

    @DBOS.workflow(name="bench.raw_one")
    async def raw_one(x: int) -> int:
        return await DBOS.run_step_async({"name": "work"}, work, x)

    @DBOS.workflow(name="bench.raw_nested")
    async def raw_nested(x: int) -> int:
        parent = DBOS.workflow_id
        handles = []
        for i in range(NESTED):
            with SetWorkflowID(f"{parent}/g{i}"):
                handles.append(await DBOS.start_workflow_async(raw_one, x))
        return sum(await asyncio.gather(*(h.get_result() for h in handles)))

    runner.launch()
    counter = iter(range(10**9))

    async def raw(flow: Any) -> None:
        with SetWorkflowID(f"raw-{next(counter)}"):
            await flow(1)

    async def plain_chain() -> None:
        x = 1
        for _ in range(CHAIN):
            x = await work(x)

    async def plain_fan() -> None:
        await asyncio.gather(*(work(1) for _ in range(FAN)))

    plain = AsyncRunner()
    await raw(raw_chain)  # warm-up: first workflow, first statements
    # check the results before timing anything
    assert (await runner.run(chain, {"x": 1})).values[f"v{CHAIN - 1}"] == CHAIN + 1
    assert (await plain.run(chain, {"x": 1})).values[f"v{CHAIN - 1}"] == CHAIN + 1
    fanned = (await runner.run(fan, {"x": 1})).values
    assert [fanned[f"f{i}"] for i in range(FAN)] == [2] * FAN
    assert (await runner.run(retried, {"x": 1})).values[f"v{CHAIN - 1}"] == CHAIN + 1
    inner = (await runner.run(nested, {"x": 1})).values
    assert [inner[f"y{i}"] for i in range(NESTED)] == [2] * NESTED
    results = {
        "chain_plain": await best(repeat, plain_chain) / CHAIN,
        "chain_async": await best(repeat, lambda: plain.run(chain, {"x": 1})) / CHAIN,
        "chain_raw": await best(repeat, lambda: raw(raw_chain)) / CHAIN,
        "chain_dbos": await best(repeat, lambda: runner.run(chain, {"x": 1})) / CHAIN,
        "fan_plain": await best(repeat, plain_fan) / FAN,
        "fan_async": await best(repeat, lambda: plain.run(fan, {"x": 1})) / FAN,
        "fan_raw": await best(repeat, lambda: raw(raw_fan)) / FAN,
        "fan_dbos": await best(repeat, lambda: runner.run(fan, {"x": 1})) / FAN,
        "retry_plain": await best(repeat, plain_chain) / CHAIN,
        "retry_async": await best(repeat, lambda: plain.run(retried, {"x": 1})) / CHAIN,
        "retry_raw": await best(repeat, lambda: raw(raw_chain)) / CHAIN,
        "retry_dbos": await best(repeat, lambda: runner.run(retried, {"x": 1})) / CHAIN,
        "nested_plain": await best(repeat, plain_fan) / FAN,
        "nested_async": await best(repeat, lambda: plain.run(nested, {"x": 1})) / NESTED,
        "nested_raw": await best(repeat, lambda: raw(raw_nested)) / NESTED,
        "nested_dbos": await best(repeat, lambda: runner.run(nested, {"x": 1})) / NESTED,
    }
    return {k: v * 1000 for k, v in results.items()}


def report(journal: str, r: dict[str, float]) -> None:
    print(f"\n== SQLite journal mode {journal.upper()} (ms per node, best of runs) ==")
    shapes = (
        ("chain", f"chain of {CHAIN} async nodes"),
        ("fan", f"fan-out of {FAN} async nodes"),
        ("retry", "same chain, RetryPolicy"),
        ("nested", f"{NESTED} sibling nested graphs"),
    )
    for shape, label in shapes:
        print(
            f"{label:30s} plain {r[shape + '_plain']:.4f}  AsyncRunner {r[shape + '_async']:.4f}  "
            f"raw DBOS {r[shape + '_raw']:.3f}  DBOSAsyncRunner {r[shape + '_dbos']:.3f}  "
            f"ratio DBOSAsyncRunner/raw {r[shape + '_dbos'] / r[shape + '_raw']:.2f}"
        )


def main() -> None:
    repeat = 3 if "--quick" in sys.argv else 7
    if "--child" in sys.argv:
        journal = sys.argv[sys.argv.index("--child") + 1]
        print(json.dumps(asyncio.run(measure(journal, repeat))))
        return
    for journal in ("delete", "wal"):
        done = subprocess.run(
            [sys.executable, __file__, "--child", journal, *(["--quick"] if repeat == 3 else [])],
            capture_output=True, text=True, check=True, env=dict(os.environ),
        )
        report(journal, json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
