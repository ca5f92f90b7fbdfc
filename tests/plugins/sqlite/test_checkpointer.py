"""SqliteCheckpointer: durability modes, serializer rules, damaged files, concurrent processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

import attrs
import pytest

from hypergraph.checkpointers import (
    Checkpoint,
    InMemoryCheckpointer,
    RunRecord,
    SqliteCheckpointer,
    StepRecord,
    WorkflowStatus,
)
from hypergraph.checkpointers.values import UnreadableValue
from hypergraph.exceptions import (
    CheckpointError,
    CheckpointSerializationError,
    CheckpointStoreError,
    WorkflowForkError,
)
from hypergraph_sqlite._schema import APPLICATION_ID, SCHEMA_VERSION

MODES = ["sync", "async", "exit"]


class Opaque:
    """A plain class: no attrs, no dataclass, so JSON has no form for it (but pickle has)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.n == self.n

    def __hash__(self) -> int:
        return hash(self.n)


@attrs.frozen
class Loose:
    """An attrs class with an untyped field: cattrs passes a tuple through, JSON makes it a list."""

    items: Any


def superstep(cp: Any, run_id: str, number: int, node: str, values: dict[str, Any]) -> None:
    """Save one superstep with one step writing ``values``."""
    cp.save_superstep_sync(
        run_id,
        (StepRecord(run_id, number, node, number, values=values),),
        Checkpoint(run_id, number, dict(values), {"superstep": number}),
    )


def fill(path: Path, runs: int = 1, supersteps: int = 50) -> None:
    """A checkpoint file with ``runs`` completed runs of ``supersteps`` supersteps each."""
    with SqliteCheckpointer(path) as cp:
        for r in range(runs):
            cp.create_run_sync(RunRecord(f"run-{r}", graph_name="g", inputs={"x": r}))
            for s in range(supersteps):
                superstep(cp, f"run-{r}", s, f"n{s}", {f"v{s}": "x" * 200})
            cp.update_run_status_sync(f"run-{r}", WorkflowStatus.COMPLETED)


def other_connection_sees(path: Path, run_id: str) -> int | None:
    """Number of steps another connection sees for ``run_id`` (``None``: no such run)."""
    conn = sqlite3.connect(path)
    try:
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            return None
        return conn.execute("SELECT count(*) FROM steps WHERE run_id = ?", (run_id,)).fetchone()[0]
    finally:
        conn.close()


# -- construction -----------------------------------------------------------------------------


def test_checkpointer_is_resolved_from_hypergraph_checkpointers():
    """``from hypergraph.checkpointers import SqliteCheckpointer`` is the plugin's class."""
    from hypergraph_sqlite.checkpointer import SqliteCheckpointer as direct

    assert SqliteCheckpointer is direct


def test_unknown_durability_lists_the_modes(tmp_path):
    """A bad ``durability=`` is a ValueError naming the three modes."""
    with pytest.raises(ValueError, match="'sync', 'async', 'exit'"):
        SqliteCheckpointer(tmp_path / "x.db", durability="often")  # type: ignore[arg-type]


def test_unknown_serializer_lists_the_choices(tmp_path):
    """A bad ``serializer=`` is a ValueError naming json and pickle."""
    with pytest.raises(ValueError, match="'json', 'pickle'"):
        SqliteCheckpointer(tmp_path / "x.db", serializer="yaml")  # type: ignore[arg-type]


def test_new_file_records_its_schema_version(tmp_path):
    """A new file carries hypergraph's application id and the schema version, in WAL mode."""
    SqliteCheckpointer(tmp_path / "new.db").close()
    conn = sqlite3.connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_closed_checkpointer_refuses_use(tmp_path):
    """Writing or reading through a closed checkpointer is a CheckpointError saying so."""
    cp = SqliteCheckpointer(tmp_path / "x.db")
    cp.close()
    with pytest.raises(CheckpointError, match="is closed"):
        cp.create_run_sync(RunRecord("a"))
    with pytest.raises(CheckpointError, match="is closed"):
        cp.get_run("a")


def test_readonly_checkpointer_refuses_writes(tmp_path):
    """A checkpointer opened with ``readonly=True`` reads but never writes."""
    fill(tmp_path / "x.db")
    with SqliteCheckpointer(tmp_path / "x.db", readonly=True) as cp:
        assert cp.get_run("run-0").status is WorkflowStatus.COMPLETED
        with pytest.raises(CheckpointError, match="readonly=True"):
            cp.create_run_sync(RunRecord("new"))


