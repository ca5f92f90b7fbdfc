"""RichProgressProcessor: plain lines off a terminal, nested live bars on one (SPEC EV11)."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from rich.console import Console

from hypergraph import AsyncRunner, Graph, RetryPolicy, SyncRunner, node
from hypergraph.events import RichProgressProcessor


@node(output_name="text")
def clean(doc: str) -> str:
    if doc == "bad":
        raise ValueError("not UTF-8")
    return doc.lower()


@node(output_name="tokens")
def tokenize(text: str) -> list[str]:
    return text.split()


@node(output_name="count")
def count(tokens: list[str]) -> int:
    return len(tokens)


preprocess = Graph([clean, tokenize], name="preprocess")
pipeline = Graph([preprocess.as_node(), count], name="ingest")
flat = Graph([clean, tokenize], name="flat")


def plain(run) -> list[str]:
    """Run with a non-TTY processor; return its lines with durations replaced by ``<t>``."""
    buffer = io.StringIO()
    run(RichProgressProcessor(force_mode="non-tty", console=Console(file=buffer, width=200)))
    return [
        re.sub(r"\d+(\.\d+)? ?(ms|s)\b", "<t>", re.sub(r"[\d,]+(\.\d+)? items/s", "<rate>", line))
        for line in buffer.getvalue().splitlines()
    ]


def final_frame(run, *, transient: bool = False) -> str:
    """Run with a TTY processor on a recording terminal; return the last frame it drew."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    run(RichProgressProcessor(force_mode="tty", transient=transient, console=console))
    # each redraw first erases the previous frame's lines; the text after the last erase is final
    return buffer.getvalue().rsplit("\x1b[2K", 1)[-1].replace("\x1b[?25h", "").replace(
        "\x1b[?25l", ""
    )


def test_non_tty_prints_a_line_when_each_node_starts_and_ends():
    """Off a terminal every node of a run gets a start line and an end line with its duration."""
    lines = plain(lambda p: SyncRunner().run(flat, {"doc": "A b"}, event_processors=[p]))
    assert lines == [
        "▶ flat",
        "▶ flat/clean",
        "✓ flat/clean (<t>)",
        "▶ flat/tokenize",
        "✓ flat/tokenize (<t>)",
        "✓ flat completed in <t>",
    ]


def test_non_tty_names_nested_nodes_by_their_path():
    """A node of a nested graph is named by the path of graphs above it."""
    lines = plain(lambda p: SyncRunner().run(pipeline, {"doc": "A b"}, event_processors=[p]))
    assert "▶ ingest/preprocess/tokenize" in lines
    assert "✓ ingest/preprocess (<t>)" in lines


def test_non_tty_failure_line_names_the_node_and_the_error():
    """A failing node prints one line with its path and the error text."""
    lines = plain(
        lambda p: SyncRunner().run(
            flat, {"doc": "bad"}, error_handling="continue", event_processors=[p]
        )
    )
    assert lines[-2:] == [
        "✗ flat/clean failed: ValueError: not UTF-8",
        "✗ flat failed after <t>: ValueError: not UTF-8",
    ]


def test_non_tty_map_progress_is_printed_only_at_thresholds():
    """A 20-item map reports its progress at exactly 10, 25, 50, 75 and 100 %."""
    lines = plain(
        lambda p: SyncRunner().map(
            flat, {"doc": ["x"] * 20}, map_over="doc", event_processors=[p]
        )
    )
    assert [line for line in lines if line.startswith("🗺️")] == [
        "🗺️ flat: 2/20 items (10%), <rate>, ETA <t>",
        "🗺️ flat: 5/20 items (25%), <rate>, ETA <t>",
        "🗺️ flat: 10/20 items (50%), <rate>, ETA <t>",
        "🗺️ flat: 15/20 items (75%), <rate>, ETA <t>",
        "🗺️ flat: 20/20 items (100%), <rate>",
    ]


def test_non_tty_small_map_reports_each_crossing_once():
    """When one item crosses several thresholds, a single line reports the real percentage."""
    lines = plain(
        lambda p: SyncRunner().map(flat, {"doc": ["x"] * 3}, map_over="doc", event_processors=[p])
    )
    assert [line for line in lines if line.startswith("🗺️")] == [
        "🗺️ flat: 1/3 items (33%), <rate>, ETA <t>",
        "🗺️ flat: 2/3 items (66%), <rate>, ETA <t>",
        "🗺️ flat: 3/3 items (100%), <rate>",
    ]


