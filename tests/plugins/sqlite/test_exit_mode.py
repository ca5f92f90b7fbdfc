"""``durability="exit"``: a run, its map items and nested graphs are written in one transaction
when the run ends (SPEC CP1, CP8, CP9), read back by this process before that, and a crash
leaves none of it behind."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hypergraph import AsyncRunner, Graph, SyncRunner, node
from hypergraph.checkpointers import (
    Checkpoint,
    RunRecord,
    SqliteCheckpointer,
    StepRecord,
    WorkflowStatus,
)
from hypergraph.exceptions import WorkflowForkError
from hypergraph_sqlite._schema import SCHEMA_VERSION


def runs_in_file(path: Path) -> list[tuple[str, str]]:
    """(id, status) of every run another connection sees in ``path``."""
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT id, status FROM runs").fetchall())
    finally:
        conn.close()


def steps_in_file(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM steps").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_a_map_is_written_once_when_it_ends(tmp_path: Path, runner: str) -> None:
    """Map items are committed with the map run's end: until then the file shows none of them."""
    path = tmp_path / "runs.db"
    SqliteCheckpointer(path).close()
    seen: list[list[tuple[str, str]]] = []

    @node(output_name="y")
    def double(x: int) -> int:
        seen.append(runs_in_file(path))
        return 2 * x

    @node(output_name="z")
    def inc(y: int) -> int:
        return y + 1

    graph = Graph([double, inc], name="pair")
    with SqliteCheckpointer(path, durability="exit") as cp:
        if runner == "sync":
            result = SyncRunner(checkpointer=cp).map(
                graph, {"x": [1, 2, 3, 4]}, map_over="x", workflow_id="m"
            )
        else:
            result = asyncio.run(AsyncRunner(checkpointer=cp).map(
                graph, {"x": [1, 2, 3, 4]}, map_over="x", workflow_id="m"
            ))
        assert [r["z"] for r in result] == [3, 5, 7, 9]
        assert seen == [[]] * 4
        expected = [("m", "completed")] + [(f"m/{i}", "completed") for i in range(4)]
        assert runs_in_file(path) == expected
        assert steps_in_file(path) == 8
        # items end (and are recorded) in the order they finish: AsyncRunner runs them at once
        children = sorted(cp.children("m"), key=lambda child: int(child[0].id.split("/")[1]))
        assert [(run.id, run.node_count, values) for run, values in children] == [
            (f"m/{i}", 2, {"x": x, "y": 2 * x, "z": 2 * x + 1}) for i, x in enumerate([1, 2, 3, 4])
        ]


def _map(runner: str, cp: Any, graph: Graph, values: dict[str, Any], **options: Any) -> Any:
    """``map()`` on SyncRunner or AsyncRunner, over ``x``."""
    if runner == "async":
        return asyncio.run(AsyncRunner(checkpointer=cp).map(graph, values, map_over="x", **options))
    return SyncRunner(checkpointer=cp).map(graph, values, map_over="x", **options)


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_reads_during_a_map_see_the_items_that_ended(tmp_path: Path, runner: str) -> None:
    """This process reads what it buffered: a read between items sees the ended ones (also
    on the compiled path, whose items are handed over as each ends)."""
    path = tmp_path / "runs.db"
    box: dict[str, Any] = {}
    seen: list[list[str]] = []

    @node(output_name="y")
    def look(x: int) -> int:
        cp = box["cp"]
        seen.append([f"{r.id}:{r.status.value}" for r in cp.runs(parent="m")])
        return x

    with SqliteCheckpointer(path, durability="exit") as cp:
        box["cp"] = cp
        _map(runner, cp, Graph([look], name="look"), {"x": [0, 1, 2]}, workflow_id="m")
        assert seen == [[], ["m/0:completed"], ["m/0:completed", "m/1:completed"]]
        assert [r.status for r in cp.runs()] == [WorkflowStatus.COMPLETED] * 4


class _Halt(BaseException):
    """Stops a map the way KeyboardInterrupt does (not an ``Exception``)."""