# -- durability -------------------------------------------------------------------------------


def test_sync_mode_commits_each_superstep_before_returning(tmp_path):
    """With durability="sync" another connection sees every superstep as soon as it is saved."""
    path = tmp_path / "x.db"
    with SqliteCheckpointer(path, durability="sync") as cp:
        cp.create_run_sync(RunRecord("wf"))
        for s in range(3):
            superstep(cp, "wf", s, "a", {"a": s})
            assert other_connection_sees(path, "wf") == s + 1


def test_async_mode_commits_in_order_and_flush_waits(tmp_path):
    """With durability="async" every superstep is committed, in order, once ``flush()`` returns."""
    path = tmp_path / "x.db"
    with SqliteCheckpointer(path, durability="async") as cp:
        cp.create_run_sync(RunRecord("wf"))
        for s in range(200):
            superstep(cp, "wf", s, f"n{s}", {"a": s})
        cp.flush()
        assert other_connection_sees(path, "wf") == 200
        assert [s.node_name for s in cp.steps("wf")] == [f"n{s}" for s in range(200)]
        assert cp.values("wf") == {"a": 199}


def test_exit_mode_writes_once_when_the_status_changes(tmp_path):
    """With durability="exit" nothing reaches the file until the run's status changes."""
    path = tmp_path / "x.db"
    with SqliteCheckpointer(path, durability="exit") as cp:
        cp.create_run_sync(RunRecord("wf"))
        for s in range(5):
            superstep(cp, "wf", s, "a", {"a": s})
        assert other_connection_sees(path, "wf") is None
        cp.update_run_status_sync("wf", WorkflowStatus.PAUSED)
        assert other_connection_sees(path, "wf") == 5


@pytest.mark.parametrize("durability", ["async", "exit"])
def test_close_writes_what_is_pending(tmp_path, durability):
    """Closing a buffered checkpointer writes the supersteps saved so far."""
    path = tmp_path / "x.db"
    cp = SqliteCheckpointer(path, durability=durability)  # type: ignore[arg-type]
    cp.create_run_sync(RunRecord("wf"))
    superstep(cp, "wf", 0, "a", {"a": 1})
    cp.close()
    assert other_connection_sees(path, "wf") == 1


def test_exit_mode_failure_leaves_nothing_of_the_buffer(tmp_path):
    """If the buffered transaction fails (id taken meanwhile), none of its rows are written."""
    path = tmp_path / "x.db"
    late = SqliteCheckpointer(path, durability="exit")
    late.create_run_sync(RunRecord("shared"))
    superstep(late, "shared", 0, "a", {"a": "late"})
    with SqliteCheckpointer(path) as first:
        first.create_run_sync(RunRecord("shared"))
    with pytest.raises(WorkflowForkError):
        late.update_run_status_sync("shared", WorkflowStatus.COMPLETED)
    assert other_connection_sees(path, "shared") == 0
    with SqliteCheckpointer(path) as reader:
        assert reader.get_run("shared").status is WorkflowStatus.ACTIVE


# -- serializer rules -------------------------------------------------------------------------


@pytest.mark.parametrize("durability", MODES)
def test_unstorable_output_names_node_and_output_and_writes_nothing(tmp_path, durability):
    """A value JSON can't hold fails the save, naming node and output; nothing of it is written."""
    path = tmp_path / "x.db"
    with SqliteCheckpointer(path, durability=durability) as cp:  # type: ignore[arg-type]
        cp.create_run_sync(RunRecord("wf"))
        superstep(cp, "wf", 0, "ok", {"fine": 1})
        with pytest.raises(CheckpointSerializationError) as caught:
            cp.save_superstep_sync(
                "wf",
                (StepRecord("wf", 1, "good", 1, values={"g": 2}),
                 StepRecord("wf", 1, "embed", 2, values={"vector": Opaque(3)})),
                Checkpoint("wf", 1, {"g": 2, "vector": Opaque(3)}, {}),
            )
        cp.update_run_status_sync("wf", WorkflowStatus.FAILED)
        error = caught.value
        assert (error.node_name, error.output, error.run_id) == ("embed", "vector", "wf")
        assert "output 'vector' of node 'embed'" in str(error)
        assert "serializer='pickle'" in str(error)
        assert [s.node_name for s in cp.steps("wf")] == ["ok"]
        assert cp.checkpoint("wf").superstep == 0


