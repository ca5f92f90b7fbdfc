"""Checkpoint benchmarks: what SqliteCheckpointer costs per superstep, without and with a runner.

Run on demand (not part of the test suite):

    uv run --all-packages python benchmarks/run_checkpoint.py           # full
    uv run --all-packages python benchmarks/run_checkpoint.py --quick   # fewer repetitions

Each workload writes the records a run loop writes (``create_run``, one ``save_superstep`` per
superstep with its step record and checkpoint, ``update_run_status`` at the end) into a SQLite
file on disk, in the three durability modes, and reads everything back to check it. The
"plain Python" baseline builds the same record objects and appends them to a list; the figure
is the extra time per superstep.

The runner part times SyncRunner and AsyncRunner on the same graphs with and without
``SqliteCheckpointer(path, durability=...)`` (a file on disk): the figure is the extra time per
node execution, next to what plain Python calls of the same functions cost. It also re-runs a
completed 1,000-item map with the same ``workflow_id`` (every item restored) and resumes a
failed 1,000-step run. Figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypergraph import AsyncRunner, Graph, SyncRunner, node
from hypergraph.checkpointers import (
    Checkpoint,
    InMemoryCheckpointer,
    RunRecord,
    SqliteCheckpointer,
    StepRecord,
    WorkflowStatus,
)

MODES: tuple[str, ...] = ("sync", "async", "exit")  # --only narrows them
WORKLOADS = ("chain200", "chain20", "map", "resume")
SELECTED: tuple[str, ...] = WORKLOADS  # --workloads narrows the runner part


CLOCK = time.perf_counter  # --cpu switches to time.process_time (for a busy machine)


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """Best time of ``repeat`` calls, in seconds (GC disabled while timing)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = CLOCK()
            fn()
            times.append(CLOCK() - start)
        finally:
            gc.enable()
    return min(times)


def best_with_store(
    files: Files, mode: str, fn: Callable[[Any], Any], repeat: int
) -> float:
    """Best time of ``fn(checkpointer)`` on a fresh file; opening and closing are not timed
    (closing has nothing left to write: every workload ends with a status update)."""
    times = []
    for _ in range(repeat):
        cp = SqliteCheckpointer(files.new(), durability=mode)  # type: ignore[arg-type]
        write_run(cp, "warm-up", 1)  # the first write creates the WAL file: not per superstep
        gc.collect()
        gc.disable()
        try:
            start = CLOCK()
            fn(cp)
            times.append(CLOCK() - start)
        finally:
            gc.enable()
            cp.close()
    return min(times)


def write_run(
    checkpointer: Any, run_id: str, supersteps: int, parent: str | None = None,
    full: bool = False,
) -> None:
    """The writes of a chain of ``supersteps`` one-node supersteps, as the run loop does them.

    ``full``: every checkpoint carries all values so far (a snapshot), not just the change.
    """
    checkpointer.create_run_sync(
        RunRecord(run_id, graph_name="chain", inputs={"v0": 0}, parent_run_id=parent)
    )
    everything: dict[str, Any] = {}
    for i in range(supersteps):
        value = {f"v{i + 1}": i + 1}
        step = StepRecord(run_id, i, f"n{i + 1}", i, values=value, input_versions={f"v{i}": 1})
        state = {"superstep": i, "ran": [f"n{i + 1}"], "versions": {f"v{i + 1}": 1}}
        if full:
            everything = {**everything, **value}
        changed = everything if full else value
        checkpointer.save_superstep_sync(run_id, (step,), Checkpoint(run_id, i, changed, state))
    checkpointer.update_run_status_sync(run_id, WorkflowStatus.COMPLETED)


def baseline_run(sink: list[Any], run_id: str, supersteps: int) -> None:
    """The same record objects, appended to a list: what building them costs by itself."""
    sink.append(RunRecord(run_id, graph_name="chain", inputs={"v0": 0}))
    for i in range(supersteps):
        value = {f"v{i + 1}": i + 1}
        step = StepRecord(run_id, i, f"n{i + 1}", i, values=value, input_versions={f"v{i}": 1})
        state = {"superstep": i, "ran": [f"n{i + 1}"], "versions": {f"v{i + 1}": 1}}
        sink.append((step, Checkpoint(run_id, i, value, state)))
    sink.append(WorkflowStatus.COMPLETED)


