"""The checkpoint storage API: record a run the way a runner does, then read, fork and retry it.

Runners write these records for you once they are given ``checkpointer=``; this script writes
them by hand to show what is stored and how to read it back (also from the command line):

    uv run --all-packages python examples/checkpoint_store.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from hypergraph.checkpointers import (
    Checkpoint,
    RunRecord,
    SqliteCheckpointer,
    StepRecord,
    StepStatus,
    WorkflowStatus,
)


def record_failed_run(cp: SqliteCheckpointer) -> None:
    """What a runner saves for ``fetch -> summarize`` where ``summarize`` fails."""
    cp.create_run_sync(RunRecord("report-1", graph_name="report", inputs={"url": "https://x.test"}))
    page = {"title": "Checkpoints", "words": ("durable", "resumable")}
    cp.save_superstep_sync(
        "report-1",
        [StepRecord("report-1", 0, "fetch", 0, values={"page": page}, duration_ms=120.0)],
        Checkpoint("report-1", 0, values={"page": page}, state={"done": ["fetch"]}),
    )
    cp.save_superstep_sync(
        "report-1",
        [StepRecord("report-1", 1, "summarize", 1, status=StepStatus.FAILED,
                    error="TimeoutError: model did not answer", duration_ms=30_000.0)],
        Checkpoint("report-1", 1, values={}, state={"done": ["fetch"], "failed": ["summarize"]}),
    )
    cp.update_run_status_sync("report-1", WorkflowStatus.FAILED, error="TimeoutError")


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    path = folder / "runs.db"
    with SqliteCheckpointer(path) as cp:
        record_failed_run(cp)
        print(cp.get_run("report-1"))
        for step in cp.steps("report-1"):
            print(" ", step)
        # what a resume starts from: the stored inputs overlaid with the computed values
        state = cp.state("report-1")
        print("state:", state)
        assert state["page"]["words"] == ("durable", "resumable")  # the tuple comes back a tuple
        retry_id, start = cp.retry_workflow("report-1", workflow_id="report-1-retry")
        fork_id, _ = cp.fork_workflow("report-1", workflow_id="report-1-alt", superstep=0)
        print(f"retry {retry_id} starts after superstep {start.superstep} with {sorted(start.values)}")
        print(cp.lineage(fork_id).render())
    # the same file from the command line (--json for scripts)
    listing = subprocess.run(
        [sys.executable, "-m", "hypergraph", "runs", str(path)],
        capture_output=True, text=True, check=True,
    )
    print(listing.stdout, end="")


if __name__ == "__main__":
    main()
