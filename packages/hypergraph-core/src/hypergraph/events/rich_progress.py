"""``RichProgressProcessor``: live, nested progress for runs and maps, drawn with Rich (EV11).

Needs the ``progress`` extra (``pip install "hypergraph-core[progress]"``); users import it from
``hypergraph.events``, which resolves it through the plugin registry and turns a missing ``rich``
into a ``MissingPluginError`` with that install command.

The display is a tree built from span parentage alone: a row per top-level run, map and node
name. Map items and nested runs get no row of their own; their nodes are counted on the rows of
the map or of the GraphNode that runs them, so a map of 10,000 items still draws a few lines.
It never changes execution and holds no reference to graphs or values.
"""

from __future__ import annotations

import threading
import time
from typing import Literal

from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from hypergraph.events.processor import EventProcessor
from hypergraph.events.types import (
    BaseEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeRetryEvent,
    NodeStartEvent,
    RunEndEvent,
    RunStartEvent,
)
from hypergraph.results import RunStatus

__all__ = ["RichProgressProcessor"]

ForceMode = Literal["auto", "tty", "non-tty"]

#: Non-TTY output reports a map's progress only when it crosses one of these percentages.
MAP_THRESHOLDS = (10, 25, 50, 75, 100)

MAP_ICON = "🗺️"
TOP_NODE_ICON = "📦"
NESTED_NODE_ICON = "🌳"
UNNAMED_GRAPH = "graph"
BAR_WIDTH = 30
#: a map's summary names at most this many failed items (with their errors), then counts the rest
SHOWN_FAILED_ITEMS = 3


class _Row:
    """One line of the display: a top-level run, a map, or a node name under its parent row."""

    __slots__ = (
        "cached",
        "children",
        "depth",
        "done",
        "end",
        "error",
        "failed",
        "failed_items",
        "kind",
        "map_row",
        "name",
        "next_threshold",
        "parent",
        "retries",
        "running",
        "start",
        "started",
        "status",
        "total",
    )

    def __init__(self, name: str, kind: str, parent: _Row | None, start: float) -> None:
        self.name = name
        self.kind = kind  # "graph" (a top-level run), "map" or "node"
        self.parent = parent
        self.depth: int = 0 if parent is None else parent.depth + 1
        self.children: dict[str, _Row] = {}
        # the nearest map this row's work is part of: its item count is this row's expected total
        self.map_row: _Row | None = None
        if parent is not None:
            self.map_row = parent if parent.kind == "map" else parent.map_row
        self.total = 0  # maps: items announced so far
        self.started = 0
        self.done = 0  # finished, successfully or not
        self.failed = 0
        # maps: (item index, error) of the first SHOWN_FAILED_ITEMS items that failed
        self.failed_items: list[tuple[int, str | None]] = []
        self.cached = 0
        self.retries = 0  # failed attempts that were retried (inside node executions)
        self.running = 0
        self.start = start
        self.end: float | None = None
        self.error: str | None = None
        self.status: RunStatus | None = None  # set when a top-level run or map ends
        self.next_threshold = 0

    def child(self, name: str, kind: str, start: float) -> _Row:
        key = f"{kind}:{name}"
        row = self.children.get(key)
        if row is None:
            row = self.children[key] = _Row(name, kind, self, start)
        return row

    def root(self) -> _Row:
        row = self
        while row.parent is not None:
            row = row.parent
        return row

    def expected(self) -> int:
        """How many times this row's work is expected to finish (grows past it in cycles)."""
        if self.kind == "map":
            return self.total
        if self.map_row is None:
            return max(self.started, 1)
        return max(self.map_row.expected(), self.started)


class _SpanRef:
    """What a hypergraph span id stands for in the display."""

    __slots__ = ("items", "kind", "row")

    def __init__(self, row: _Row, kind: str, items: tuple[tuple[_Row, int], ...]) -> None:
        self.row = row
        self.kind = kind  # "root", "map", "item", "run" (nested) or "node"
        self.items = items  # (map row, item index) for every map item this span is inside


