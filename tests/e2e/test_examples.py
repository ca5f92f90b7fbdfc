"""The examples in examples/ run as scripts and print what their docstrings promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, *args: str) -> str:
    """Run one example with this interpreter; fail with its stderr if it exits non-zero."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_quickstart_runs_a_pipeline_and_a_batch() -> None:
    """quickstart.py completes a run, answers from the corpus and summarizes a 3-item batch."""
    out = run_example("quickstart.py").splitlines()
    assert "status: RunStatus.COMPLETED" in out
    assert any(line.startswith("reply:  From 'gates'") for line in out)
    assert any("(no reply: the gate chose END)" in line for line in out)
    assert any(line.startswith("batch: 3 items (3 completed)") for line in out)


def test_streaming_prints_tokens_then_the_final_text() -> None:
    """streaming.py prints the streamed tokens, the node's end, the run's end and the joined text."""
    out = run_example("streaming.py")
    lines = out.splitlines()
    text = "You asked: How does streaming work? Here is what I know."
    assert lines[0].startswith(f"streaming: {text}")
    assert any(line.startswith("[fake_llm finished in ") for line in lines)
    assert "[run completed]" in lines
    final = next(line for line in lines if line.startswith("final text: "))
    assert final.removeprefix("final text: ") == lines[0].removeprefix("streaming: ")
    assert "word count: 26" in lines


def test_human_in_the_loop_pauses_and_resumes_flat_and_nested() -> None:
    """human_in_the_loop.py pauses, shows the value, resumes by response_key, flat and nested."""
    lines = run_example("human_in_the_loop.py").splitlines()
    assert lines[:2] == ["== flat graph ==", "status: paused"]
    assert "paused at 'approval'; answer with key 'decision'" in lines
    assert "paused at 'review/editor_approval'; answer with key 'review.decision'" in lines
    assert lines.count("status: completed") == 2
    assert "issues: ['synergy', 'leverage']" in lines
    posts = [line for line in lines if line.startswith("post: ")]
    assert len(posts) == 2
    assert all("[rewritten per reviewer: 'drop the buzzwords']" in p for p in posts)


def test_caching_example_shows_hits_misses_and_reasons() -> None:
    """caching.py reports each hit and miss, with the miss reasons, for both backends."""
    out = run_example("caching.py")
    assert "(first time seen)" in out
    assert "(input changed: 'text')" in out
    assert out.rstrip().endswith(
        "ok: embed ran once per distinct input; norm (not cached) ran every time"
    )


def test_progress_example_in_log_mode_reports_thresholds_and_the_failure() -> None:
    """progress.py --plain prints map progress at the thresholds and the failing item."""
    out = run_example("progress.py", "--plain")
    assert "🗺️ ingest: 30/30 items (100%), 1 failed" in out
    assert "✗ ingest[17]/preprocess/clean failed: ValueError: doc-17 is not valid UTF-8" in out
    assert "batch: 30 items (29 completed, 1 failed)" in out


def test_agent_loop_iterates_until_the_gate_says_end() -> None:
    """agent_loop.py loops write/critique until every rule is met, logging each decision."""
    lines = run_example("agent_loop.py").splitlines()
    decisions = [line.strip() for line in lines if "good_enough ->" in line]
    assert decisions == ["good_enough -> write"] * 3 + ["good_enough -> END"]
    assert "status: RunStatus.COMPLETED" in lines
    assert lines[-1].startswith("final draft: Post about hypergraph (")


def test_durable_order_resumes_after_a_kill_without_repeating_finished_steps() -> None:
    """durable_order.py killed with SIGKILL while settling resumes: only the later steps run."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "durable_order.py"), "--fresh", "--crash-at", "wait_for_settlement"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == -9, done.stderr
    first = [line for line in done.stdout.splitlines() if line.startswith("ran ")]
    assert [line.split(":")[0] for line in first] == ["ran load_order", "ran reserve_stock", "ran charge_card"]
    out = run_example("durable_order.py").splitlines()
    assert [line.split(":")[0] for line in out if line.startswith("ran ")] == [
        "ran wait_for_settlement", "ran ship",
    ]
    assert "receipt: shipped keyboard@shelf-8, mouse@shelf-5 (paid)" in out
    again = run_example("durable_order.py").splitlines()
    assert [line for line in again if line.startswith("ran ")] == []  # DB4: nothing runs again