@pytest.mark.parametrize("runner", ["sync", "async"])
@pytest.mark.parametrize("stop", ["raise", "interrupt"])
def test_a_map_stopped_at_an_item_keeps_the_items_before_it(
    tmp_path: Path, runner: str, stop: str
) -> None:
    """A failure in raise mode, or an interrupt, at item 2 of 4: items 0 and 1 are written
    completed with all their steps, item 2 failed (raise) or not at all (interrupt), item 3
    never started (but on AsyncRunner in raise mode), and the map's run is failed or stopped;
    a re-run restores what completed."""
    path = tmp_path / "runs.db"
    broken = {"on": True}
    calls: list[int] = []

    @node(output_name="y")
    def double(x: int) -> int:
        calls.append(x)
        if x == 2 and broken["on"]:
            if stop == "interrupt":
                raise _Halt("halted")
            raise RuntimeError("two is broken")
        return 2 * x

    @node(output_name="z")
    def inc(y: int) -> int:
        return y + 1

    graph = Graph([double, inc], name="pair")
    expected = (RuntimeError, "two is broken") if stop == "raise" else (_Halt, "halted")
    with (
        SqliteCheckpointer(path, durability="exit") as cp,
        pytest.raises(expected[0], match=expected[1]),
    ):
        _map(runner, cp, graph, {"x": [0, 1, 2, 3]}, workflow_id="m")
    item_2 = [("m/2", "failed")] if stop == "raise" else []
    # AsyncRunner starts every item at once (no limit): a failure doesn't keep item 3 from it
    item_3 = [("m/3", "completed")] if stop == "raise" and runner == "async" else []
    top = "failed" if stop == "raise" else "stopped"
    assert runs_in_file(path) == [
        ("m", top), ("m/0", "completed"), ("m/1", "completed"), *item_2, *item_3,
    ]
    with SqliteCheckpointer(path) as cp:
        assert [s.node_name for s in cp.steps("m/1")] == ["double", "inc"]
        assert cp.values("m/1") == {"x": 1, "y": 2, "z": 3}
        if stop == "raise":
            assert cp.get_run("m/2").error == "RuntimeError: two is broken"
        broken["on"] = False
        calls.clear()
        again = _map(runner, cp, graph, {"x": [0, 1, 2, 3]}, workflow_id="m")
    assert [r["z"] for r in again] == [1, 3, 5, 7]
    assert [r.restored for r in again] == [True, True, False, bool(item_3)]
    assert calls == ([2] if item_3 else [2, 3])


class _ProtocolOnly:
    """An "exit" backend that offers only the protocols (no ``save_runs_sync``/``save_runs``,
    not a ``CheckpointerBase``): runners write its map items run by run."""

    def __init__(self, cp: SqliteCheckpointer) -> None:
        self._cp = cp
        self.creates = 0

    def __getattr__(self, name: str) -> Any:
        if name in ("save_runs_sync", "save_runs"):
            raise AttributeError(name)
        return getattr(self._cp, name)

    def create_run_sync(self, run: RunRecord) -> None:
        self.creates += 1
        self._cp.create_run_sync(run)

    async def create_run(self, run: RunRecord) -> None:
        self.creates += 1
        await self._cp.create_run(run)


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_a_backend_without_save_runs_records_the_same_items(tmp_path: Path, runner: str) -> None:
    """Compiled map items reach a protocol-only backend through its primitives (per item on
    the blocking path, once the items ran on the awaitable one) with the same records."""

    @node(output_name="y")
    def double(x: int) -> int:
        return 2 * x

    graph = Graph([double], name="double")
    found = []
    for name, wrap in (("plain", False), ("protocol", True)):
        with SqliteCheckpointer(tmp_path / f"{name}.db", durability="exit") as cp:
            target: Any = _ProtocolOnly(cp) if wrap else cp
            _map(runner, target, graph, {"x": [1, 2, 3]}, workflow_id="m")
            if wrap:
                assert target.creates == 4  # the map's run and each item's
            found.append([
                (run.id, run.status, run.inputs, run.input_signature, run.node_count, values,
                 [(s.node_name, s.values, s.input_versions) for s in cp.steps(run.id)])
                for run, values in cp.children("m")
            ])
    assert found[0] == found[1]
    assert [row[0] for row in found[0]] == ["m/0", "m/1", "m/2"]