def test_non_tty_map_items_report_only_failures_with_their_index():
    """Inside a map, nodes print nothing but failures, which name the failing item."""
    lines = plain(
        lambda p: SyncRunner().map(
            pipeline, {"doc": ["a", "b", "bad", "c"]}, map_over="doc",
            error_handling="continue", event_processors=[p],
        )
    )
    assert lines == [
        "▶ ingest (map over 4 items)",
        "🗺️ ingest: 1/4 items (25%), <rate>, ETA <t>",
        "🗺️ ingest: 2/4 items (50%), <rate>, ETA <t>",
        "✗ ingest[2]/preprocess/clean failed: ValueError: not UTF-8",
        "✗ ingest[2]/preprocess failed: ValueError: not UTF-8",
        "🗺️ ingest: 3/4 items (75%), 1 failed, <rate>, ETA <t>",
        "🗺️ ingest: 4/4 items (100%), 1 failed, <rate>",
        "✗ ingest failed after <t> (4 items: 3 ok, 1 failed: [2] ValueError: not UTF-8)",
    ]


def test_auto_mode_off_a_terminal_prints_plain_lines():
    """``force_mode="auto"`` with a console that is not a terminal prints lines, not bars."""
    buffer = io.StringIO()
    processor = RichProgressProcessor(console=Console(file=buffer))
    SyncRunner().run(flat, {"doc": "a"}, event_processors=[processor])
    assert buffer.getvalue().splitlines()[0] == "▶ flat"


def test_tty_draws_a_row_per_run_and_node_indented_by_depth_with_icons():
    """The run's row is unindented, its nodes are 📦 at depth 1 and nested nodes 🌳 at depth 2."""
    frame = final_frame(lambda p: SyncRunner().run(pipeline, {"doc": "A b"}, event_processors=[p]))
    labels = [re.match(r" *(\S+ )?\w+", line).group(0) for line in frame.splitlines()]
    assert labels == [
        "ingest",
        "  📦 preprocess",
        "    🌳 clean",
        "    🌳 tokenize",
        "  📦 count",
    ]


def test_tty_map_bar_shows_completed_total_and_failed_count():
    """A map row shows 🗺️, items done out of the total, and how many failed."""
    frame = final_frame(
        lambda p: SyncRunner().map(
            pipeline, {"doc": ["a", "bad", "c"]}, map_over="doc",
            error_handling="continue", event_processors=[p],
        )
    )
    map_line = frame.splitlines()[0]
    assert map_line.startswith("🗺️ ingest")
    assert "3/3 ✗ 1 failed" in map_line


def test_tty_rows_under_a_map_count_their_runs_against_the_item_total():
    """A node that ran for two of three items (the third failed upstream) shows 2/3 and ✓."""
    frame = final_frame(
        lambda p: SyncRunner().map(
            pipeline, {"doc": ["a", "bad", "c"]}, map_over="doc",
            error_handling="continue", event_processors=[p],
        )
    )
    count_line = next(line for line in frame.splitlines() if "📦 count" in line)
    assert re.search(r" 2/3 ✓ ", count_line)


def test_tty_failed_node_is_marked_with_its_error_type():
    """The failing node's row and the GraphNode above it carry ✗ and the error type."""
    frame = final_frame(
        lambda p: SyncRunner().run(
            pipeline, {"doc": "bad"}, error_handling="continue", event_processors=[p]
        )
    )
    rows = {line.split("━")[0].strip(): line for line in frame.splitlines()}
    assert "✗ ValueError" in rows["🌳 clean"]
    assert "✗ ValueError" in rows["📦 preprocess"]
    assert "✗ failed" in rows["ingest"]


def test_transient_display_leaves_a_one_line_summary():
    """With ``transient=True`` the bars are erased and one summary line is printed."""
    frame = final_frame(
        lambda p: SyncRunner().run(flat, {"doc": "a"}, event_processors=[p]), transient=True
    )
    assert re.fullmatch(r"✓ flat completed in \S+ ms\n", frame)