def test_unstorable_input_is_named(tmp_path):
    """A run input JSON can't hold fails ``create_run`` naming the input; no run is recorded."""
    with SqliteCheckpointer(tmp_path / "x.db") as cp:
        with pytest.raises(CheckpointSerializationError, match="input 'model'"):
            cp.create_run_sync(RunRecord("wf", inputs={"model": Opaque(1)}))
        assert cp.get_run("wf") is None


def test_class_defined_in_a_function_is_refused_with_the_reason(tmp_path):
    """An attrs class local to a function can't be found on resume, and the error says so."""
    import attrs

    @attrs.frozen
    class Local:
        x: int

    with SqliteCheckpointer(tmp_path / "x.db") as cp:
        cp.create_run_sync(RunRecord("wf"))
        with pytest.raises(CheckpointSerializationError, match="defined inside a function"):
            superstep(cp, "wf", 0, "make", {"thing": Local(1)})


def test_value_that_changes_through_json_is_refused(tmp_path):
    """An attrs value whose untyped field would come back changed (tuple -> list) is refused."""
    with SqliteCheckpointer(tmp_path / "x.db") as cp:
        cp.create_run_sync(RunRecord("wf"))
        with pytest.raises(CheckpointSerializationError, match="does not come back equal"):
            superstep(cp, "wf", 0, "make", {"loose": Loose((1, 2))})


def test_builtins_are_stored_as_readable_json(tmp_path):
    """JSON-native values are stored as plain JSON text anyone can read with sqlite3."""
    path = tmp_path / "x.db"
    with SqliteCheckpointer(path) as cp:
        cp.create_run_sync(RunRecord("wf"))
        superstep(cp, "wf", 0, "a", {"answer": {"text": "hi", "score": 0.5, "tags": ["x"]}})
    conn = sqlite3.connect(path)
    stored = conn.execute("SELECT outputs FROM steps").fetchone()[0]
    conn.close()
    assert stored == '{"answer":{"text":"hi","score":0.5,"tags":["x"]}}'


def test_pickle_serializer_stores_what_json_cannot(tmp_path):
    """With serializer="pickle" other picklable values are stored and restored equal."""
    with SqliteCheckpointer(tmp_path / "x.db", serializer="pickle") as cp:
        cp.create_run_sync(RunRecord("wf", inputs={"model": Opaque(7)}))
        superstep(cp, "wf", 0, "make", {"thing": Opaque(1), "plain": [1, 2]})
        assert cp.values("wf") == {"thing": Opaque(1), "plain": [1, 2]}
        assert cp.get_run("wf").inputs == {"model": Opaque(7)}


def test_pickle_serializer_still_refuses_what_cannot_be_pickled(tmp_path):
    """A value neither JSON nor pickle can hold fails, naming the node and output."""
    with SqliteCheckpointer(tmp_path / "x.db", serializer="pickle") as cp:
        cp.create_run_sync(RunRecord("wf"))
        with pytest.raises(CheckpointSerializationError, match="can't be pickled either"):
            superstep(cp, "wf", 0, "make", {"fn": lambda: 1})


def test_pickled_values_are_not_unpickled_by_a_json_checkpointer(tmp_path):
    """A file holding pickled values read with serializer="json" refuses, pointing to pickle."""
    path = tmp_path / "x.db"
    with SqliteCheckpointer(path, serializer="pickle") as cp:
        cp.create_run_sync(RunRecord("wf"))
        superstep(cp, "wf", 0, "make", {"thing": Opaque(1)})
    with SqliteCheckpointer(path) as cp, pytest.raises(
        CheckpointSerializationError, match="serializer='pickle'"
    ):
        cp.values("wf")
    with SqliteCheckpointer(path, readonly=True) as cp:
        shown = cp.values("wf")["thing"]
        assert isinstance(shown, UnreadableValue)
        assert "serializer='pickle'" in repr(shown)


def test_in_memory_checkpointer_keeps_any_value(tmp_path):
    """InMemoryCheckpointer stores values by reference, whatever their type."""
    cp = InMemoryCheckpointer()
    cp.create_run_sync(RunRecord("wf"))
    thing = Opaque(1)
    superstep(cp, "wf", 0, "make", {"thing": thing})
    assert cp.values("wf")["thing"] is thing


