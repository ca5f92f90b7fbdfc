"""Raw-SQLite micro benchmark: what one ``durability="exit"`` run commit costs per table layout.

Run on demand (not part of the test suite):

    uv run --all-packages python benchmarks/sqlite_layout.py [--nodes 20] [--rounds 9]

Each variant writes 200 runs into a fresh file on disk, one transaction per run, the rows an
exit-mode run of an N-node chain writes (a lookup of its id, the run row with its config,
N step rows, one checkpoint of ~1.5 KB loop state), with plain ``sqlite3`` calls and the
checkpointer's pragmas. Variants run interleaved, best of ``--rounds``, process CPU time
(the machine is shared); the figure is µs per run and the WAL pages each commit wrote. It is
how the layout ideas for schema 3 were measured before building them (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from typing import Any

RUNS = 200

_RUNS_TABLE = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, graph_name TEXT, inputs TEXT NOT NULL,
    parent_run_id TEXT, forked_from TEXT, fork_superstep INTEGER, retry_of TEXT,
    retry_index INTEGER, graph_struct_hash TEXT, graph_code_hash TEXT, input_signature TEXT,
    config TEXT NOT NULL, created_at REAL NOT NULL, completed_at REAL, duration_ms REAL,
    node_count INTEGER NOT NULL DEFAULT 0, error_count INTEGER NOT NULL DEFAULT 0, error TEXT
);
CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE TABLE steps (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, superstep INTEGER NOT NULL,
    node_name TEXT NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,
    input_versions TEXT NOT NULL, outputs TEXT NOT NULL, duration_ms REAL NOT NULL,
    cached INTEGER NOT NULL, decision TEXT, error TEXT, created_at REAL NOT NULL,
    completed_at REAL, child_run_id TEXT, state TEXT, PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
"""
_CHECKPOINTS = """
CREATE TABLE checkpoints (
    run_id TEXT NOT NULL, superstep INTEGER NOT NULL, delta TEXT NOT NULL,
    state TEXT NOT NULL, PRIMARY KEY (run_id, superstep)
){suffix};
"""
SCHEMA_2 = _RUNS_TABLE + _CHECKPOINTS.format(suffix=" WITHOUT ROWID")
SCHEMA_3 = _RUNS_TABLE + _CHECKPOINTS.format(suffix="")
PACKED = SCHEMA_3 + "CREATE TABLE packed (id INTEGER PRIMARY KEY, run_id TEXT, rows TEXT);"

INSERT_RUN = f"INSERT INTO runs VALUES ({', '.join('?' * 19)})"
INSERT_STEP = (
    "INSERT INTO steps (seq, run_id, superstep, node_name, idx, status, input_versions, "
    "outputs, duration_ms, cached, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_CHECKPOINT = "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?)"


def one_file(nodes: int, schema: str, config: str, packed: bool = False) -> tuple[float, float]:
    """CPU seconds per run and WAL pages per commit, for ``RUNS`` runs into a fresh file."""
    folder = tempfile.mkdtemp(prefix="hg-layout-")
    path = os.path.join(folder, "runs.db")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(schema)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        now = time.time()
        state = json.dumps({f"k{i}": "x" * 60 for i in range(max(1, nodes))})[: 75 * nodes + 50]
        jobs: list[Any] = []
        for r in range(RUNS + 1):
            run_id = f"r1-{r}"
            run = (run_id, "completed", "chain", '{"x0":0}', None, None, None, None, None,
                   "h" * 64, "h" * 64, None, config, now, now, 1.0, nodes, 0, None)
            steps = [(i, run_id, i, f"step{i}", i, "completed", f'{{"x{i}":1}}',
                      f'{{"x{i + 1}":{i + 1}}}', 0.01, 0, now) for i in range(nodes)]
            delta = "{" + ",".join(f'"x{i}":{i}' for i in range(nodes + 1)) + "}"
            jobs.append((run_id, run, steps, (run_id, nodes - 1, delta, state)))

        def write(job: Any) -> None:
            run_id, run, steps, checkpoint = job
            conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT_RUN, run)
            if packed:
                conn.execute("INSERT INTO packed (run_id, rows) VALUES (?, ?)",
                             (run_id, json.dumps(steps)))
            else:
                conn.executemany(INSERT_STEP, steps)
            conn.execute(INSERT_CHECKPOINT, checkpoint)
            conn.execute("COMMIT")

        write(jobs[0])  # creates the WAL file
        before = os.path.getsize(path + "-wal")
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            for job in jobs[1:]:
                write(job)
            elapsed = time.process_time() - start
        finally:
            gc.enable()
        pages = (os.path.getsize(path + "-wal") - before) / (4096 + 24)
        return elapsed / RUNS, pages / RUNS
    finally:
        conn.close()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    nodes = args.nodes
    rng = random.Random(0)
    config = json.dumps({"definition_hashes": {
        f"step{i}": f"{rng.getrandbits(256):064x}" for i in range(nodes)
    }})
    variants: dict[str, dict[str, Any]] = {
        "schema 2 (checkpoints WITHOUT ROWID)": {"schema": SCHEMA_2, "config": config},
        "schema 3 (checkpoints rowid)": {"schema": SCHEMA_3, "config": config},
        "schema 3 + config out of the run row": {"schema": SCHEMA_3, "config": "{}"},
        "schema 3 + steps packed in one row": {"schema": PACKED, "config": config, "packed": True},
    }
    best = {name: (float("inf"), 0.0) for name in variants}
    for _ in range(args.rounds):
        for name, options in variants.items():
            seconds, pages = one_file(nodes, **options)
            if seconds < best[name][0]:
                best[name] = (seconds, pages)
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; {RUNS} runs of a "
          f"{nodes}-node chain per file, process CPU time, best of {args.rounds}")
    for name, (seconds, pages) in best.items():
        print(f"  {name:<40} {seconds * 1e6:7.1f} µs per run   {pages:5.1f} WAL pages per commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