def test_concurrent_async_map_reports_every_item():
    """Items finishing concurrently under AsyncRunner are all counted, thresholds in order."""

    @node(output_name="y")
    async def slow_double(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    lines = plain(
        lambda p: asyncio.run(
            AsyncRunner().map(
                Graph([slow_double], name="double"), {"x": list(range(40))}, map_over="x",
                event_processors=[p],
            )
        )
    )
    assert [line for line in lines if line.startswith("🗺️")] == [
        "🗺️ double: 4/40 items (10%), <rate>, ETA <t>",
        "🗺️ double: 10/40 items (25%), <rate>, ETA <t>",
        "🗺️ double: 20/40 items (50%), <rate>, ETA <t>",
        "🗺️ double: 30/40 items (75%), <rate>, ETA <t>",
        "🗺️ double: 40/40 items (100%), <rate>",
    ]


@node(output_name="waited")
async def wait_a_bit(x: int) -> int:
    await asyncio.sleep(0.05)
    return x


@node(output_name="after")
async def after_wait(waited: int) -> int:
    return waited + 1


@node(output_name="y")
async def quick(x: int) -> int:
    return x * 2


def two_runs_at_once(processor: RichProgressProcessor) -> None:
    """A slow and a fast run on one AsyncRunner, gathered, sharing ``processor``."""
    runner = AsyncRunner()

    async def both() -> None:
        await asyncio.gather(
            runner.run(Graph([wait_a_bit, after_wait], name="slow"), {"x": 1},
                       event_processors=[processor]),
            runner.run(Graph([quick], name="fast"), {"x": 1}, event_processors=[processor]),
        )

    asyncio.run(both())


def test_non_tty_concurrent_runs_sharing_a_processor_each_print_their_summary():
    """The fast run's shutdown does not wipe the slow run: both summaries are printed."""
    lines = plain(two_runs_at_once)
    assert lines.index("✓ fast completed in <t>") < lines.index("✓ slow completed in <t>")
    assert lines[-3:] == [
        "▶ slow/after_wait",
        "✓ slow/after_wait (<t>)",
        "✓ slow completed in <t>",
    ]


def test_tty_concurrent_runs_sharing_a_processor_leave_both_summaries():
    """One live display for both runs stops when the last ends; both summaries stay, in order."""
    frame = final_frame(two_runs_at_once, transient=True)
    assert re.fullmatch(r"✓ slow completed in \S+ ms\n✓ fast completed in \S+ ms\n", frame)


def flaky_graph() -> Graph:
    """``fetch`` fails twice, then succeeds (a fresh counter per graph)."""
    calls: list[int] = []

    @node(output_name="y", retry=RetryPolicy(max_attempts=3, initial_delay=0.001, jitter=False))
    def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) <= 2:
            raise ConnectionError("rate limited")
        return x

    return Graph([fetch], name="calls")


def test_non_tty_prints_a_line_per_retried_attempt():
    """Each retried attempt gets a line naming the attempt, the error and the wait."""
    lines = plain(lambda p: SyncRunner().run(flaky_graph(), {"x": 1}, event_processors=[p]))
    assert lines == [
        "▶ calls",
        "▶ calls/fetch",
        "↻ calls/fetch attempt 1/3 failed: ConnectionError: rate limited; retrying in <t>",
        "↻ calls/fetch attempt 2/3 failed: ConnectionError: rate limited; retrying in <t>",
        "✓ calls/fetch (<t>)",
        "✓ calls completed in <t>",
    ]


def test_tty_row_counts_the_retries_of_a_node():
    """The node's row shows ✓ and how many attempts were retried."""
    frame = final_frame(lambda p: SyncRunner().run(flaky_graph(), {"x": 1}, event_processors=[p]))
    fetch_line = next(line for line in frame.splitlines() if "📦 fetch" in line)
    assert "✓ (↻ 2 retries)" in fetch_line


def test_force_mode_must_be_auto_tty_or_non_tty():
    """An unknown ``force_mode`` is rejected when the processor is built."""
    with pytest.raises(ValueError, match="force_mode"):
        RichProgressProcessor(force_mode="fancy")  # type: ignore[arg-type]


def test_is_resolved_through_the_plugin_registry():
    """``hypergraph.events.RichProgressProcessor`` is core's registered implementation."""
    import hypergraph.events
    from hypergraph.events.rich_progress import RichProgressProcessor as Implementation

    assert hypergraph.events.RichProgressProcessor is Implementation


