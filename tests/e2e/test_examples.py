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


def test_human_in_the_loop_answers_two_review_turns_both_ways() -> None:
    """human_in_the_loop.py publishes the revised draft after two turns, in memory and persisted."""
    lines = run_example("human_in_the_loop.py").splitlines()
    assert lines.count("published: release: we shipped it. [add numbers]") == 2
    assert lines.count("  editor sees 'release: we shipped it. [add numbers]', answers 'approve'") == 2


def test_resume_after_fix_keeps_valid_steps_and_reruns_changed_code() -> None:
    """resume_after_fix.py: the resume runs only score (code changed), rank and report."""
    lines = run_example("resume_after_fix.py").splitlines()
    assert "status: failed - the report service is down" in lines
    assert "executed: ['score', 'rank', 'report']" in lines
    assert "re-ran score: code changed" in lines
    assert "re-ran rank: downstream of 'score'" in lines
    assert "summary: top: db:3, db:2, db:1" in lines


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


def test_batch_embeddings_ranks_passages_embedded_on_daft() -> None:
    """batch_embeddings.py embeds 4 passages on Daft inside a SyncRunner pipeline and ranks them."""
    lines = run_example("batch_embeddings.py").splitlines()
    assert "status: completed" in lines
    assert "passages embedded: 4 x 64 dimensions" in lines
    assert "best match: Ray schedules tasks on workers across a " in lines
    scores = [float(line.split()[0]) for line in lines if line[:1] in "+-" and "  " in line]
    assert len(scores) == 4
    assert scores == sorted(scores, reverse=True)


def test_pictures_prints_mermaid_and_writes_an_svg(tmp_path: Path) -> None:
    """pictures.py prints the Mermaid flowchart and renders an SVG through Graphviz."""
    target = tmp_path / "rag.svg"
    out = run_example("pictures.py", str(target))
    assert "flowchart TD" in out and 'subgraph cluster_retrieval["retrieval"]' in out
    assert f"wrote {target}" in out
    assert "<svg" in target.read_text()


def test_errors_example_shows_the_node_note_and_the_suggestions() -> None:
    """errors.py shows the node's note with its graph path and two did-you-mean hints."""
    lines = run_example("errors.py").splitlines()
    assert lines[0] == "ValueError: cannot embed an empty query"
    assert lines[1] == (
        "hypergraph: node 'app/retrieval/embed' failed in superstep 0 with inputs: query='   '"
    )
    assert "Did you mean 'embedding'? It is an output of 'embed'" in lines[2]
    assert "Did you mean the input 'top_k'?" in lines[3]


def test_cli_show_draws_an_example_graph(tmp_path: Path) -> None:
    """`python -m hypergraph show examples.quickstart:rag` prints Mermaid, DOT, or writes SVG."""
    root = EXAMPLES.parent

    def show(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hypergraph", "show", "examples.quickstart:rag", *args],
            capture_output=True, text=True, timeout=120, cwd=root,
        )

    mermaid = show()
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.splitlines()[3] == "flowchart TD"
    dot = show("--format", "dot", "--depth", "0")
    assert dot.stdout.startswith('digraph "rag" {') and "cluster_" not in dot.stdout
    svg = show("--format", "svg", "-o", str(tmp_path / "rag.svg"))
    assert svg.returncode == 0, svg.stderr
    assert "<svg" in (tmp_path / "rag.svg").read_text()
    missing = subprocess.run(
        [sys.executable, "-m", "hypergraph", "show", "examples.quickstart:rg"],
        capture_output=True, text=True, timeout=120, cwd=root,
    )
    assert missing.returncode == 2
    assert "has no attribute 'rg'. Graphs it defines: retrieval, rag." in missing.stderr
    not_target = subprocess.run(
        [sys.executable, "-m", "hypergraph", "show", "quickstart"],
        capture_output=True, text=True, timeout=120, cwd=root,
    )
    assert not_target.returncode == 2 and "is not MODULE:GRAPH" in not_target.stderr
    by_path = subprocess.run(
        [sys.executable, "-m", "hypergraph", "show", str(EXAMPLES / "agent_loop.py") + ":loop"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert by_path.returncode == 0, by_path.stderr
    assert 'n_good_enough -.-> n_write' in by_path.stdout


def test_readme_shows_the_committed_quickstart_picture() -> None:
    """The README embeds docs/assets/quickstart.png, which exists and is a PNG."""
    readme = (EXAMPLES.parent / "README.md").read_text()
    assert "](docs/assets/quickstart.png)" in readme
    picture = EXAMPLES.parent / "docs" / "assets" / "quickstart.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_retries_example_retries_rate_limits_and_timeouts() -> None:
    """retries.py retries two rate limits and one timeout, completes, then shows a bare timeout."""
    lines = run_example("retries.py").splitlines()
    retried = [line.split(":")[0].strip() for line in lines if line.startswith("  retry ")]
    assert retried == ["retry call_llm", "retry call_llm", "retry summarize"]
    assert any("(NodeTimeoutError)" in line for line in lines)
    assert "status: RunStatus.COMPLETED" in lines
    assert "summary: AN ANSWER TO 'WHY RETRY?'" in lines
    assert "attempts: call_llm=3, summarize=2" in lines
    assert "timeout: stuck after 0.01 s" in lines


def test_checkpoint_store_example_records_reads_forks_and_lists() -> None:
    """checkpoint_store.py shows the records, the state, a retry, the lineage tree and the CLI."""
    lines = run_example("checkpoint_store.py").splitlines()
    assert lines[0].startswith("RunRecord(id='report-1', status=failed, graph='report'")
    assert "error='TimeoutError: model did not answer'" in lines[2]
    assert "'words': ('durable', 'resumable')" in lines[3]
    assert "retry report-1-retry starts after superstep 1 with ['page']" in lines
    assert "├── report-1-retry  [active]  retry #1 of report-1" in lines
    assert "└── report-1-alt  [active]  fork of report-1 at superstep 0" in lines
    header = next(i for i, line in enumerate(lines) if line.startswith("id "))
    assert [line.split()[0] for line in lines[header + 2 :]] == [
        "report-1", "report-1-retry", "report-1-alt"
    ]


def test_thread_pool_example_runs_parallel_lookups_nested_and_keyed_per_run() -> None:
    """thread_pool.py merges three parallel lookups, runs nested, and reports each run by its id."""
    lines = run_example("thread_pool.py").splitlines()
    assert lines[:2] == ["hits: ['docs:hypergraph', 'web:hypergraph', 'wiki:hypergraph']", "nested: 3 hits"]
    assert sorted(lines[2:]) == [
        "  run 'search' ended after 4 nodes",
        "  run 'tiny' ended after 1 nodes",
    ]


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


def test_durable_retries_resume_at_the_next_attempt_after_a_kill_during_the_backoff() -> None:
    """durable_retries.py killed waiting after attempt 2 resumes with attempt 3: three API calls."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "durable_retries.py"), "--fresh", "--crash-in-backoff", "2"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == -9, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("API call")] == [
        "API call 1: rate limited", "API call 2: rate limited",
    ]
    out = run_example("durable_retries.py").splitlines()
    assert [line for line in out if line.startswith("API call")] == [
        "API call 3: ok", "API calls in all: 3",
    ]
    assert "summary: summary of 'report.pdf'" in out