# -- damaged and foreign files ----------------------------------------------------------------


def assert_clean(error: BaseException) -> None:
    """The error is hypergraph's own, with no SQLite traceback chained to it."""
    assert isinstance(error, CheckpointStoreError)
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert "sqlite3." not in "".join(traceback.format_exception(error))


def test_text_file_is_refused_as_not_sqlite(tmp_path):
    """A file that is not SQLite is refused with a clear error, not a sqlite3 traceback."""
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 10)
    with pytest.raises(CheckpointStoreError, match="is not a SQLite database") as caught:
        SqliteCheckpointer(path)
    assert_clean(caught.value)
    assert path.read_text().startswith("these are my notes")


def test_someone_elses_sqlite_file_is_refused_untouched(tmp_path):
    """A SQLite file hypergraph did not create is refused, naming its tables, and not changed."""
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(CheckpointStoreError, match=r"did not create.*users") as caught:
        SqliteCheckpointer(path)
    assert_clean(caught.value)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0
    conn.close()


def test_truncated_file_is_refused(tmp_path):
    """A checkpoint file cut short (an incomplete copy) is refused as truncated."""
    path = tmp_path / "x.db"
    fill(path, runs=3, supersteps=100)
    data = path.read_bytes()
    assert len(data) > 8 * 4096
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointStoreError, match="truncated") as caught:
        SqliteCheckpointer(path)
    assert_clean(caught.value)


def test_truncated_header_is_refused(tmp_path):
    """A file holding only the start of a SQLite header is refused as truncated."""
    path = tmp_path / "x.db"
    fill(path)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(CheckpointStoreError, match="truncated") as caught:
        SqliteCheckpointer(path)
    assert_clean(caught.value)


def test_corrupt_pages_give_a_clear_error(tmp_path):
    """Garbage written over a checkpoint file's pages is reported as corruption on read."""
    path = tmp_path / "x.db"
    fill(path, runs=3, supersteps=100)
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):
        start = page * 4096
        data[start : start + 4096] = bytes([0xA5]) * 4096
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointStoreError) as caught, SqliteCheckpointer(path) as cp:
        cp.runs()
        cp.steps("run-0")
    assert_clean(caught.value)
    assert "corrupt" in str(caught.value) or "damaged" in str(caught.value)


