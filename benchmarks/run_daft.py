"""DaftRunner benchmarks: against hand-written Daft UDFs, SyncRunner and plain Python.

Run on demand (not part of the test suite):

    DO_NOT_TRACK=1 uv run --all-packages python benchmarks/run_daft.py           # native + Ray
    DO_NOT_TRACK=1 uv run --all-packages python benchmarks/run_daft.py --quick   # fewer reps
    DO_NOT_TRACK=1 uv run --all-packages python benchmarks/run_daft.py --no-ray

Workload: a 3-node graph int -> Python object -> Python object -> str, mapped over 10k and 100k
rows, and the same with 1 ms of real work (a hash loop) per row. Every workload checks its
result first. Figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import daft
from daft import DataType, col

from hypergraph import DaftRunner, Graph, SyncRunner, node


class Payload:
    __slots__ = ("tag", "value")

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
    t_plain = best_of(lambda: plain(first, xs), repeat)
    t_hand = best_of(lambda: hand_written(first, xs), repeat)
    t_daft = best_of(lambda: DaftRunner().map(graph, {"x": xs}, map_over="x"), repeat)
    t_sync = best_of(lambda: SyncRunner().map(graph, {"x": xs}, map_over="x"), repeat)
    print(
        f"{label:<28} rows={rows:>7}  plain {t_plain:7.3f}s  hand-Daft {t_hand:7.3f}s  "
        f"DaftRunner {t_daft:7.3f}s ({t_daft / t_hand:4.2f}x hand)  "
        f"SyncRunner {t_sync:7.3f}s  | vs plain: hand {t_hand / t_plain:5.1f}x, "
        f"DaftRunner {t_daft / t_plain:5.1f}x, SyncRunner {t_sync / t_plain:5.1f}x",
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
    t_daft = best_of(lambda: DaftRunner().map(GRAPH, {"x": xs}, map_over="x"), repeat)
    t_hand = best_of(lambda: hand_written(make, xs), repeat)
    t_plain = best_of(lambda: plain(make, xs), repeat)
    print(
        f"{'Ray (local, 2 CPUs)':<28} rows={rows:>7}  startup+first {startup:6.1f}s  "
        f"hand-Daft {t_hand:7.3f}s  DaftRunner {t_daft:7.3f}s ({t_daft / t_hand:4.2f}x hand)  "
        f"plain {t_plain:7.3f}s",
        flush=True,
    )
    ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    for rows in (10_000, 100_000):
        measure("3 nodes, light", GRAPH, make, rows, repeat)
    measure("3 nodes, 1 ms/row in node 1", HEAVY, heavy_make, 2_000, 2 if args.quick else 3)
    if not args.no_ray:
        measure_ray(10_000, repeat)


if __name__ == "__main__":
    main()
