"""``python -m hypergraph runs``: listing a checkpoint file and showing one run, as text or JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hypergraph.checkpointers import (
    Checkpoint,
    RunRecord,
    SqliteCheckpointer,
    StepRecord,
    StepStatus,
    WorkflowStatus,
)
from hypergraph.checkpointers._cli import main


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A file with a failed run and its retry, a completed run and a 3-item map."""
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path) as cp:
        cp.create_run_sync(RunRecord("wf-1", graph_name="rag", inputs={"query": "hi"}))
        cp.save_superstep_sync(
            "wf-1",
            [StepRecord("wf-1", 0, "embed", 0, values={"vec": (0.5, 0.25)}, duration_ms=2.0)],
            Checkpoint("wf-1", 0, {"vec": (0.5, 0.25)}, {}),
        )
        cp.save_superstep_sync(
            "wf-1",
            [StepRecord("wf-1", 1, "answer", 1, status=StepStatus.FAILED,
                        error="RuntimeError: model down")],
            Checkpoint("wf-1", 1, {}, {}),
        )
        cp.update_run_status_sync("wf-1", WorkflowStatus.FAILED, error="RuntimeError: model down")
        cp.retry_workflow("wf-1", workflow_id="wf-1-retry")
        cp.create_run_sync(RunRecord("etl", graph_name="etl"))
        cp.update_run_status_sync("etl", WorkflowStatus.COMPLETED)
        cp.create_run_sync(RunRecord("batch", graph_name="rag"))
        for i in range(3):
            cp.create_run_sync(RunRecord(f"batch/{i}", graph_name="rag", parent_run_id="batch"))
            cp.update_run_status_sync(f"batch/{i}", WorkflowStatus.COMPLETED)
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_listing_shows_top_level_runs_as_a_table(store, capsys):
    """``runs PATH`` prints one row per top-level run with status, counts and origin."""
    code, out, _ = run_cli(capsys, str(store))
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["id", "status", "graph", "steps", "errors", "children",
                                "created", "duration", "origin"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert list(rows) == ["wf-1", "wf-1-retry", "etl", "batch"]
    assert rows["wf-1"].split()[1:5] == ["failed", "rag", "1", "1"]
    assert rows["wf-1-retry"].endswith("retry #1 of wf-1")
    assert rows["batch"].split()[5] == "3"


def test_listing_filters_and_includes_children_on_request(store, capsys):
    """``--status``, ``--graph`` and ``--all`` narrow or widen the listing."""
    _, out, _ = run_cli(capsys, str(store), "--status", "completed", "--all")
    assert [line.split()[0] for line in out.splitlines()[2:]] == [
        "etl", "batch/0", "batch/1", "batch/2"
    ]
    _, out, _ = run_cli(capsys, str(store), "--graph", "etl")
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["etl"]


def test_showing_a_run_lists_steps_values_and_lineage(store, capsys):
    """``runs PATH ID`` shows the record, every step, the latest values and the lineage tree."""
    code, out, _ = run_cli(capsys, str(store), "wf-1")
    assert code == 0
    assert "status:          failed" in out
    assert "error:           RuntimeError: model down" in out
    assert "Steps (2)" in out
    step_lines = [line for line in out.splitlines() if line.startswith(("0 ", "1 "))]
    assert "embed" in step_lines[0] and "{'vec': (0.5, 0.25)}" in step_lines[0]
    assert "failed" in step_lines[1] and "RuntimeError: model down" in step_lines[1]
    assert "Values after superstep 1\n  vec = (0.5, 0.25)" in out
    assert "Lineage\n  wf-1  [failed]\n  └── wf-1-retry  [active]  retry #1 of wf-1" in out


def test_showing_a_map_lists_its_children(store, capsys):
    """A parent run's view ends with its child runs."""
    _, out, _ = run_cli(capsys, str(store), "batch")
    assert "Children (3)" in out
    assert [line.split()[0] for line in out.split("Children (3)\n")[1].splitlines()[2:]] == [
        "batch/0", "batch/1", "batch/2"
    ]


def test_json_output_is_machine_readable(store, capsys):
    """``--json`` prints one JSON document with the run, steps, checkpoint, lineage, children."""
    _, out, _ = run_cli(capsys, str(store), "wf-1", "--json")
    data = json.loads(out)
    assert data["run"]["status"] == "failed"
    assert data["run"]["inputs"] == {"query": "hi"}
    assert [s["node_name"] for s in data["steps"]] == ["embed", "answer"]
    assert data["steps"][0]["values"] == {"vec": {"__hg__": "tuple", "v": [0.5, 0.25]}}
    assert data["steps"][1]["status"] == "failed"
    assert data["checkpoint"]["superstep"] == 1
    assert data["lineage"] == {
        "id": "wf-1", "status": "failed", "relation": "root",
        "children": [{"id": "wf-1-retry", "status": "active", "relation": "retry",
                      "children": []}],
    }
    _, out, _ = run_cli(capsys, str(store), "--json")
    listing = json.loads(out)
    assert [r["id"] for r in listing["runs"]] == ["wf-1", "wf-1-retry", "etl", "batch"]
    assert listing["runs"][3]["children"] == 3


def test_unknown_run_and_missing_file_are_errors(store, capsys, tmp_path):
    """An unknown id or a missing file prints an error and exits 1, writing nothing."""
    code, _, err = run_cli(capsys, str(store), "nope")
    assert code == 1 and "No run with id 'nope'" in err
    code, _, err = run_cli(capsys, str(tmp_path / "absent.db"))
    assert code == 1 and "There is no checkpoint file" in err
    assert not (tmp_path / "absent.db").exists()


def test_a_foreign_file_is_an_error_not_a_traceback(tmp_path, capsys):
    """Pointing the CLI at a non-SQLite file prints a one-line error."""
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 50)
    code, _, err = run_cli(capsys, str(path))
    assert code == 1
    assert err.startswith("error: ") and "is not a SQLite database" in err
    assert "Traceback" not in err


def test_runs_is_a_python_m_hypergraph_command(store):
    """``python -m hypergraph runs PATH`` dispatches to the runs command."""
    done = subprocess.run(
        [sys.executable, "-m", "hypergraph", "runs", str(store)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2].startswith("wf-1 ")