class RichProgressProcessor(EventProcessor):
    """Live progress bars for runs, nodes and maps; plain log lines when not on a terminal.

    On a terminal (or ``force_mode="tty"``) it draws one bar per top-level run, map and node,
    indented by nesting depth: 🗺️ a map (items done/total and a failed count), 📦 a node of the
    top-level graph, 🌳 a node of a nested graph; failed nodes are marked ✗ and retried
    attempts are counted (↻). With ``transient=True`` the bars disappear when the run ends and
    a one-line summary stays.

    Otherwise (or ``force_mode="non-tty"``) it prints a line when a node starts, ends, fails or
    retries a failed attempt, and a map's progress only when it crosses 10, 25, 50, 75 and
    100 %. Nodes inside map items report only failures, so a large map stays readable in CI
    logs.

    ``console`` defaults to a Rich console on stderr. Safe to use from several threads, and to
    share between top-level runs going on at the same time (``asyncio.gather`` of two runs, or
    runs in two threads): each gets its own row, keyed by its run id, and the display stops when
    the last one ends.
    """

    def __init__(
        self,
        *,
        transient: bool = True,
        force_mode: ForceMode = "auto",
        console: Console | None = None,
    ) -> None:
        if force_mode not in ("auto", "tty", "non-tty"):
            raise ValueError(f"force_mode must be 'auto', 'tty' or 'non-tty', got {force_mode!r}")
        self._console = console if console is not None else Console(stderr=True)
        if force_mode == "auto":
            self._tty = self._console.is_terminal and not self._console.is_dumb_terminal
        else:
            self._tty = force_mode == "tty"
        self._transient = transient
        # _state_lock guards the rows and span map; _live_lock serialises starting and stopping
        # the Live display. Order: _live_lock, then _state_lock; Live's refresh thread takes only
        # _state_lock (in _render), so the two never wait on each other in a cycle.
        self._state_lock = threading.RLock()
        self._live_lock = threading.Lock()
        self._spans: dict[str, _SpanRef] = {}
        self._roots: list[_Row] = []
        self._live: Live | None = None
        # top-level runs whose ``shutdown_run`` has not come yet, by run id
        self._runs: dict[str, _Row] = {}

    # -- events ---------------------------------------------------------------------------------

    def on_run_start(self, event: RunStartEvent) -> None:
        name = event.graph_name or UNNAMED_GRAPH
        with self._state_lock:
            parent = self._spans.get(event.parent_span_id or "")
            if parent is None:
                row = _Row(name, "map" if event.is_map else "graph", None, event.timestamp)
                row.total = event.map_size or 0
                row.running = 1
                self._roots.append(row)
                self._runs[event.run_id] = row
                self._spans[event.span_id] = _SpanRef(row, "root", ())
                if not self._tty:
                    suffix = f" (map over {event.map_size} items)" if event.is_map else ""
                    self._line(f"▶ {name}{suffix}")
            elif event.is_map:
                row = parent.row.child(name, "map", event.timestamp)
                row.total += event.map_size or 0
                row.running += 1
                self._spans[event.span_id] = _SpanRef(row, "map", parent.items)
            elif parent.kind in ("root", "map") and parent.row.kind == "map":
                index = event.item_index if event.item_index is not None else -1
                items = (*parent.items, (parent.row, index))
                self._spans[event.span_id] = _SpanRef(parent.row, "item", items)
            else:
                # a nested graph: its nodes hang under the GraphNode's row
                self._spans[event.span_id] = _SpanRef(parent.row, "run", parent.items)
        if parent is None and self._tty:
            self._update_live()

    def on_run_end(self, event: RunEndEvent) -> None:
        with self._state_lock:
            ref = self._spans.pop(event.span_id, None)
            if ref is None:
                return
            row = ref.row
            failed = RunStatus(event.status) == RunStatus.FAILED
            if ref.kind in ("root", "map"):
                row.running -= 1
                row.end = event.timestamp
                if ref.kind == "root":
                    row.status = RunStatus(event.status)
                    row.error = event.error
                    if not self._tty:
                        self._line(self._summary(row))
            elif ref.kind == "item":
                row.done += 1
                row.failed += failed
                if failed and len(row.failed_items) < SHOWN_FAILED_ITEMS:
                    row.failed_items.append((ref.items[-1][1], event.error))
                row.end = event.timestamp
                if not self._tty:
                    self._report_map_progress(row, ref.items[:-1])
            is_root = ref.kind == "root"
        if is_root and self._tty:
            self._update_live()

    def on_node_start(self, event: NodeStartEvent) -> None:
        with self._state_lock:
            parent = self._spans.get(event.parent_span_id or "")
            if parent is None:
                return
            row = parent.row.child(event.node_name, "node", event.timestamp)
            row.started += 1
            row.running += 1
            self._spans[event.span_id] = _SpanRef(row, "node", parent.items)
            if not self._tty and not parent.items:
                self._line(f"▶ {self._path(row, parent.items)}")

    def on_node_end(self, event: NodeEndEvent) -> None:
        with self._state_lock:
            ref = self._end_node(event)
            if ref is None:
                return
            ref.row.cached += event.cached
            if not self._tty and not ref.items:
                cached = ", cached" if event.cached else ""
                path = self._path(ref.row, ref.items)
                self._line(f"✓ {path} ({_duration(event.duration_ms)}{cached})")

    def on_node_retry(self, event: NodeRetryEvent) -> None:
        with self._state_lock:
            ref = self._spans.get(event.span_id)
            if ref is None:
                return
            ref.row.retries += 1
            if not self._tty and not ref.items:  # map items stay quiet, as for their successes
                self._line(
                    f"↻ {self._path(ref.row, ref.items)} attempt {event.attempt}/"
                    f"{event.max_attempts} failed: {event.error}; retrying in "
                    f"{_duration(event.delay_s * 1000)}"
                )

    def on_node_error(self, event: NodeErrorEvent) -> None:
        with self._state_lock:
            ref = self._end_node(event)
            if ref is None:
                return
            ref.row.failed += 1
            ref.row.error = event.error_type
            if not self._tty:
                self._line(f"✗ {self._path(ref.row, ref.items)} failed: {event.error}")

    def shutdown_run(self, run_id: str) -> None:
        """The top-level run or map ``run_id`` ended: forget it; called once per top-level call.

        A run that never reported its end (``KeyboardInterrupt``, cancellation) loses its row.
        Other runs still going keep theirs. Once no top-level run is going, the live display
        stops (normally it already did when the last run ended; this also restores the terminal
        after an interrupted run) and every run is forgotten.
        """
        with self._state_lock:
            row = self._runs.pop(run_id, None)
        self._finish(row)

    def shutdown(self) -> None:
        """Stop the display and forget every run, going or not (runners call ``shutdown_run``)."""
        self._finish(None, everything=True)

    def _finish(self, row: _Row | None, *, everything: bool = False) -> None:
        with self._live_lock:
            with self._state_lock:
                going = [r for r in self._roots if r.status is None and r is not row]
                if going and not everything:
                    # other runs are going: forget only this one (a finished run's row stays on
                    # the display until they end)
                    if row is not None and (row.status is None or not self._tty):
                        self._forget([row])
                    return
                live, self._live = self._live, None
                ended = list(self._roots)
            if live is not None:
                live.stop()  # not under _state_lock: the refresh thread takes it to draw
                if self._transient:
                    for root in ended:
                        if root.status is not None:  # not an interrupted run
                            self._line(self._summary(root))
            with self._state_lock:
                if not everything and any(
                    root.status is None and root is not row for root in self._roots
                ):
                    self._forget(ended)  # a run started meanwhile: keep it
                else:
                    self._roots = []
                    self._spans.clear()
                    self._runs.clear()

    # -- bookkeeping ----------------------------------------------------------------------------

    def _forget(self, rows: list[_Row]) -> None:
        """Drop top-level ``rows``, their spans and their pending shutdowns (under _state_lock)."""
        gone = {id(row) for row in rows}
        self._roots = [root for root in self._roots if id(root) not in gone]
        for span_id in [k for k, ref in self._spans.items() if id(ref.row.root()) in gone]:
            del self._spans[span_id]
        for run_id in [k for k, row in self._runs.items() if id(row) in gone]:
            del self._runs[run_id]

    def _end_node(self, event: BaseEvent) -> _SpanRef | None:
        ref = self._spans.pop(event.span_id, None)
        if ref is not None:
            ref.row.running -= 1
            ref.row.done += 1
            ref.row.end = event.timestamp
        return ref

    def _update_live(self) -> None:
        """Start the live display when a top-level run begins; stop it when none is left."""
        with self._live_lock:
            with self._state_lock:
                active = any(row.status is None for row in self._roots)
                finished = [row for row in self._roots if row.status is not None]
            if active and self._live is None:
                self._live = Live(
                    console=self._console,
                    get_renderable=self._render,
                    transient=self._transient,
                    refresh_per_second=10,
                )
                self._live.start()
            elif not active and self._live is not None:
                live, self._live = self._live, None
                live.stop()  # draws the final frame, so the finished rows must still be there
                if self._transient:
                    for row in finished:
                        self._line(self._summary(row))
            if not active:
                with self._state_lock:
                    self._roots = [row for row in self._roots if row not in finished]

    def _report_map_progress(self, row: _Row, items: tuple[tuple[_Row, int], ...]) -> None:
        """Print a map's progress when it crosses the next threshold (non-TTY)."""
        if row.map_row is not None or not row.total:
            return  # a map inside another map's items: the outer map reports
        percent = row.done * 100 / row.total
        crossed = False
        while row.next_threshold < len(MAP_THRESHOLDS) and percent >= MAP_THRESHOLDS[
            row.next_threshold
        ]:
            row.next_threshold += 1
            crossed = True
        if crossed:
            failed = f", {row.failed} failed" if row.failed else ""
            pace = _pace(row.done, row.total, (row.end or row.start) - row.start)
            self._line(
                f"{MAP_ICON} {self._path(row, items)}: {row.done}/{row.total} items "
                f"({int(percent)}%){failed}{', ' + pace if pace else ''}"
            )

    def _line(self, text: str) -> None:
        self._console.print(Text(text), soft_wrap=True, highlight=False)

    @staticmethod
    def _path(row: _Row, items: tuple[tuple[_Row, int], ...]) -> str:
        indexes = {id(map_row): index for map_row, index in items}
        parts: list[str] = []
        current: _Row | None = row
        while current is not None:
            index = indexes.get(id(current))
            parts.append(current.name if index is None else f"{current.name}[{index}]")
            current = current.parent
        return "/".join(reversed(parts))

    @staticmethod
    def _summary(row: _Row) -> str:
        took = _duration(((row.end or row.start) - row.start) * 1000)
        items = ""
        if row.kind == "map":
            ok = row.done - row.failed
            items = f" ({row.total} items: {ok} ok, {row.failed} failed{_failed_items(row)})"
        if row.status == RunStatus.COMPLETED:
            return f"✓ {row.name} completed in {took}{items}"
        if row.status == RunStatus.PAUSED:
            return f"⏸ {row.name} paused after {took}{items}"
        error = f": {row.error}" if row.error and not row.failed_items else ""
        return f"✗ {row.name} failed after {took}{items}{error}"

    # -- drawing --------------------------------------------------------------------------------

    def _render(self) -> RenderableType:
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, overflow="ellipsis")
        table.add_column(width=BAR_WIDTH, no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(no_wrap=True)  # maps: items per second and time left
        now = time.time()
        with self._state_lock:
            for root in self._roots:
                self._add_rows(table, root, now)
        return table

    def _add_rows(self, table: Table, row: _Row, now: float) -> None:
        table.add_row(*self._cells(row, now))
        for child in list(row.children.values()):
            self._add_rows(table, child, now)

    def _cells(self, row: _Row, now: float) -> tuple[RenderableType, ...]:
        root = row.root()
        paused = root.status == RunStatus.PAUSED
        failed = row.failed > 0 or (row.parent is None and root.status == RunStatus.FAILED)
        running = row.running > 0 and not paused

        if row.kind == "map":
            icon = MAP_ICON
        elif row.kind == "node":
            icon = TOP_NODE_ICON if row.depth == 1 else NESTED_NODE_ICON
        else:
            icon = ""
        name_style = "bold red" if failed else ("bold" if row.parent is None else "")
        label = Text("  " * row.depth)
        if icon:
            label.append(icon + " ")
        label.append(row.name, style=name_style)

        if row.kind == "graph":
            bar = ProgressBar(total=None if running else 1, completed=0 if running else 1,
                              pulse=running, width=BAR_WIDTH)
            counts = Text("")
        else:
            expected = row.expected()
            indeterminate = running and row.map_row is None and row.kind == "node"
            bar = ProgressBar(total=None if indeterminate else expected, completed=row.done,
                              pulse=indeterminate, width=BAR_WIDTH)
            counts = Text(f"{row.done}/{expected}")
        if failed:
            bar.complete_style = bar.finished_style = "red"

        if paused and row.running > 0:
            status = Text("⏸ paused", style="yellow")
        elif row.failed and (row.kind == "map" or row.map_row is not None):
            status = Text(f"✗ {row.failed} failed", style="red")
        elif row.failed:
            status = Text(f"✗ {row.error or 'failed'}", style="red")
        elif failed:
            status = Text("✗ failed", style="red")  # the summary line carries the error
        elif running:
            status = Text("running", style="cyan")
        elif row.map_row is not None and root.status is None:
            status = Text("")  # between items of a map still running: not done yet
        else:
            status = Text("✓", style="green")
        if row.cached:
            status.append(f" ({row.cached} cached)", style="dim")
        if row.retries:
            plural = "retry" if row.retries == 1 else "retries"
            status.append(f" (↻ {row.retries} {plural})", style="yellow")

        end = now if running or row.end is None else row.end
        elapsed = Text(_duration((end - row.start) * 1000), style="dim")
        pace = Text("")
        if row.kind == "map":
            pace = Text(_pace(row.done, row.total, end - row.start, eta=running), style="dim")
        return label, bar, counts, status, elapsed, pace


def _pace(done: int, total: int, elapsed_s: float, *, eta: bool = True) -> str:
    """``"12.5 items/s, ETA 3.2s"`` from items done so far; ``""`` before the first one ends."""
    if done <= 0 or elapsed_s <= 0:
        return ""
    rate = done / elapsed_s
    text = f"{rate:.1f} items/s" if rate < 100 else f"{rate:,.0f} items/s"
    if eta and total > done:
        text += f", ETA {_duration((total - done) / rate * 1000)}"
    return text


def _failed_items(row: _Row) -> str:
    """``": [2] ValueError: bad; [7] KeyError: 'x' and 3 more"`` for a map's summary."""
    if not row.failed_items:
        return ""
    shown = "; ".join(
        f"[{index}] {error}" if error else f"[{index}]" for index, error in row.failed_items
    )
    more = row.failed - len(row.failed_items)
    return f": {shown}" + (f" and {more} more" if more > 0 else "")


def _duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms" if ms >= 1 else f"{ms:.2f} ms"
    return f"{ms / 1000:.1f}s"
