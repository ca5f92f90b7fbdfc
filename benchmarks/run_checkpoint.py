"""Checkpoint storage benchmarks: what SqliteCheckpointer costs per superstep, without a runner.

Run on demand (not part of the test suite):

    uv run --all-packages python benchmarks/run_checkpoint.py           # full
    uv run --all-packages python benchmarks/run_checkpoint.py --quick   # fewer repetitions

Each workload writes the records a run loop writes (``create_run``, one ``save_superstep`` per
superstep with its step record and checkpoint, ``update_run_status`` at the end) into a SQLite
file on disk, in the three durability modes, and reads everything back to check it. The
"plain Python" baseline builds the same record objects and appends them to a list; the figure
is the extra time per superstep. Figures are recorded in benchmarks/README.md.
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

from hypergraph.checkpointers import (
    Checkpoint,
    InMemoryCheckpointer,
    RunRecord,
    SqliteCheckpointer,
    StepRecord,
    WorkflowStatus,
)

MODES = ("sync", "async", "exit")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--cpu", action="store_true",
                        help="time with process CPU time instead of wall time")
    args = parser.parse_args(argv)
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    repeat = 3 if args.quick else 7
    files = Files()
    try:
        import sqlite3

        clock = "process CPU time" if args.cpu else "wall time"
        print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, files in "
              f"{files.root}, {clock}, best of {repeat}")
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
    finally:
        files.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
