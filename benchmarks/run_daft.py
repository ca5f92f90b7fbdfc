"""DaftRunner benchmarks: against hand-written Daft UDFs, SyncRunner and plain Python.

Run on demand (not part of the test suite):

    DO_NOT_TRACK=1 uv run --all-packages python benchmarks/run_daft.py           # native + Ray
    DO_NOT_TRACK=1 uv run --all-packages python benchmarks/run_daft.py --quick   # fewer reps
    DO_NOT_TRACK=1 uv run --all-packages python benchmarks/run_daft.py --no-ray

Workload: a 3-node graph int -> Python object -> Python object -> str, mapped over 10k and 100k
rows (DaftRunner, the same UDFs written by hand in Daft, SyncRunner, a plain loop), the same
with 1 ms of CPU work (a hash loop) per row, 1 ms of waiting per row (sync vs async node), and
the light graph on a local Ray cluster (in a subprocess: Daft picks its runner once per
process). Every workload checks its result first. Figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import daft
from daft import DataType, col

from hypergraph import DaftRunner, Graph, SyncRunner, node


class Payload:
    # no __slots__: cloudpickle ships classes of __main__ by value to Ray workers, and slotted
    # ones defined there do not survive the trip
    def __init__(self, value: int, tag: str) -> None:
        self.value = value
        self.tag = tag


def make(x: int) -> Payload:
    return Payload(x, "t")


def bump(p: Payload) -> Payload:
    return Payload(p.value + 1, p.tag)


def render(p: Payload) -> str:
    return f"{p.tag}:{p.value}"


def spin(n: int) -> int:
    """About 1 ms of CPU work on this machine (repeated hashing), releasing the GIL in hashlib."""
    data = n.to_bytes(8, "little") * 1024
    for _ in range(75):
        data = hashlib.sha256(data).digest() * 256
    return n


def heavy_make(x: int) -> Payload:
    return Payload(spin(x), "t")


GRAPH = Graph([
    node(make, name="make", output_name="a"),
    node(bump, name="bump", output_name="b").rename_inputs(p="a"),
    node(render, name="render", output_name="c").rename_inputs(p="b"),
])
HEAVY = Graph([
    node(heavy_make, name="make", output_name="a"),
    node(bump, name="bump", output_name="b").rename_inputs(p="a"),
    node(render, name="render", output_name="c").rename_inputs(p="b"),
])


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Best time of each function, taking turns so load changes hit all of them alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            best[name] = min(best[name], best_of(fn, 1))
    return best


def hand_written(first: Callable[[int], Payload], xs: list[int]) -> list[str]:
    fa = daft.func(first, return_dtype=DataType.python())
    fb = daft.func(bump, return_dtype=DataType.python())
    fc = daft.func(render, return_dtype=DataType.string())
    df = daft.from_pydict({"x": xs})
    df = df.with_column("a", fa(col("x"))).with_column("b", fb(col("a"))).with_column("c", fc(col("b")))
    return df.collect().to_pydict()["c"]  # type: ignore[no-any-return]


def plain(first: Callable[[int], Payload], xs: list[int]) -> list[str]:
    return [render(bump(first(x))) for x in xs]


def measure(label: str, graph: Graph, first: Callable[[int], Payload], rows: int, repeat: int) -> None:
    xs = list(range(rows))
    expected = plain(first, xs)
    assert DaftRunner().map(graph, {"x": xs}, map_over="x")["c"] == expected
    assert hand_written(first, xs) == expected
    t = interleaved({
        "plain": lambda: plain(first, xs),
        "hand": lambda: hand_written(first, xs),
        "daft": lambda: DaftRunner().map(graph, {"x": xs}, map_over="x"),
        "daft+items": lambda: list(DaftRunner().map(graph, {"x": xs}, map_over="x")),
        "sync": lambda: SyncRunner().map(graph, {"x": xs}, map_over="x"),
    }, repeat)
    print(
        f"{label:<30} rows={rows:>7}  plain {t['plain']:7.3f}s  hand-Daft {t['hand']:7.3f}s  "
        f"DaftRunner {t['daft']:7.3f}s ({t['daft'] / t['hand']:4.2f}x hand; "
        f"{t['daft+items']:6.3f}s = {t['daft+items'] / t['hand']:4.2f}x with every RunResult made)  "
        f"SyncRunner {t['sync']:7.3f}s  | vs plain: hand {t['hand'] / t['plain']:5.1f}x, "
        f"DaftRunner {t['daft'] / t['plain']:5.1f}x, SyncRunner {t['sync'] / t['plain']:5.1f}x",
        flush=True,
    )


def sleepy(x: int) -> int:
    time.sleep(0.001)
    return x


async def async_sleepy(x: int) -> int:
    await asyncio.sleep(0.001)
    return x


def measure_sleep(rows: int, repeat: int) -> None:
    """1 ms of waiting per row: SyncRunner waits in turn, Daft's async UDF overlaps the waits."""
    xs = list(range(rows))
    sync_graph = Graph([node(sleepy, output_name="y")])
    async_graph = Graph([node(async_sleepy, output_name="y")])
    assert DaftRunner().map(async_graph, {"x": xs}, map_over="x")["y"] == xs
    t = interleaved({
        "plain": lambda: [sleepy(x) for x in xs],
        "daft_async": lambda: DaftRunner().map(async_graph, {"x": xs}, map_over="x"),
        "daft_sync": lambda: DaftRunner().map(sync_graph, {"x": xs}, map_over="x"),
        "sync": lambda: SyncRunner().map(sync_graph, {"x": xs}, map_over="x"),
    }, repeat)
    print(
        f"{'1 ms sleep per row':<30} rows={rows:>7}  plain {t['plain']:7.3f}s  "
        f"DaftRunner async node {t['daft_async']:7.3f}s ({t['sync'] / t['daft_async']:4.1f}x faster "
        f"than SyncRunner)  DaftRunner sync node {t['daft_sync']:7.3f}s  "
        f"SyncRunner {t['sync']:7.3f}s",
        flush=True,
    )


def measure_ray(rows: int, repeat: int) -> None:
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    daft.set_runner_ray()
    xs = list(range(rows))
    expected = plain(make, xs)
    assert DaftRunner().map(GRAPH, {"x": xs}, map_over="x")["c"] == expected
    startup = time.perf_counter() - start
    t = interleaved({
        "plain": lambda: plain(make, xs),
        "hand": lambda: hand_written(make, xs),
        "daft": lambda: DaftRunner().map(GRAPH, {"x": xs}, map_over="x"),
    }, repeat)
    print(
        f"{'Ray (local, 2 CPUs)':<30} rows={rows:>7}  ray.init + first map {startup:5.1f}s  "
        f"plain {t['plain']:7.3f}s  hand-Daft {t['hand']:7.3f}s  DaftRunner {t['daft']:7.3f}s "
        f"({t['daft'] / t['hand']:4.2f}x hand)",
        flush=True,
    )
    ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--ray-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    if args.ray_only:  # Daft's runner is chosen once per process: Ray gets its own
        measure_ray(10_000, repeat)
        return
    for rows in (10_000, 100_000):
        measure("3 nodes, light", GRAPH, make, rows, repeat)
    measure("3 nodes, 1 ms hash loop/row", HEAVY, heavy_make, 2_000, 2 if args.quick else 3)
    measure_sleep(2_000, 2 if args.quick else 3)
    if not args.no_ray:
        extra = ["--quick"] if args.quick else []
        subprocess.run([sys.executable, __file__, "--ray-only", *extra], check=True)


if __name__ == "__main__":
    main()