def test_a_huge_map_writes_its_items_in_batches(tmp_path: Path, monkeypatch: Any) -> None:
    """Memory stays bounded: once the buffer holds ``_MAX_BUFFERED`` operations, the next item
    that ends writes what is buffered (whole items only), and the map's end writes the rest."""
    from hypergraph_sqlite import checkpointer as module

    monkeypatch.setattr(module, "_MAX_BUFFERED", 8)
    path = tmp_path / "runs.db"
    SqliteCheckpointer(path).close()
    seen: list[int] = []

    @node(output_name="y")
    def count(x: int) -> int:
        seen.append(len(runs_in_file(path)))
        return x

    with SqliteCheckpointer(path, durability="exit") as cp:
        SyncRunner(checkpointer=cp).map(
            Graph([count], name="count"), {"x": list(range(12))}, map_over="x", workflow_id="m"
        )
    assert seen[0] == 0 and 0 < max(seen) < 13
    statuses = dict(runs_in_file(path))
    assert statuses == {"m": "completed", **{f"m/{i}": "completed" for i in range(12)}}
    assert steps_in_file(path) == 12


def test_a_re_run_of_an_exit_mode_map_restores_every_item(tmp_path: Path) -> None:
    """CP8 with durability="exit": the map's one write holds every item, so a re-run restores
    them all, and the items that failed run again."""
    path = tmp_path / "runs.db"
    calls: list[int] = []
    broken = {"on": True}

    @node(output_name="y")
    def fragile(x: int) -> int:
        calls.append(x)
        if x == 2 and broken["on"]:
            raise RuntimeError("two is broken")
        return x * 10

    graph = Graph([fragile], name="fragile")
    with SqliteCheckpointer(path, durability="exit") as cp:
        first = SyncRunner(checkpointer=cp).map(
            graph, {"x": [1, 2, 3]}, map_over="x", workflow_id="m", error_handling="continue"
        )
        assert [r.status.value for r in first] == ["completed", "failed", "completed"]
    assert runs_in_file(path) == [
        ("m", "failed"), ("m/0", "completed"), ("m/1", "failed"), ("m/2", "completed"),
    ]
    broken["on"] = False
    calls.clear()
    with SqliteCheckpointer(path, durability="exit") as cp:
        again = SyncRunner(checkpointer=cp).map(graph, {"x": [1, 2, 3]}, map_over="x",
                                                workflow_id="m")
        assert [r["y"] for r in again] == [10, 20, 30]
        assert [r.restored for r in again] == [True, False, True]
        assert calls == [2]
    assert runs_in_file(path) == [
        ("m", "completed"), ("m/0", "completed"), ("m/1", "completed"), ("m/2", "completed"),
    ]


def test_a_nested_graph_is_written_with_its_parent(tmp_path: Path) -> None:
    """CP9 with durability="exit": the child run <parent>/<node> is committed with the parent."""
    path = tmp_path / "runs.db"
    SqliteCheckpointer(path).close()
    seen: list[list[tuple[str, str]]] = []

    @node(output_name="b")
    def inner_step(a: int) -> int:
        return a + 1

    @node(output_name="c")
    def after(b: int) -> int:
        seen.append(runs_in_file(path))
        return b * 2

    inner = Graph([inner_step], name="inner")
    outer = Graph([inner.as_node(name="sub"), after], name="outer")
    with SqliteCheckpointer(path, durability="exit") as cp:
        assert SyncRunner(checkpointer=cp).run(outer, {"a": 1}, workflow_id="o")["c"] == 4
        assert seen == [[]]
        assert runs_in_file(path) == [("o", "completed"), ("o/sub", "completed")]
        assert [s.node_name for s in cp.steps("o/sub")] == ["inner_step"]
        assert [s.node_name for s in cp.steps("o")] == ["sub", "after"]