class Files:
    """Fresh database files in one temporary folder on disk."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hg-ckpt-bench-"))
        self.count = 0

    def new(self) -> str:
        self.count += 1
        return str(self.root / f"bench-{self.count}.db")

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def bench_chain(files: Files, supersteps: int, runs: int, repeat: int) -> dict[str, Any]:
    """``runs`` runs of ``supersteps`` supersteps each; µs per superstep over the baseline."""

    def baseline() -> None:
        sink: list[Any] = []
        for r in range(runs):
            baseline_run(sink, f"run-{r}", supersteps)

    base_s = best_of(baseline, repeat)
    row: dict[str, Any] = {"workload": f"{runs} x {supersteps}-superstep chain"}
    memory_s = best_of(lambda: _write_all(InMemoryCheckpointer(), runs, supersteps), repeat)
    row["memory"] = (memory_s - base_s) / (runs * supersteps) * 1e6
    for mode in MODES:
        total = best_with_store(files, mode, lambda cp: _write_all(cp, runs, supersteps), repeat)
        # check what the last file holds
        with SqliteCheckpointer(files.new(), durability=mode) as cp:
            _write_all(cp, runs, supersteps)
            last = f"run-{runs - 1}"
            assert len(cp.steps(last)) == supersteps
            assert cp.values(last)[f"v{supersteps}"] == supersteps
            assert cp.get_run(last).status is WorkflowStatus.COMPLETED  # type: ignore[union-attr]
        row[mode] = (total - base_s) / (runs * supersteps) * 1e6
    row["baseline"] = base_s / (runs * supersteps) * 1e6
    return row


def _write_all(checkpointer: Any, runs: int, supersteps: int) -> None:
    for r in range(runs):
        write_run(checkpointer, f"run-{r}", supersteps)


def bench_map(files: Files, items: int, repeat: int) -> dict[str, Any]:
    """A map of ``items`` child runs (one superstep each) and listing them back for a re-run."""
    row: dict[str, Any] = {"workload": f"map of {items} items (child runs)"}
    base_s = best_of(lambda: [baseline_run([], f"m/{i}", 1) for i in range(items)], repeat)
    def one(cp: Any) -> None:
        cp.create_run_sync(RunRecord("m", graph_name="map"))
        for i in range(items):
            write_run(cp, f"m/{i}", 1, parent="m")
        cp.update_run_status_sync("m", WorkflowStatus.COMPLETED)

    for mode in MODES:
        total = best_with_store(files, mode, one, repeat)
        row[mode] = (total - base_s) / items * 1e6
    path = files.new()
    with SqliteCheckpointer(path) as cp:
        cp.create_run_sync(RunRecord("m", graph_name="map"))
        for i in range(items):
            write_run(cp, f"m/{i}", 1, parent="m")
        cp.update_run_status_sync("m", WorkflowStatus.COMPLETED)

    def restore() -> None:
        with SqliteCheckpointer(path, readonly=True) as reader:
            children = reader.children("m")
            assert len(children) == items
            assert all(run.status is WorkflowStatus.COMPLETED for run, _ in children)
            assert children[-1][1] == {"v1": 1}

    row["list children ms"] = best_of(restore, repeat) * 1e3
    return row


def bench_resume(files: Files, supersteps: int, repeat: int) -> dict[str, Any]:
    """Reading back the checkpoint of a ``supersteps``-superstep run (what a resume loads)."""
    path = files.new()
    with SqliteCheckpointer(path) as cp:
        write_run(cp, "long", supersteps)

    def load() -> None:
        with SqliteCheckpointer(path, readonly=True) as reader:
            found = reader.checkpoint("long")
            assert found.superstep == supersteps - 1
            assert len(found.values) == supersteps

    return {"workload": f"load checkpoint of a {supersteps}-superstep run",
            "ms": best_of(load, repeat) * 1e3}


# ---------------------------------------------------------------------------- with a runner
def make_chain(length: int) -> tuple[Graph, list[Any]]:
    """A chain of ``length`` one-line nodes (x0 -> x1 -> ... ) and the plain functions."""
    funcs = []
    for i in range(length):
        exec_ns: dict[str, Any] = {}
        exec(f"def step{i}(x{i}):\n    return x{i} + 1", exec_ns)
        funcs.append(exec_ns[f"step{i}"])
    nodes = [node(f, output_name=f"x{i + 1}") for i, f in enumerate(funcs)]
    return Graph(nodes, name=f"chain{length}"), funcs


def plain_chain(funcs: list[Any]) -> int:
    value = 0
    for f in funcs:
        value = f(value)
    return value


def _run_many(runner: Any, graph: Graph, runs: int, asynchronous: bool, prefix: str) -> None:
    if asynchronous:
        import asyncio

        async def go() -> None:
            for r in range(runs):
                await runner.run(graph, {"x0": 0}, workflow_id=f"{prefix}{r}" if prefix else None)

        asyncio.run(go())
    else:
        for r in range(runs):
            runner.run(graph, {"x0": 0}, workflow_id=f"{prefix}{r}" if prefix else None)


def bench_runner_chain(
    files: Files, length: int, runs: int, asynchronous: bool, repeat: int
) -> dict[str, Any]:
    """µs per node execution that a checkpointer adds to ``runs`` runs of a ``length`` chain."""
    graph, funcs = make_chain(length)
    make = AsyncRunner if asynchronous else SyncRunner
    nodes = length * runs
    plain_s = best_of(lambda: [plain_chain(funcs) for _ in range(runs)], repeat)
    bare_s = best_of(lambda: _run_many(make(), graph, runs, asynchronous, ""), repeat)
    row: dict[str, Any] = {
        "workload": f"{'AsyncRunner' if asynchronous else 'SyncRunner'} {runs} x {length}-node chain",
        "plain": plain_s / nodes * 1e6,
        "runner": bare_s / nodes * 1e6,
    }
    counter = [0]
    for mode in MODES:

        def timed(cp: Any) -> None:
            counter[0] += 1
            _run_many(make(checkpointer=cp), graph, runs, asynchronous, f"r{counter[0]}-")

        total = best_with_store(files, mode, timed, repeat)
        row[mode] = (total - bare_s) / nodes * 1e6
    with SqliteCheckpointer(files.new()) as cp:
        _run_many(make(checkpointer=cp), graph, 1, asynchronous, "check-")
        assert len(cp.steps("check-0")) == length
        assert cp.values("check-0")[f"x{length}"] == length
    return row


def bench_runner_map(files: Files, items: int, asynchronous: bool, repeat: int) -> dict[str, Any]:
    """A 1,000-item map with ``workflow_id``: overhead per item, and a re-run restoring all."""
    graph, _ = make_chain(3)
    make = AsyncRunner if asynchronous else SyncRunner
    values = {"x0": list(range(items))}

    def do_map(runner: Any, wid: str | None) -> Any:
        if asynchronous:
            import asyncio

            return asyncio.run(runner.map(graph, values, map_over="x0", workflow_id=wid))
        return runner.map(graph, values, map_over="x0", workflow_id=wid)

    bare_s = best_of(lambda: do_map(make(), None), repeat)
    row: dict[str, Any] = {
        "workload": f"{'AsyncRunner' if asynchronous else 'SyncRunner'} map of {items} (3 nodes)",
        "runner": bare_s / (3 * items) * 1e6,
    }
    counter = [0]
    for mode in MODES:

        def timed(cp: Any) -> None:
            counter[0] += 1
            do_map(make(checkpointer=cp), f"m{counter[0]}")

        total = best_with_store(files, mode, timed, repeat)
        row[mode] = (total - bare_s) / (3 * items) * 1e6
    path = files.new()
    with SqliteCheckpointer(path) as cp:
        fresh_s = best_of(lambda: do_map(make(checkpointer=cp), "fresh"), 1)
        do_map(make(checkpointer=cp), "done")

        def rerun() -> None:
            result = do_map(make(checkpointer=cp), "done")
            assert all(r.restored for r in result) and len(result) == items

        rerun_s = best_of(rerun, repeat)
    row["fresh ms"] = fresh_s * 1e3
    row["rerun ms"] = rerun_s * 1e3
    return row


def bench_runner_resume(files: Files, length: int, repeat: int) -> dict[str, Any]:
    """Resuming a ``length``-step run that failed at its last node (SyncRunner, sync mode)."""
    graph, _ = make_chain(length)
    broken: dict[str, bool] = {"on": True}

    @node(output_name="end")
    def last(x1000: int) -> int:  # the chain's last output name depends on ``length``
        if broken["on"]:
            raise RuntimeError("broken")
        return x1000

    assert length == 1000
    failing = Graph([*graph.nodes.values(), last], name="resume")
    times = []
    for _ in range(repeat):
        path = files.new()
        with SqliteCheckpointer(path) as cp:
            broken["on"] = True
            SyncRunner(checkpointer=cp).run(failing, {"x0": 0}, workflow_id="long",
                                            error_handling="continue")
        broken["on"] = False
        gc.collect()
        start = CLOCK()
        with SqliteCheckpointer(path) as cp:
            result = SyncRunner(checkpointer=cp).run(failing, {"x0": 0}, workflow_id="long")
        times.append(CLOCK() - start)
        assert result["end"] == length
    return {"workload": f"resume a failed {length}-step run (open, load, run 1 node)",
            "ms": min(times) * 1e3}


def runner_report(files: Files, repeat: int, quick: bool) -> None:
    print("Runner overhead of SqliteCheckpointer, µs per node execution over the same runner "
          "without one (plain = calling the functions in a Python loop):")
    for asynchronous in (False, True):
        for length, runs in ((200, 1), (20, 50 if quick else 200)):
            if f"chain{length}" not in SELECTED:
                continue
            row = bench_runner_chain(files, length, runs, asynchronous, repeat)
            print(
                f"  {row['workload']:<36} plain {row['plain']:5.2f}  runner {row['runner']:6.2f}"
                f"  {_modes(row)}"
            )
    for asynchronous in (False, True):
        if "map" not in SELECTED:
            break
        row = bench_runner_map(files, 1000, asynchronous, max(1, repeat // 2))
        print(
            f"  {row['workload']:<36} runner {row['runner']:6.2f}  {_modes(row)};  fresh "
            f"{row['fresh ms']:.0f} ms, re-run restoring all {row['rerun ms']:.0f} ms "
            f"({row['rerun ms'] / row['fresh ms']:.0%})"
        )
    if "resume" in SELECTED:
        row = bench_runner_resume(files, 1000, repeat)
        print(f"  {row['workload']:<36} {row['ms']:.1f} ms")


def _modes(row: dict[str, Any]) -> str:
    return "  ".join(f"+{mode} {row[mode]:6.2f}" for mode in MODES)


def main(argv: list[str] | None = None) -> int:
    global CLOCK, MODES, SELECTED
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--runners", action="store_true", help="only the runner part")
    parser.add_argument("--cpu", action="store_true",
                        help="time with process CPU time instead of wall time")
    parser.add_argument("--only", choices=MODES, action="append",
                        help="time only this durability mode (repeatable)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"runner workloads, comma-separated, of {', '.join(WORKLOADS)}")
    args = parser.parse_args(argv)
    if args.only and not args.runners:
        parser.error("--only goes with --runners")
    if args.cpu:
        CLOCK = time.process_time
    if args.only:
        MODES = tuple(mode for mode in MODES if mode in args.only)
    SELECTED = tuple(w for w in args.workloads.split(",") if w)
    unknown = set(SELECTED) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    repeat = 3 if args.quick else 7
    files = Files()
    try:
        import sqlite3

        clock = "process CPU time" if args.cpu else "wall time"
        print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, files in "
              f"{files.root}, {clock}, best of {repeat}")
        if args.runners:
            runner_report(files, repeat, args.quick)
            return 0
        print("µs per superstep over building the records (baseline = building them):")
        for row in (
            bench_chain(files, 200, 1, repeat),
            bench_chain(files, 20, 200 if not args.quick else 50, repeat),
        ):
            print(
                f"  {row['workload']:<32} baseline {row['baseline']:6.2f}  memory "
                f"{row['memory']:6.2f}  sync {row['sync']:6.2f}  async {row['async']:6.2f}  "
                f"exit {row['exit']:6.2f}"
            )
        full = best_with_store(files, "sync", lambda cp: write_run(cp, "full", 200, full=True),
                               repeat)
        changes = best_with_store(files, "sync", lambda cp: write_run(cp, "delta", 200), repeat)
        print(f"  {'200-superstep chain, sync':<32} all values per checkpoint "
              f"{full / 200 * 1e6:6.2f}  changes only {changes / 200 * 1e6:6.2f} (µs, no baseline)")
        row = bench_map(files, 1000, max(1, repeat // 2))
        print(
            f"  {row['workload']:<32} µs per item: sync {row['sync']:6.1f}  async "
            f"{row['async']:6.1f}  exit {row['exit']:6.1f};  restore all children "
            f"{row['list children ms']:.1f} ms"
        )
        row = bench_resume(files, 1000, repeat)
        print(f"  {row['workload']:<32} {row['ms']:.1f} ms")
        runner_report(files, repeat, args.quick)
    finally:
        files.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