def test_older_schema_version_is_refused_clearly(tmp_path):
    """A file marked with an older schema this version can't migrate is refused, saying so."""
    path = tmp_path / "old.db"
    fill(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    with pytest.raises(CheckpointStoreError, match=r"schema version 0.*can't migrate") as caught:
        SqliteCheckpointer(path)
    assert_clean(caught.value)


def test_older_schema_is_migrated_when_a_migration_exists(tmp_path, monkeypatch):
    """A file of an older schema with a registered migration is upgraded in place on open."""
    from hypergraph_sqlite import _schema

    path = tmp_path / "old.db"
    fill(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    ran = []
    monkeypatch.setitem(_schema.MIGRATIONS, 0, lambda c: ran.append(c.execute(
        "SELECT count(*) FROM runs").fetchone()[0]))
    with SqliteCheckpointer(path) as cp:
        assert cp.get_run("run-0").status is WorkflowStatus.COMPLETED
    assert ran == [1]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_a_version_1_file_is_migrated_and_its_failed_run_resumes(tmp_path, fixable):
    """A file of schema 1 (no ``steps.state``) gains the column on open; its run resumes."""
    from hypergraph import SyncRunner

    graph, ran = fixable.graph, fixable.ran
    path = tmp_path / "v1.db"
    with SqliteCheckpointer(path, durability="exit") as cp:  # checkpoints in their own table
        SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf", error_handling="continue")
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE steps DROP COLUMN state")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    fixable.broken = False
    ran.clear()
    with SqliteCheckpointer(path) as cp:
        result = SyncRunner(checkpointer=cp).run(graph, {"a": 1}, workflow_id="wf")
        assert result["c"] == 20 and ran == ["second"]
        assert [step.node_name for step in cp.steps("wf")] == ["first", "second", "second"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert "state" in {row[1] for row in conn.execute("PRAGMA table_info(steps)")}
    conn.close()


def test_newer_schema_version_asks_for_an_upgrade(tmp_path):
    """A file written by a newer schema is refused with a hint to upgrade hypergraph-sqlite."""
    path = tmp_path / "new.db"
    fill(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CheckpointStoreError, match=r"newer hypergraph.*Upgrade") as caught:
        SqliteCheckpointer(path)
    assert_clean(caught.value)


def test_missing_file_opened_readonly_is_reported(tmp_path):
    """``readonly=True`` on a path with no file says there is no checkpoint file there."""
    with pytest.raises(CheckpointStoreError, match="There is no checkpoint file"):
        SqliteCheckpointer(tmp_path / "absent.db", readonly=True)
    assert not (tmp_path / "absent.db").exists()


# -- processes --------------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from hypergraph.checkpointers import (
        Checkpoint, RunRecord, SqliteCheckpointer, StepRecord, WorkflowStatus,
    )

    path, name, durability = sys.argv[1], sys.argv[2], sys.argv[3]
    cp = SqliteCheckpointer(path, durability=durability)
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    cp.create_run_sync(RunRecord(name, graph_name="race"))
    for s in range(300):
        value = {f"v{s}": f"{name}-{s}"}
        cp.save_superstep_sync(
            name, (StepRecord(name, s, f"n{s}", s, values=value),),
            Checkpoint(name, s, value, {"s": s}),
        )
    for i in range(50):
        child = f"{name}/{i}"
        cp.create_run_sync(RunRecord(child, parent_run_id=name))
        cp.update_run_status_sync(child, WorkflowStatus.COMPLETED)
    cp.update_run_status_sync(name, WorkflowStatus.COMPLETED)
    cp.close()
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("durability", MODES)
def test_two_processes_writing_one_file_lose_nothing(tmp_path, durability):
    """Two processes writing different workflows into one file at once keep every record."""
    path = tmp_path / "shared.db"
    SqliteCheckpointer(path).close()  # both open an existing store
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), name, durability],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("left", "right")
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:  # release both at once
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    with SqliteCheckpointer(path, readonly=True) as cp:
        for name in ("left", "right"):
            run = cp.get_run(name)
            assert (run.status, run.node_count) == (WorkflowStatus.COMPLETED, 300)
            steps = cp.steps(name)
            assert [s.node_name for s in steps] == [f"n{s}" for s in range(300)]
            assert cp.values(name) == {f"v{s}": f"{name}-{s}" for s in range(300)}
            assert len(cp.runs(parent=name)) == 50


def test_a_new_file_opened_by_two_processes_at_once_is_created_once(tmp_path):
    """Two processes opening the same new path at once both get a working store."""
    path = tmp_path / "fresh.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), name, "sync"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("a", "b")
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", (
            proc.stderr.read() if proc.stderr else ""
        )
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with SqliteCheckpointer(path, readonly=True) as cp:
        assert {r.id for r in cp.runs(top_level=True)} == {"a", "b"}


_KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from hypergraph.checkpointers import Checkpoint, RunRecord, SqliteCheckpointer, StepRecord

    path, durability = sys.argv[1], sys.argv[2]
    cp = SqliteCheckpointer(path, durability=durability)
    cp.create_run_sync(RunRecord("victim"))
    index = 0
    for s in range(100_000):
        steps = []
        for node in ("a", "b", "c"):
            steps.append(StepRecord("victim", s, node, index, values={node: [s] * 50}))
            index += 1
        cp.save_superstep_sync(
            "victim", steps, Checkpoint("victim", s, {"a": [s] * 50, "b": [s] * 50}, {"s": s})
        )
        print(s, flush=True)
    """
)


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_sigkill_mid_run_leaves_whole_supersteps_only(tmp_path, durability):
    """A writer killed with SIGKILL leaves every superstep either fully recorded or absent."""
    import signal

    path = tmp_path / "killed.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path), durability],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # let it commit 50 supersteps, then kill it wherever it is
        if int(line) == 50:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    with SqliteCheckpointer(path) as cp:
        if durability == "async" and cp.get_run("victim") is None:
            # the writer had not committed even the run: then nothing after it either
            assert other_connection_sees(path, "victim") is None
            conn = sqlite3.connect(path)
            assert conn.execute("SELECT count(*) FROM steps").fetchone()[0] == 0
            conn.close()
            return
        latest = cp.checkpoint("victim")
        steps = cp.steps("victim")
        if durability == "sync":
            assert latest.superstep is not None and latest.superstep >= 50
        last = latest.superstep if latest.superstep is not None else -1
        assert len(steps) == 3 * (last + 1)
        assert [s.index for s in steps] == list(range(len(steps)))
        assert [(s.superstep, s.node_name) for s in steps] == [
            (n, node) for n in range(last + 1) for node in ("a", "b", "c")
        ]
        assert latest.values == {} if last < 0 else {"a": [last] * 50, "b": [last] * 50}
        assert latest.state == ({} if last < 0 else {"s": last})
        # the killed run can be written to again (a resume would continue it)
        cp.update_run_status_sync("victim", WorkflowStatus.FAILED, error="killed")
        assert cp.get_run("victim").node_count == len(steps)


def test_sigkill_before_an_exit_mode_write_leaves_no_trace(tmp_path):
    """With durability="exit" a run killed before its status changed left nothing behind."""
    import signal

    path = tmp_path / "killed.db"
    SqliteCheckpointer(path).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path), "exit"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if int(line) == 50:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    with SqliteCheckpointer(path) as cp:
        assert cp.get_run("victim") is None
        assert cp.runs() == []


def test_a_child_run_is_written_with_its_first_superstep_and_its_end_with_the_next_write(
    tmp_path: Path,
) -> None:
    """durability="sync": a child run's record and end ride along with neighbouring commits;
    another connection sees both once they went in, and a read here writes them first."""
    path = str(tmp_path / "runs.db")
    with SqliteCheckpointer(path) as cp, SqliteCheckpointer(path, readonly=True) as other:
        cp.create_run_sync(RunRecord(id="p", inputs={}))
        cp.create_run_sync(RunRecord(id="p/0", inputs={"x": 1}, parent_run_id="p"))
        assert other.get_run("p/0") is None  # held: nothing of the child ran yet
        cp.save_superstep_sync("p/0", (StepRecord("p/0", 0, "n", 0, values={"y": 2}),), None)
        assert other.get_run("p/0").status is WorkflowStatus.ACTIVE  # type: ignore[union-attr]
        cp.update_run_status_sync("p/0", WorkflowStatus.COMPLETED)
        assert other.get_run("p/0").status is WorkflowStatus.ACTIVE  # type: ignore[union-attr]
        cp.create_run_sync(RunRecord(id="p/1", inputs={"x": 2}, parent_run_id="p"))
        cp.save_superstep_sync("p/1", (StepRecord("p/1", 0, "n", 0, values={"y": 3}),), None)
        assert other.get_run("p/0").status is WorkflowStatus.COMPLETED  # type: ignore[union-attr]
        cp.update_run_status_sync("p/1", WorkflowStatus.COMPLETED)
        assert cp.get_run("p/1").status is WorkflowStatus.COMPLETED  # type: ignore[union-attr]
        assert other.get_run("p/1").status is WorkflowStatus.COMPLETED  # type: ignore[union-attr]
        assert [s.values for s in other.steps("p/1")] == [{"y": 3}]


def test_a_held_child_id_another_connection_took_fails_that_write_alone(tmp_path: Path) -> None:
    """Two processes recording one workflow at once: the held child whose id the other took
    fails with WorkflowForkError naming it, and the other held records still go in."""
    path = str(tmp_path / "runs.db")
    with SqliteCheckpointer(path) as cp, SqliteCheckpointer(path) as other:
        cp.create_run_sync(RunRecord(id="p", inputs={}))
        cp.create_run_sync(RunRecord(id="p/0", inputs={}, parent_run_id="p"))
        cp.create_run_sync(RunRecord(id="p/1", inputs={}, parent_run_id="p"))
        other.create_run_sync(RunRecord(id="p/0", inputs={}))  # top level: written at once
        step = StepRecord("p/1", 0, "n", 0, values={"y": 1})
        with pytest.raises(WorkflowForkError, match="'p/0'"):
            cp.save_superstep_sync("p/1", (step,), None)
        cp.save_superstep_sync("p/1", (step,), None)
        assert [s.values for s in other.steps("p/1")] == [{"y": 1}]
        assert other.get_run("p/1").parent_run_id == "p"  # type: ignore[union-attr]