def test_a_pause_inside_a_nested_graph_is_written_with_its_parent_and_resumes(
    tmp_path: Path,
) -> None:
    """An interrupt in a nested graph pauses both runs in one write; another checkpointer on
    the file resumes them with the answer."""
    from hypergraph import interrupt

    @node(output_name="draft")
    def make_draft(query: str) -> str:
        return f"Draft: {query}"

    @interrupt(output_name="decision")
    def approval(draft: str) -> None:
        return None

    @node(output_name="final")
    def finalize(decision: str) -> str:
        return f"final:{decision}"

    inner = Graph([make_draft, approval], name="inner")
    outer = Graph([inner.as_node(name="review"), finalize], name="outer")
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path, durability="exit") as cp:
        paused = asyncio.run(AsyncRunner(checkpointer=cp).run(outer, {"query": "hi"},
                                                              workflow_id="o"))
        assert paused.pause is not None
        assert runs_in_file(path) == [("o", "paused"), ("o/review", "paused")]
    with SqliteCheckpointer(path, durability="exit") as cp:
        done = asyncio.run(AsyncRunner(checkpointer=cp).run(
            outer, {"query": "hi", paused.pause.response_key: "yes"}, workflow_id="o"
        ))
        assert done["final"] == "final:yes"
    assert runs_in_file(path) == [("o", "completed"), ("o/review", "completed")]


def test_a_child_recorded_meanwhile_fails_the_whole_write(tmp_path: Path) -> None:
    """A child id another connection recorded after this one created the parent: the parent's
    write fails with WorkflowForkError and none of it reaches the file."""
    path = tmp_path / "runs.db"
    late = SqliteCheckpointer(path, durability="exit")
    late.create_run_sync(RunRecord("p"))
    with SqliteCheckpointer(path) as other:
        other.create_run_sync(RunRecord("p/0", parent_run_id="p"))
    late.create_run_sync(RunRecord("p/0", parent_run_id="p"))  # no lookup: p is new here
    late.create_run_sync(RunRecord("p/1", parent_run_id="p"))
    late.update_run_status_sync("p/0", WorkflowStatus.COMPLETED)
    late.update_run_status_sync("p/1", WorkflowStatus.COMPLETED)
    assert runs_in_file(path) == [("p/0", "active")]
    with pytest.raises(WorkflowForkError, match="recorded meanwhile"):
        late.update_run_status_sync("p", WorkflowStatus.COMPLETED)
    assert runs_in_file(path) == [("p/0", "active")]
    late._buffer.clear()  # what it could not write: dropped, so closing doesn't retry it
    late._pending_checkpoints.clear()
    late.close()


def test_a_child_of_a_parent_ended_elsewhere_is_written_when_it_ends(tmp_path: Path) -> None:
    """Only a parent still open here holds a child's write: a child created without its
    parent being created or resumed here is committed when it ends."""
    path = tmp_path / "runs.db"
    with SqliteCheckpointer(path) as first:
        first.create_run_sync(RunRecord("p"))
    with SqliteCheckpointer(path, durability="exit") as cp:
        cp.create_run_sync(RunRecord("p/0", parent_run_id="p"))
        cp.update_run_status_sync("p/0", WorkflowStatus.COMPLETED)
        assert runs_in_file(path) == [("p", "active"), ("p/0", "completed")]
        cp.update_run_status_sync("p", WorkflowStatus.ACTIVE)  # resumed here: now it holds
        cp.create_run_sync(RunRecord("p/1", parent_run_id="p"))
        cp.update_run_status_sync("p/1", WorkflowStatus.FAILED, error="boom")
        assert runs_in_file(path) == [("p", "active"), ("p/0", "completed")]
        cp.update_run_status_sync("p", WorkflowStatus.FAILED, error="an item failed")
        assert runs_in_file(path) == [("p", "failed"), ("p/0", "completed"), ("p/1", "failed")]
        assert cp.get_run("p/1").error == "boom"


