"""AsyncRunner benchmarks: concurrency efficiency and per-item / per-node overhead.

    uv run --all-packages python benchmarks/run_async.py [--quick]

Every workload checks its result. Figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from hypergraph import AsyncRunner, FunctionNode, Graph, node

SLEEP = 0.01


def best_of(make: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """Best wall time of ``repeat`` awaited calls, in seconds (each on a fresh loop)."""
    times = []
    for _ in range(repeat):
        gc.collect()

        async def timed() -> float:
            start = time.perf_counter()
            await make()
            return time.perf_counter() - start

        times.append(asyncio.run(timed()))
    return min(times)


@node(output_name="slept")
async def nap(x: int) -> int:
    await asyncio.sleep(SLEEP)
    return x


def bench_sleepers(items: int, limit: int, repeat: int) -> dict[str, float]:
    graph = Graph([nap])
    runner = AsyncRunner()
    xs = list(range(items))

    async def check() -> None:
        result = await runner.map(graph, {"x": xs}, map_over="x", max_concurrency=limit)
        assert result["slept"] == xs

    asyncio.run(check())
    ideal = items / limit * SLEEP
    graph_s = best_of(lambda: runner.map(graph, {"x": xs}, map_over="x", max_concurrency=limit), repeat)

    async def plain() -> list[int]:
        semaphore = asyncio.Semaphore(limit)

        async def one(x: int) -> int:
            async with semaphore:
                return await nap.func(x)

        return await asyncio.gather(*(one(x) for x in xs))

    plain_s = best_of(plain, repeat)
    return {"items": items, "seconds": graph_s, "x_ideal": graph_s / ideal, "gather_x_ideal": plain_s / ideal}


@node(output_name="a")
def m1(x: int) -> int:
    return x + 1


@node(output_name="b")
def m2(a: int) -> int:
    return a * 2


@node(output_name="c")
def m3(b: int) -> int:
    return b - 1


def bench_map(items: int, limit: int, repeat: int) -> dict[str, float]:
    graph = Graph([m1, m2, m3])
    runner = AsyncRunner()
    xs = list(range(items))

    async def check() -> None:
        result = await runner.map(graph, {"x": xs}, map_over="x", max_concurrency=limit)
        assert result["c"] == [(x + 1) * 2 - 1 for x in xs]

    asyncio.run(check())
    graph_s = best_of(lambda: runner.map(graph, {"x": xs}, map_over="x", max_concurrency=limit), repeat)
    start = time.perf_counter()
    [m3.func(m2.func(m1.func(x))) for x in xs]
    plain_s = time.perf_counter() - start

    async def gathered() -> list[int]:
        semaphore = asyncio.Semaphore(limit)

        async def one(x: int) -> int:
            async with semaphore:
                return m3.func(m2.func(m1.func(x)))

        return await asyncio.gather(*(one(x) for x in xs))

    gather_s = best_of(gathered, repeat)
    return {"items": items, "map_ms": graph_s * 1e3, "us_per_item": (graph_s - plain_s) / items * 1e6,
            "x_gather": graph_s / gather_s}


def step(x: int) -> int:
    return x + 1


async def astep(x: int) -> int:
    return x + 1


def bench_fan_out(width: int, repeat: int, *, use_async: bool) -> dict[str, float]:
    @node(output_name="seed")
    def source(x: int) -> int:
        return x

    body = astep if use_async else step
    workers = [
        FunctionNode(body, name=f"w{i}", output_name=f"o{i}").rename_inputs(x="seed")
        for i in range(width)
    ]
    names = [f"o{i}" for i in range(width)]
    namespace: dict[str, Any] = {}
    exec(f"def collect({', '.join(names)}):\n    return {' + '.join(names)}\n", namespace)
    graph = Graph([source, *workers, FunctionNode(namespace["collect"], output_name="total")])
    runner = AsyncRunner()

    async def check() -> None:
        assert (await runner.run(graph, {"x": 1}))["total"] == 2 * width

    asyncio.run(check())
    graph_s = best_of(lambda: runner.run(graph, {"x": 1}), repeat)
    return {"nodes": width + 2, "run_ms": graph_s * 1e3, "us_per_node": graph_s / (width + 2) * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    print(f"Python {sys.version.split()[0]}, AsyncRunner, no processors, best of {repeat}\n")
    sleepers = bench_sleepers(2_000, 500, repeat)
    print(
        f"2,000 x 10 ms async nodes, map max_concurrency=500: {sleepers['seconds'] * 1e3:.1f} ms = "
        f"{sleepers['x_ideal']:.2f}x ideal (target <= 1.35; asyncio.gather + semaphore: "
        f"{sleepers['gather_x_ideal']:.2f}x)"
    )
    mapped = bench_map(10_000, 100, max(2, repeat // 2))
    print(
        f"map of 10,000 items, 3 sync nodes, max_concurrency=100: {mapped['us_per_item']:.1f} us/item "
        f"(target <= 30) = {mapped['x_gather']:.2f}x asyncio.gather + semaphore (target <= 1.5)"
    )
    for use_async in (False, True):
        fan = bench_fan_out(500, repeat, use_async=use_async)
        kind = "async" if use_async else "sync"
        print(f"fan-out 1 -> 500 -> 1, {kind} workers: {fan['us_per_node']:.2f} us/node (target <= 10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
