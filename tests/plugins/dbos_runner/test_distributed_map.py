"""A map shared by several worker processes on one PostgreSQL database; a killed worker loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

PROGRAM = Path(__file__).resolve().parent / "programs" / "map_worker.py"
ITEMS = 24


def start(url: str, markers: Path, executor: str, role: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PROGRAM), url, str(markers), executor, role, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )


def test_worker_processes_share_a_map_and_a_killed_worker_loses_no_item(
    tmp_path: Path, postgres_url: str
) -> None:
    """Items run as ``<id>/<i>`` on a DBOS queue across processes; killing one re-runs only its item."""
    victim = start(postgres_url, tmp_path, "worker-b", "worker", "kill")
    helper = start(postgres_url, tmp_path, "worker-a", "worker")
    for process in (victim, helper):
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    caller = start(postgres_url, tmp_path, "caller", "map")
    try:
        assert victim.wait(timeout=120) == -signal.SIGKILL  # died inside its first item
        restarted = start(postgres_url, tmp_path, "worker-b", "worker")  # same executor: recovers
        out, err = caller.communicate(timeout=180)
        assert caller.returncode == 0, err
    finally:
        for process in (helper, caller, locals().get("restarted")):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    results = next(line for line in out.splitlines() if line.startswith("results="))
    assert results == "results=" + ",".join(str(n * n) for n in range(ITEMS))
    done = sorted(p.name for p in tmp_path.glob("done-*"))
    assert sorted(name.split(".")[0] for name in done) == sorted(f"done-{n}" for n in range(ITEMS))
    killed = [n for n in range(ITEMS) if len(list(tmp_path.glob(f"start-{n}.*"))) == 2]
    assert len(killed) == 1  # only the item the victim held ran again
    assert len({p.suffix for p in tmp_path.glob("done-*")}) >= 2  # more than one process did work
