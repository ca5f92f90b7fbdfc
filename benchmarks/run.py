"""Engine benchmarks: hypergraph's overhead against plain Python calls doing the same work.

Run on demand (not part of the test suite):

    uv run --all-packages python benchmarks/run.py            # kernel workloads (SyncRunner)
    uv run --all-packages python benchmarks/run.py --quick    # fewer repetitions

Every workload checks its result, so a fast but wrong engine fails loudly. Figures are
recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from typing import Any

from hypergraph import END, FunctionNode, Graph, RetryPolicy, SyncRunner, node, route


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in seconds (GC disabled while timing)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times)


def step(x: int) -> int:
    return x + 1


def chain_graph(n: int) -> Graph:
    """``v0 -> n1 -> v1 -> ... -> vN``: a straight chain of ``n`` sync nodes."""
    nodes = [
        FunctionNode(step, name=f"n{i}", output_name=f"v{i}").rename_inputs(x=f"v{i - 1}")
        for i in range(1, n + 1)
    ]
    return Graph(nodes)


def plain_chain(n: int, x: int) -> int:
    for _ in range(n):
        x = step(x)
    return x


def bench_chain(n: int, repeat: int) -> dict[str, float]:
    graph = chain_graph(n)
    runner = SyncRunner()
    result = runner.run(graph, {"v0": 0})
    assert result[f"v{n}"] == n, result
    graph_s = best_of(lambda: runner.run(graph, {"v0": 0}), repeat)
    plain_s = best_of(lambda: plain_chain(n, 0), repeat)
    return {"nodes": n, "run_ms": graph_s * 1e3, "us_per_node": (graph_s - plain_s) / n * 1e6,
            "x_plain": graph_s / plain_s}


def bench_chain_with_policy(n: int, repeat: int) -> dict[str, float]:
    """The chain with a graph-wide RetryPolicy that never fires: the cost of the policy path."""
    graph = chain_graph(n).with_retry(RetryPolicy(max_attempts=3, initial_delay=0))
    runner = SyncRunner()
    assert runner.run(graph, {"v0": 0})[f"v{n}"] == n
    graph_s = best_of(lambda: runner.run(graph, {"v0": 0}), repeat)
    plain_s = best_of(lambda: plain_chain(n, 0), repeat)
    return {"nodes": n, "run_ms": graph_s * 1e3, "us_per_node": (graph_s - plain_s) / n * 1e6,
            "x_plain": graph_s / plain_s}


def bench_fan_out(width: int, repeat: int) -> dict[str, float]:
    @node(output_name="seed")
    def source(x: int) -> int:
        return x

    workers = [
        FunctionNode(step, name=f"w{i}", output_name=f"o{i}").rename_inputs(x="seed")
        for i in range(width)
    ]
    names = [f"o{i}" for i in range(width)]
    source_code = f"def collect({', '.join(names)}):\n    return {' + '.join(names)}\n"
    namespace: dict[str, Any] = {}
    exec(source_code, namespace)  # a sink with `width` named parameters
    sink = FunctionNode(namespace["collect"], output_name="total")
    graph = Graph([source, *workers, sink])
    runner = SyncRunner()
    assert runner.run(graph, {"x": 1})["total"] == 2 * width
    graph_s = best_of(lambda: runner.run(graph, {"x": 1}), repeat)

    def plain() -> int:
        seed = 1
        outs = [step(seed) for _ in range(width)]
        return namespace["collect"](*outs)

    plain_s = best_of(plain, repeat)
    return {"nodes": width + 2, "run_ms": graph_s * 1e3,
            "us_per_node": (graph_s - plain_s) / (width + 2) * 1e6, "x_plain": graph_s / plain_s}


@node(output_name="a")
def m1(x: int) -> int:
    return x + 1


@node(output_name="b")
def m2(a: int) -> int:
    return a * 2


@node(output_name="c")
def m3(b: int) -> int:
    return b - 1


def bench_map(items: int, repeat: int) -> dict[str, float]:
    graph = Graph([m1, m2, m3])
    runner = SyncRunner()
    xs = list(range(items))
    result = runner.map(graph, {"x": xs}, map_over="x")
    assert result["c"] == [(x + 1) * 2 - 1 for x in xs]
    graph_s = best_of(lambda: runner.map(graph, {"x": xs}, map_over="x"), repeat)
    plain_s = best_of(lambda: [m3.func(m2.func(m1.func(x))) for x in xs], repeat)
    return {"items": items, "map_ms": graph_s * 1e3, "us_per_item": (graph_s - plain_s) / items * 1e6,
            "x_plain": graph_s / plain_s}


def bench_loop(iterations: int, repeat: int) -> dict[str, float]:
    @node(output_name="count")
    def increment(count: int) -> int:
        return count + 1

    @route(targets=["increment", END])
    def keep_going(count: int, limit: int) -> object:
        return "increment" if count < limit else END

    graph = Graph([increment, keep_going], entrypoint="increment")
    runner = SyncRunner()
    result = runner.run(graph, {"count": 0, "limit": iterations}, max_iterations=2 * iterations + 2)
    assert result["count"] == iterations

    def plain() -> int:
        count = 0
        while True:
            count = increment.func(count)
            if keep_going.func(count, iterations) is END:
                return count

    graph_s = best_of(
        lambda: runner.run(graph, {"count": 0, "limit": iterations}, max_iterations=2 * iterations + 2),
        repeat,
    )
    plain_s = best_of(plain, repeat)
    return {"iterations": iterations, "run_ms": graph_s * 1e3,
            "us_per_iteration": (graph_s - plain_s) / iterations * 1e6, "x_plain": graph_s / plain_s}


def nested_graph(depth: int) -> Graph:
    """``depth`` graphs, each wrapping the previous one as its only node; the core adds one."""

    @node(output_name="y")
    def bump(x: int) -> int:
        return x + 1

    graph = Graph([bump], name="level0")
    for level in range(1, depth):
        graph = Graph([graph.as_node(name=f"level{level - 1}")], name=f"level{level}")
    return graph


def bench_nesting(depth: int, runs: int, repeat: int) -> dict[str, float]:
    graph = nested_graph(depth)
    runner = SyncRunner()
    assert runner.run(graph, {"x": 0})["y"] == 1

    def many() -> None:
        for _ in range(runs):
            runner.run(graph, {"x": 0})

    total = best_of(many, repeat)

    def bump(x: int) -> int:
        return x + 1

    def wrap(inner: Callable[[int], int]) -> Callable[[int], int]:
        def level(x: int) -> int:
            return inner(x)

        return level

    plain_fn = bump
    for _ in range(1, depth):
        plain_fn = wrap(plain_fn)
    assert plain_fn(0) == 1

    def plain() -> None:
        for _ in range(runs):
            plain_fn(0)

    plain_s = best_of(plain, repeat)
    return {"depth": depth, "runs": runs, "us_per_run": total / runs * 1e6, "x_plain": total / plain_s}


def bench_build(n: int, repeat: int) -> dict[str, float]:
    nodes = [
        FunctionNode(step, name=f"n{i}", output_name=f"v{i}").rename_inputs(x=f"v{i - 1}")
        for i in range(1, n + 1)
    ]
    graph = Graph(nodes)
    assert len(graph.nodes) == n and graph.inputs.required == ("v0",)
    build_s = best_of(lambda: Graph(nodes), repeat)
    plan_s = best_of(lambda: Graph(nodes).plan, repeat)
    return {"nodes": n, "build_ms": build_s * 1e3, "build_and_plan_ms": plan_s * 1e3}


def bench_map_memory(items: int) -> dict[str, float]:
    """Bytes a finished map keeps per item beyond its result values (tracemalloc)."""
    import tracemalloc

    graph = Graph([m1, m2, m3])
    runner = SyncRunner()
    xs = list(range(items))
    runner.map(graph, {"x": xs[:10]}, map_over="x")  # plan and compiled code built outside
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = runner.map(graph, {"x": xs}, map_over="x")
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # the result values themselves: the ints a, b and c of every item (x is the caller's)
    values = sum(sys.getsizeof(v) for name in ("a", "b", "c") for v in result[name]
                 if not -5 <= v <= 256)
    assert result["c"][-1] == (items - 1 + 1) * 2 - 1
    return {"items": items, "bytes_per_item": (kept - values) / items}


def bench_scaling(sizes: list[int], repeat: int) -> list[dict[str, float]]:
    return [bench_chain(n, repeat) for n in sizes]


def count_events_without_processors() -> int:
    """How many event objects a run with no processor builds (must be 0)."""
    from hypergraph.events.types import BaseEvent

    built = 0
    original = BaseEvent.__attrs_post_init__ if hasattr(BaseEvent, "__attrs_post_init__") else None
    subclasses = BaseEvent.__subclasses__()
    originals = {cls: cls.__init__ for cls in subclasses}

    def counting(init: Callable[..., None]) -> Callable[..., None]:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
            nonlocal built
            built += 1
            init(self, *args, **kwargs)

        return wrapper

    for cls, init in originals.items():
        cls.__init__ = counting(init)  # type: ignore[method-assign]
    try:
        SyncRunner().run(chain_graph(50), {"v0": 0})
        SyncRunner().map(Graph([m1, m2, m3]), {"x": [1, 2, 3]}, map_over="x")
    finally:
        for cls, init in originals.items():
            cls.__init__ = init  # type: ignore[method-assign]
    del original
    return built


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--memory-items", type=int, default=None,
                        help="items of the map-memory workload (default 1,000,000; 100,000 with --quick)")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    print(f"Python {sys.version.split()[0]}, SyncRunner, no processors, best of {repeat}\n")
    rows = [
        ("chain of 200 sync nodes", bench_chain(200, repeat * 3), "us_per_node", 3.0),
        ("chain of 200, every node with a RetryPolicy", bench_chain_with_policy(200, repeat * 3),
         "us_per_node", None),
        ("fan-out 1 -> 500 -> 1", bench_fan_out(500, repeat), "us_per_node", None),
        ("map of 10,000 items, 3-node graph", bench_map(10_000, max(2, repeat // 2)), "us_per_item", 15.0),
        ("2-node @route loop, 2,000 iterations", bench_loop(2_000, repeat), "us_per_iteration", 8.0),
        ("10 levels of nesting, 200 runs", bench_nesting(10, 200, repeat), "us_per_run", 150.0),
    ]
    build = bench_build(2_000, repeat)
    print(f"{'workload':42} {'figure':>14}  target    x plain  goal    details")
    goals = {"chain of 200 sync nodes": 8, "fan-out 1 -> 500 -> 1": 8,
             "map of 10,000 items, 3-node graph": 25, "2-node @route loop, 2,000 iterations": 40,
             "10 levels of nesting, 200 runs": 80}
    for label, row, key, target in rows:
        mark = "" if target is None else ("ok" if row[key] <= target else "MISSED")
        shown = f"<= {target:g}" if target is not None else "-"
        goal = goals.get(label)
        gmark = "" if goal is None else ("ok" if row["x_plain"] <= goal else "MISSED")
        print(f"{label:42} {row[key]:9.2f} {key.split('_', 1)[1]:>4}  {shown:7} {mark:6} "
              f"{row['x_plain']:6.1f}x {'<= ' + str(goal) if goal else '-':6} {gmark:6} {row}")
    mark = "ok" if build["build_ms"] <= 40 else "MISSED"
    print(f"{'build a 2,000-node graph':42} {build['build_ms']:9.2f}   ms  <= 40    {mark} {build}")
    scaling = bench_scaling([25, 50, 100, 200, 400, 800], repeat * 3)
    per_node = {int(r["nodes"]): r["us_per_node"] for r in scaling}
    ratio = per_node[800] / per_node[25]
    print("\nchain scaling (us/node):", ", ".join(f"{n}: {v:.2f}" for n, v in per_node.items()))
    print(f"800-node / 25-node ratio: {ratio:.2f} (target <= 1.2) {'ok' if ratio <= 1.2 else 'MISSED'}")
    memory = bench_map_memory(args.memory_items or (100_000 if args.quick else 1_000_000))
    mark = "ok" if memory["bytes_per_item"] <= 120 else "MISSED"
    print(f"map of {memory['items']:,} items keeps {memory['bytes_per_item']:.0f} bytes/item beyond "
          f"its values (target <= 120) {mark}")
    events = count_events_without_processors()
    print(f"event objects built without processors: {events} (target 0) {'ok' if events == 0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