def test_without_rich_the_import_names_the_progress_extra(tmp_path: Path):
    """Where ``rich`` is not installed, importing the processor raises ``MissingPluginError``."""
    site = tmp_path / "site-packages"
    site.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith("rich"):
            (site / entry.name).symlink_to(entry)
    code = f"""
        import site, sys
        site.addsitedir({str(site)!r})
        try:
            from hypergraph.events import RichProgressProcessor
        except ImportError as error:
            print(type(error).__name__)
            print(error)
        print("rich" in sys.modules)
    """
    done = subprocess.run(
        [sys.executable, "-S", "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.stdout.splitlines() == [
        "MissingPluginError",
        "RichProgressProcessor is provided by 'rich', which is not installed. Install it with "
        '`pip install rich` (or `pip install "hypergraph-core[progress]"`).',
        "False",
    ], done.stderr


def test_non_tty_runs_in_two_threads_sharing_a_processor_each_print_their_summary():
    """A run ending in the main thread leaves the other thread's run on the display."""
    import threading

    started, release = threading.Event(), threading.Event()

    @node(output_name="held")
    def hold(doc: str) -> str:
        started.set()
        assert release.wait(timeout=10)
        return doc

    def both(processor: RichProgressProcessor) -> None:
        worker = threading.Thread(
            target=SyncRunner().run,
            args=(Graph([hold], name="held"), {"doc": "a"}),
            kwargs={"event_processors": [processor]},
        )
        worker.start()
        assert started.wait(timeout=10)
        SyncRunner().run(flat, {"doc": "A b"}, event_processors=[processor])
        release.set()
        worker.join(timeout=10)
        assert not worker.is_alive()

    lines = plain(both)
    assert lines.index("✓ flat completed in <t>") < lines.index("✓ held completed in <t>")
    assert lines[-2:] == ["✓ held/hold (<t>)", "✓ held completed in <t>"]


def test_shutdown_run_of_an_unknown_run_leaves_a_going_run_alone():
    """A ``shutdown_run`` for a run the processor never saw start does not end another's row."""
    from hypergraph.events import RunEndEvent, RunStartEvent

    buffer = io.StringIO()
    processor = RichProgressProcessor(force_mode="non-tty", console=Console(file=buffer, width=200))
    processor.on_event(RunStartEvent(run_id="a", span_id="sa", timestamp=1.0, graph_name="going"))
    processor.shutdown_run("never-started")
    processor.on_event(
        RunEndEvent(run_id="a", span_id="sa", timestamp=2.0, graph_name="going", status="completed",
                    duration_ms=1000.0)
    )
    processor.shutdown_run("a")
    assert buffer.getvalue().splitlines() == ["▶ going", "✓ going completed in 1.0s"]


def test_map_pace_is_items_per_second_and_the_time_left_at_that_rate():
    """Rate is items done over elapsed time; ETA is the remaining items at that rate."""
    from hypergraph.events.rich_progress import _pace

    assert _pace(5, 20, 2.0) == "2.5 items/s, ETA 6.0s"
    assert _pace(20, 20, 2.0) == "10.0 items/s"
    assert _pace(3_000, 4_000, 2.0) == "1,500 items/s, ETA 667 ms"
    assert _pace(0, 20, 1.0) == ""
    assert _pace(5, 20, 2.0, eta=False) == "2.5 items/s"


def test_tty_map_row_shows_its_rate():
    """The map's row carries its items per second (no ETA once it has finished)."""
    frame = final_frame(
        lambda p: SyncRunner().map(flat, {"doc": ["a", "b", "c"]}, map_over="doc",
                                   event_processors=[p])
    )
    map_line = frame.splitlines()[0]
    assert re.search(r"3/3 ✓ .* [\d,.]+ items/s$", map_line.rstrip())
    assert "ETA" not in map_line


def test_map_summary_names_the_failed_items_and_their_errors():
    """The summary lists the first failed items by index with their errors, then counts the rest."""
    docs = ["a", "bad", "b", "bad", "bad", "bad"]
    lines = plain(
        lambda p: SyncRunner().map(
            flat, {"doc": docs}, map_over="doc", error_handling="continue", event_processors=[p]
        )
    )
    assert lines[-1] == (
        "✗ flat failed after <t> (6 items: 2 ok, 4 failed: [1] ValueError: not UTF-8; "
        "[3] ValueError: not UTF-8; [4] ValueError: not UTF-8 and 1 more)"
    )


def test_transient_tty_summary_names_failed_items():
    """On a terminal the one-line summary left after the bars also names the failed items."""
    frame = final_frame(
        lambda p: SyncRunner().map(
            flat, {"doc": ["bad", "a"]}, map_over="doc", error_handling="continue",
            event_processors=[p],
        ),
        transient=True,
    )
    assert "(2 items: 1 ok, 1 failed: [0] ValueError: not UTF-8)" in frame
