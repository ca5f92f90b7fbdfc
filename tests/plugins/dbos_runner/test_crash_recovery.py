"""DB3/DB4: a SIGKILLed durable run, restarted by the same program, finishes without redoing work."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

NODES = ("start", "left", "middle", "right", "side", "inner_sum", "inner_scale", "finish")
"""Every node of programs/crash_graph.py: a chain into a fan-out of three beside a nested graph
(``aside``), a second nested graph (``nested``), a join."""

EXPECTED = "result=124"


def completed_steps(database: Path) -> dict[str, int]:
    """Node name (its task id without path and superstep) -> completion time (epoch ms) of every step."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT function_name, completed_at_epoch_ms FROM operation_outputs"
        ).fetchall()
    return {
        name.split("@")[0].rsplit("/", 1)[-1]: at
        for name, at in rows
        if "@" in name and at is not None
    }


def child_workflows(database: Path) -> dict[str, tuple[str, str]]:
    """Child workflow id -> (parent workflow id, status) of every workflow that has a parent."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT workflow_uuid, parent_workflow_id, status FROM workflow_status"
            " WHERE parent_workflow_id IS NOT NULL"
        ).fetchall()
    return {child: (parent, status) for child, parent, status in rows}


@pytest.mark.parametrize("kill_at", NODES)
def test_a_run_killed_at_any_node_completes_on_restart_without_rerunning_finished_steps(
    tmp_path: Path, run_program: Any, markers: Any, kill_at: str
) -> None:
    """Killed inside ``kill_at``, the restarted program finishes; finished steps never run again."""
    database = tmp_path / "sys.sqlite"
    url = f"sqlite:///{database}"
    (tmp_path / "armed").touch()
    first = run_program("crash_graph.py", url, str(tmp_path), "order-1", kill_at)
    assert first.returncode == -signal.SIGKILL, first.stderr
    (killed,) = tmp_path.glob("killed.*")
    kill_ms = float(killed.name.removeprefix("killed.")) * 1000
    first_pid = markers(tmp_path, kill_at)[0]

    second = run_program("crash_graph.py", url, str(tmp_path), "order-1", kill_at)
    assert second.returncode == 0, second.stderr
    assert EXPECTED in second.stdout.splitlines()

    steps = completed_steps(database)
    assert set(steps) == set(NODES)
    for name in NODES:
        pids = markers(tmp_path, name)
        assert len(set(pids)) == len(pids) <= 2, (name, pids)
        if steps[name] < kill_ms:  # its step was recorded before the crash: never again
            assert pids == [first_pid], (name, pids)
        else:
            assert len([p for p in pids if p != first_pid]) == 1, (name, pids)
    assert len(markers(tmp_path, kill_at)) == 2  # the killed node ran again after the restart
    assert child_workflows(database) == {
        "order-1/aside": ("order-1", "SUCCESS"), "order-1/nested": ("order-1", "SUCCESS"),
    }


def test_a_completed_workflow_id_returns_its_stored_result_without_running_a_node(
    tmp_path: Path, run_program: Any
) -> None:
    """DB4: running the same program again for a finished workflow id executes nothing."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    done = run_program("crash_graph.py", url, str(tmp_path), "order-2")
    assert EXPECTED in done.stdout.splitlines(), done.stderr
    before = sorted(p.name for p in tmp_path.iterdir())
    again = run_program("crash_graph.py", url, str(tmp_path), "order-2")
    assert EXPECTED in again.stdout.splitlines(), again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_caller_attaching_to_a_recovered_run_receives_its_remaining_events(
    tmp_path: Path, run_program: Any, markers: Any
) -> None:
    """After SIGKILL and restart, run(..., workflow_id, event_processors) gets the recovery's events."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    (tmp_path / "armed").touch()
    first = run_program("recovered_events.py", url, str(tmp_path), "events-1")
    assert first.returncode == -signal.SIGKILL, first.stderr
    second = run_program("recovered_events.py", url, str(tmp_path), "events-1")
    assert second.returncode == 0, second.stderr
    lines = second.stdout.splitlines()
    assert "result=21" in lines
    assert {"ended=middle", "ended=finish"} <= set(lines)
    assert len(markers(tmp_path, "start")) == 1  # finished before the crash: not run again
    assert len(markers(tmp_path, "middle")) == 2