_KILLED_MAP = textwrap.dedent(
    """
    import sys
    from hypergraph import Graph, SyncRunner, node
    from hypergraph.checkpointers import SqliteCheckpointer

    @node(output_name="y")
    def step(x: int) -> int:
        print(x, flush=True)
        return x + 1

    with SqliteCheckpointer(sys.argv[1], durability="exit") as cp:
        SyncRunner(checkpointer=cp).map(
            Graph([step], name="step"), {"x": list(range(100_000))}, map_over="x",
            workflow_id="victim",
        )
    """
)


def test_sigkill_mid_map_in_exit_mode_leaves_no_trace(tmp_path: Path) -> None:
    """A process killed during an exit-mode map leaves neither the map run nor any item."""
    path = tmp_path / "killed.db"
    SqliteCheckpointer(path).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_MAP, str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if int(line) == 200:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert runs_in_file(path) == []
    assert steps_in_file(path) == 0
    with SqliteCheckpointer(path) as cp:
        assert cp.runs() == []


# -- schema 3: checkpoints as a rowid table ------------------------------------------------

_V2_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, graph_name TEXT, inputs TEXT NOT NULL,
    parent_run_id TEXT, forked_from TEXT, fork_superstep INTEGER, retry_of TEXT,
    retry_index INTEGER, graph_struct_hash TEXT, graph_code_hash TEXT, input_signature TEXT,
    config TEXT NOT NULL, created_at REAL NOT NULL, completed_at REAL, duration_ms REAL,
    node_count INTEGER NOT NULL DEFAULT 0, error_count INTEGER NOT NULL DEFAULT 0, error TEXT
);
CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX runs_by_fork ON runs (forked_from) WHERE forked_from IS NOT NULL;
CREATE INDEX runs_by_retry ON runs (retry_of) WHERE retry_of IS NOT NULL;
CREATE TABLE steps (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, superstep INTEGER NOT NULL,
    node_name TEXT NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,
    input_versions TEXT NOT NULL, outputs TEXT NOT NULL, duration_ms REAL NOT NULL,
    cached INTEGER NOT NULL, decision TEXT, error TEXT, created_at REAL NOT NULL,
    completed_at REAL, child_run_id TEXT, state TEXT, PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
    run_id TEXT NOT NULL, superstep INTEGER NOT NULL, delta TEXT NOT NULL,
    state TEXT NOT NULL, PRIMARY KEY (run_id, superstep)
) WITHOUT ROWID;
"""


def _as_version_2(source: Path, target: Path) -> None:
    """``target``: a schema-2 file (its tables as hypergraph-sqlite 0.x wrote them, WITHOUT
    ROWID checkpoints) holding every row of ``source``."""
    from hypergraph_sqlite._schema import APPLICATION_ID

    conn = sqlite3.connect(target)
    conn.executescript(_V2_SCHEMA)
    conn.execute("ATTACH DATABASE ? AS src", (str(source),))
    for table in ("runs", "steps", "checkpoints"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
    conn.commit()
    conn.execute("DETACH DATABASE src")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


def _checkpoints_sql(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'checkpoints'"
        ).fetchone()[0])
    finally:
        conn.close()


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_new_stores_keep_checkpoints_in_a_rowid_table(tmp_path: Path) -> None:
    """Schema 3: a new file's ``checkpoints`` table is a rowid table, keyed (run, superstep)."""
    path = tmp_path / "runs.db"
    SqliteCheckpointer(path).close()
    assert _version(path) == SCHEMA_VERSION
    sql = _checkpoints_sql(path)
    assert "WITHOUT ROWID" not in sql.upper() and "PRIMARY KEY (run_id, superstep)" in sql


