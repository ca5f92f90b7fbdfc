"""Real processes killed with SIGKILL at every node execution of a checkpointed run, then resumed.

The run (``scripts/killable_run.py``) has a fan-out, a loop and a nested graph, and writes a
marker file per finished node execution. For every position k the test kills a fresh run at its
k-th node execution, checks the file holds whole supersteps only, resumes in a new process and
checks: the result is right, and for every node, completed steps recorded before the kill plus
executions during the resume equal the executions of an uninterrupted run — so no recorded node
ran again and none was lost.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hypergraph.checkpointers import SqliteCheckpointer, StepStatus, WorkflowStatus

SCRIPT = Path(__file__).parent / "scripts" / "killable_run.py"
EXPECTED = {"base": 3, "l": 4, "r": 6, "sq": 1600, "text": "sq=1600", "total": 40}
CLEAN_COUNTS = Counter(
    {"start": 1, "left": 1, "right": 1, "accumulate": 4, "again": 4, "square": 1, "label": 1}
)
EXECUTIONS = sum(CLEAN_COUNTS.values())


def run_script(db: Path, markers: Path, phase: str, kill_at: int, runner: str, durability: str) -> subprocess.CompletedProcess[str]:
    """One process of the killable run; returns when it exits (or is killed)."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(db), str(markers), phase, str(kill_at), runner, durability],
        capture_output=True, text=True, timeout=120, check=False,
    )


def executions(markers: Path, phase: str) -> Counter[str]:
    """Finished node executions of one phase, counted from the marker files."""
    return Counter(p.name.split("-")[1] for p in markers.iterdir() if p.name.startswith(phase + "-"))


def recorded(db: Path) -> tuple[Counter[str], list[str]]:
    """Completed steps by node across the run and its child runs; and consistency problems."""
    counts: Counter[str] = Counter()
    problems: list[str] = []
    with SqliteCheckpointer(str(db), readonly=True) as cp:
        for run in cp.runs():
            steps = cp.steps(run.id)
            counts.update(s.node_name for s in steps if s.status is StepStatus.COMPLETED)
            if steps:
                last = cp.checkpoint(run.id).superstep
                if last is None or max(s.superstep for s in steps) > last:
                    problems.append(f"{run.id}: steps past its latest checkpoint {last}")
    with sqlite3.connect(db) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        problems.append(f"integrity_check: {check}")
    return counts, problems


@pytest.mark.parametrize(
    ("runner", "durability"), [("sync", "sync"), ("sync", "async"), ("async", "sync")]
)
def test_a_run_killed_at_any_node_resumes_without_rerunning_recorded_nodes(
    tmp_path: Path, runner: str, durability: str
) -> None:
    """SIGKILL at every node execution: whole supersteps survive, the resume completes the rest."""
    for kill_at in range(1, EXECUTIONS + 1):
        where = tmp_path / f"k{kill_at}"
        markers = where / "markers"
        markers.mkdir(parents=True)
        db = where / "runs.db"
        killed = run_script(db, markers, "first", kill_at, runner, durability)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        before, problems = recorded(db)
        assert problems == [], (kill_at, problems)
        assert sum(before.values()) <= kill_at - 1
        resumed = run_script(db, markers, "resume", 0, runner, durability)
        assert resumed.returncode == 0, (kill_at, resumed.stderr)
        assert json.loads(resumed.stdout) == EXPECTED, kill_at
        again = executions(markers, "resume")
        assert before + again == CLEAN_COUNTS, (kill_at, before, again)
        with SqliteCheckpointer(str(db), readonly=True) as cp:
            assert cp.get_run("wf").status is WorkflowStatus.COMPLETED
            assert cp.get_run("wf/finish").status is WorkflowStatus.COMPLETED


def test_an_uninterrupted_run_executes_each_node_the_expected_number_of_times(tmp_path: Path) -> None:
    """The baseline the kill test compares against."""
    markers = tmp_path / "markers"
    markers.mkdir()
    done = run_script(tmp_path / "runs.db", markers, "first", 0, "sync", "sync")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == EXPECTED
    assert executions(markers, "first") == CLEAN_COUNTS


def test_two_processes_running_workflows_on_one_file_lose_nothing(tmp_path: Path) -> None:
    """Two runner processes write different workflows into one database at once."""
    markers = tmp_path / "markers"
    markers.mkdir()
    db = tmp_path / "runs.db"
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), str(db), str(markers), f"p{i}", "0", runner, "sync",
             f"wf-{i}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i, runner in enumerate(("sync", "async"))
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert json.loads(out) == EXPECTED
    with SqliteCheckpointer(str(db), readonly=True) as cp:
        for i in range(2):
            assert cp.get_run(f"wf-{i}").status is WorkflowStatus.COMPLETED
            steps = Counter(s.node_name for s in cp.steps(f"wf-{i}"))
            steps.update(s.node_name for s in cp.steps(f"wf-{i}/finish"))
            assert steps.pop("finish") == 1  # the graph node's own step
            assert steps == CLEAN_COUNTS


MAP_SCRIPT = Path(__file__).parent / "scripts" / "killable_map.py"


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_a_map_killed_at_any_node_reruns_only_what_its_items_did_not_record(
    tmp_path: Path, runner: str
) -> None:
    """SIGKILL at every node execution of a checkpointed map: re-running the map completes it,
    and recorded steps plus re-executions equal one clean map (map items write their record
    with their first superstep and their end with the next write, so a kill between loses
    nothing)."""
    clean = Counter({"double": 4, "shift": 4})
    for kill_at in range(1, 9):
        where = tmp_path / f"k{kill_at}"
        markers = where / "markers"
        markers.mkdir(parents=True)
        db = where / "runs.db"
        killed = subprocess.run(
            [sys.executable, str(MAP_SCRIPT), str(db), str(markers), "first", str(kill_at), runner],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        before, problems = recorded(db)
        assert problems == [], (kill_at, problems)
        assert before == executions(markers, "first"), kill_at  # every finished step recorded
        again = subprocess.run(
            [sys.executable, str(MAP_SCRIPT), str(db), str(markers), "again", "0", runner],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert again.returncode == 0, (kill_at, again.stderr)
        assert json.loads(again.stdout) == [3, 5, 7, 9], kill_at
        assert before + executions(markers, "again") == clean, kill_at
        with SqliteCheckpointer(str(db), readonly=True) as cp:
            assert cp.get_run("m").status is WorkflowStatus.COMPLETED
            statuses = [cp.get_run(f"m/{i}").status for i in range(4)]  # type: ignore[union-attr]
            assert statuses == [WorkflowStatus.COMPLETED] * 4, kill_at
