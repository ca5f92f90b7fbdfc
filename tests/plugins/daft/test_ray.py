"""DaftRunner on Daft's Ray runner: one real local Ray cluster per test session.

The cluster runs in a subprocess (ray_job.py) because Daft's runner choice is process-wide and
the other Daft tests must keep the native runner. The job's JSON report is shared by the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.ray

JOB = Path(__file__).with_name("ray_job.py")


@pytest.fixture(scope="session")
def ray_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Start Ray once, run every graph of ray_job.py on it, return what it observed."""
    workdir = tmp_path_factory.mktemp("ray")
    # plugin switches other tests may have left set would change what the job can import
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("HYPERGRAPH_")}
    env = {
        **inherited,
        "RAY_AUTH_MODE": "disabled",
        "DO_NOT_TRACK": "1",
        "HYPERGRAPH_RAY_STATEFUL_LOG": str(workdir / "constructions.txt"),
    }
    # cwd is an empty folder so Ray has nothing of the checkout to package for its workers
    done = subprocess.run(
        [sys.executable, str(JOB)], cwd=workdir, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_the_job_ran_on_the_ray_runner(ray_report: dict[str, Any]) -> None:
    """Daft reports the Ray runner as the one that executed the plans."""
    assert ray_report["runner"] == "ray"


def test_map_dataframe_over_partitions_gives_every_row(ray_report: dict[str, Any]) -> None:
    """400 rows in 4 partitions come back complete and in order, async node included."""
    assert ray_report["map_dataframe"]["ok"] is True
    assert ray_report["map"]["ok"] is True


def test_stateful_model_is_built_per_worker_task_not_per_row(ray_report: dict[str, Any]) -> None:
    """At most one construction per partition, all in Ray worker processes, never per row."""
    report = ray_report["map_dataframe"]
    assert 1 <= report["constructions"] <= 4 < report["rows"]
    assert str(ray_report["driver_pid"]) not in report["worker_pids"]
    assert 1 <= ray_report["map"]["constructions"] <= 2


def test_node_exceptions_cross_ray_with_their_own_type(ray_report: dict[str, Any]) -> None:
    """raise mode gives the node's NodeFailed, not RayTaskError or DaftCoreException."""
    assert ray_report["raise"] == {
        "type": "NodeFailed", "message": "bad row -1", "caught_as_itself": True,
    }


def test_continue_mode_on_ray_keeps_failures_in_place(ray_report: dict[str, Any]) -> None:
    """The failed item is FAILED with its exception type; the others complete."""
    assert ray_report["continue"] == {
        "statuses": ["completed", "failed", "completed"],
        "error_types": ["NodeFailed"],
        "completed": [3, None, 6],
    }