def test_a_version_2_file_is_migrated_keeping_every_record(tmp_path: Path, fixable: Any) -> None:
    """A schema-2 file is rebuilt as schema 3 on open; runs, steps, checkpoints read the same,
    readonly opens read it before the migration, and its failed run resumes after it."""
    graph, ran = fixable.graph, fixable.ran
    made = tmp_path / "made.db"
    with SqliteCheckpointer(made) as cp:  # a checkpoint per superstep, on its step's row
        SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf",
                                        error_handling="continue")
    with SqliteCheckpointer(made, durability="exit") as cp:  # in the checkpoints table
        SyncRunner(checkpointer=cp).map(graph, {"a": [5, 6]}, map_over="a", workflow_id="m",
                                        error_handling="continue")
        expected = {
            run.id: (run, cp.steps(run.id), cp.checkpoint(run.id)) for run in cp.runs()
        }
        expected_children = cp.children("m")
    old = tmp_path / "v2.db"
    _as_version_2(made, old)
    assert "WITHOUT ROWID" in _checkpoints_sql(old).upper()

    with SqliteCheckpointer(old, readonly=True) as reader:  # reads version 2 as it is
        assert {run.id for run in reader.runs()} == set(expected)
        assert reader.checkpoint("wf") == expected["wf"][2]
    assert _version(old) == 2

    with SqliteCheckpointer(old) as cp:
        assert _version(old) == SCHEMA_VERSION
        assert "WITHOUT ROWID" not in _checkpoints_sql(old).upper()
        assert cp.children("m") == expected_children
        for run_id, (run, steps, checkpoint) in expected.items():
            assert cp.get_run(run_id) == run
            assert cp.steps(run_id) == steps
            assert cp.checkpoint(run_id) == checkpoint
            if checkpoint.superstep is not None:
                assert cp.checkpoint(run_id, superstep=0) == expected_first(made, run_id)
        fixable.broken = False
        ran.clear()
        result = SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf")
        assert result["c"] == 20 and ran == ["second"]


def expected_first(path: Path, run_id: str) -> Any:
    """The checkpoint after superstep 0 of ``run_id`` as the schema-3 file ``path`` reads it."""
    with SqliteCheckpointer(path, readonly=True) as reader:
        return reader.checkpoint(run_id, superstep=0)


def test_two_processes_opening_a_version_2_file_migrate_it_once(tmp_path: Path) -> None:
    """Opens racing on a schema-2 file: both succeed and the file holds one checkpoints table
    with every row."""
    made = tmp_path / "made.db"
    with SqliteCheckpointer(made, durability="exit") as cp:
        for r in range(20):
            cp.create_run_sync(RunRecord(f"r{r}"))
            cp.save_superstep_sync(
                f"r{r}", [StepRecord(f"r{r}", 0, "n", 0, values={"v": r})],
                Checkpoint(f"r{r}", 0, {"v": r}, {"superstep": 0}),
            )
            cp.update_run_status_sync(f"r{r}", WorkflowStatus.COMPLETED)
    old = tmp_path / "v2.db"
    _as_version_2(made, old)
    script = textwrap.dedent(
        """
        import sys
        from hypergraph.checkpointers import SqliteCheckpointer
        with SqliteCheckpointer(sys.argv[1]) as cp:
            print(sum(cp.checkpoint(run.id).values["v"] for run in cp.runs()))
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(old)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outs
    assert [out.strip() for out, _ in outs] == [str(sum(range(20)))] * 3
    assert _version(old) == SCHEMA_VERSION
    conn = sqlite3.connect(old)
    try:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    finally:
        conn.close()
    assert sorted(names) == ["checkpoints", "runs", "steps"]


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_a_map_item_that_cant_be_stored_leaves_nothing_half_written(
    tmp_path: Path, runner: str
) -> None:
    """An item whose output JSON can't hold fails the map with the error naming the node,
    the output and the item's run; the items before it are kept whole, and the failing item
    leaves no record behind (not even an empty active one)."""
    from hypergraph.exceptions import CheckpointSerializationError

    @node(output_name="y")
    def shape(x: int) -> object:
        return object() if x == 2 else x

    path = tmp_path / "runs.db"
    with (
        SqliteCheckpointer(path, durability="exit") as cp,
        pytest.raises(CheckpointSerializationError, match=r"'y' of node 'shape' in run 'm/2'"),
    ):
        _map(runner, cp, Graph([shape], name="shape"), {"x": [0, 1, 2, 3]}, workflow_id="m")
    assert runs_in_file(path) == [("m", "failed"), ("m/0", "completed"), ("m/1", "completed")]
    assert steps_in_file(path) == 2
