"""The checkpoint file: its schema, how it is opened and checked, and how SQLite errors read.

A checkpoint file is marked with ``PRAGMA application_id`` (so a foreign SQLite file is never
mistaken for one) and ``PRAGMA user_version`` (the schema version). Opening checks, before SQLite
touches anything: that the file is a SQLite database at all, that it is not shorter than its
header says (a truncated copy), then the two marks. An empty file becomes a new store; anything
else is refused with a ``CheckpointStoreError`` saying what the file is and what to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from hypergraph.exceptions import CheckpointStoreError

__all__ = ["APPLICATION_ID", "FOREIGN_CHILD", "SCHEMA_VERSION", "open_store", "store_error"]

APPLICATION_ID = 0x48474350  # "HGCP"
SCHEMA_VERSION = 4
READABLE_VERSIONS = frozenset({2, 3, 4})
"""Versions a ``readonly=True`` open reads as they are: 2 and 3 differ from 4 only in how tables
and indexes are stored, not in what queries see. (4 may keep a run's first checkpoint on its
step's row, see ``hypergraph_sqlite.checkpointer``: a release reading 3 would miss it.)"""
_SQLITE_MAGIC = b"SQLite format 3\x00"

FOREIGN_CHILD = "substr(id, 1, length(parent_run_id) + 1) <> parent_run_id || '/'"
"""A child run whose id is not ``<parent id>/...``. The runs hypergraph records are named under
their parent (``<id>/0``, ``<id>/<node>``, SPEC CP8/CP9), so the primary key finds them by range;
only other children (written through the ``Checkpointer`` API) need an index of their parent.
Every child insert into a full parent index took one more B-tree page per transaction."""

_OTHER_PARENT_INDEX = (
    "CREATE INDEX IF NOT EXISTS runs_by_other_parent ON runs (parent_run_id) "
    f"WHERE parent_run_id IS NOT NULL AND {FOREIGN_CHILD}"
)
"""The parent index of schema 4: only the children ``FOREIGN_CHILD`` names."""

_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    graph_name TEXT,
    inputs TEXT NOT NULL,
    parent_run_id TEXT,
    forked_from TEXT,
    fork_superstep INTEGER,
    retry_of TEXT,
    retry_index INTEGER,
    graph_struct_hash TEXT,
    graph_code_hash TEXT,
    input_signature TEXT,
    config TEXT NOT NULL,
    created_at REAL NOT NULL,
    completed_at REAL,
    duration_ms REAL,
    node_count INTEGER NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
{OTHER_PARENT_INDEX};
CREATE INDEX runs_by_fork ON runs (forked_from) WHERE forked_from IS NOT NULL;
CREATE INDEX runs_by_retry ON runs (retry_of) WHERE retry_of IS NOT NULL;
CREATE TABLE steps (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    superstep INTEGER NOT NULL,
    node_name TEXT NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    input_versions TEXT NOT NULL,
    outputs TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    cached INTEGER NOT NULL,
    decision TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    completed_at REAL,
    child_run_id TEXT,
    state TEXT,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
    run_id TEXT NOT NULL,
    superstep INTEGER NOT NULL,
    delta TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (run_id, superstep)
);
""".replace("{OTHER_PARENT_INDEX}", _OTHER_PARENT_INDEX)
# ``checkpoints`` is a rowid table (schema 3): a loop state is often over the ~1 KB that a
# WITHOUT ROWID row keeps on its page, so each such row also took an overflow page, and its
# inserts split pages in the middle of the tree. Appended rowid rows fill pages in order; the
# key lives in a small index.
_CHECKPOINTS_V3 = _SCHEMA[_SCHEMA.index("CREATE TABLE checkpoints"):].strip().rstrip(";")

_TABLES = frozenset({"runs", "steps", "checkpoints"})


def _step_state(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2: ``steps.state``, the loop state of a superstep of one step, so such a
    superstep is one row (its checkpoint's values are that step's outputs)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(steps)")}
    if "state" not in columns:
        conn.execute("ALTER TABLE steps ADD COLUMN state TEXT")


def _checkpoints_rowid(conn: sqlite3.Connection) -> None:
    """Version 2 -> 3: ``checkpoints`` rebuilt as a rowid table (same columns and key)."""
    found = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'"
    ).fetchone()
    if found is None or "WITHOUT ROWID" not in found[0].upper():
        return  # already rebuilt (or missing: the open reports that)
    conn.execute(_CHECKPOINTS_V3.replace("CREATE TABLE checkpoints", "CREATE TABLE checkpoints_v3"))
    conn.execute(
        "INSERT INTO checkpoints_v3 (run_id, superstep, delta, state) "
        "SELECT run_id, superstep, delta, state FROM checkpoints ORDER BY run_id, superstep"
    )
    conn.execute("DROP TABLE checkpoints")
    conn.execute("ALTER TABLE checkpoints_v3 RENAME TO checkpoints")


def _children_by_key(conn: sqlite3.Connection) -> None:
    """Version 3 -> 4: the parent index keeps only children not named under their parent
    (``FOREIGN_CHILD``); a run's first checkpoint may be on its step's row from now on."""
    conn.execute("DROP INDEX IF EXISTS runs_by_parent")
    conn.execute(_OTHER_PARENT_INDEX)


# version found in a file -> function upgrading it by one version (each may find its work
# done already: another process can migrate the file between our read and our write lock)
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _step_state,
    2: _checkpoints_rowid,
    3: _children_by_key,
}


def open_store(path: str, *, readonly: bool, timeout: float) -> sqlite3.Connection:
    """A connection to a checked (and if new, initialised) checkpoint store at ``path``."""
    memory = path == ":memory:"
    target = path
    if not memory:
        file = Path(path).expanduser()
        target = str(file)
        if file.exists():
            _check_file(file)
        elif readonly:
            raise CheckpointStoreError(f"There is no checkpoint file at {target}.", path=target)
    try:
        if readonly and not memory:
            conn = sqlite3.connect(
                f"file:{quote(target)}?mode=ro", uri=True, timeout=timeout,
                isolation_level=None, check_same_thread=False,
            )
        else:
            conn = sqlite3.connect(
                target, timeout=timeout, isolation_level=None, check_same_thread=False
            )
    except sqlite3.Error as exc:
        raise store_error(exc, target) from None
    try:
        _prepare(conn, target, readonly=readonly, memory=memory)
    except sqlite3.Error as exc:
        conn.close()
        raise store_error(exc, target) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _check_file(file: Path) -> None:
    """Refuse a file that is not SQLite, or shorter than its header says, before opening it."""
    where = str(file)
    try:
        size = file.stat().st_size
        if size == 0:
            return  # an empty file: SQLite makes it a new database
        with file.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise CheckpointStoreError(
            f"Cannot read the checkpoint file {where}: {exc.strerror or exc}.", path=where
        ) from None
    if not header.startswith(_SQLITE_MAGIC):
        raise CheckpointStoreError(
            f"{where} is not a SQLite database, so it can't be a checkpoint store (it starts "
            f"with {header[:16]!r}). Point the checkpointer at a new path or at a file it created.",
            path=where,
        )
    if len(header) < 100:
        raise _truncated(where, size, 100)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counts_valid = header[24:28] == header[92:96]
    wal = file.with_name(file.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return  # recent pages may live in the WAL file; SQLite reconciles the two
    if page_size < 512 or size % page_size:
        raise _truncated(where, size, None)
    if counts_valid and pages and size < pages * page_size:
        raise _truncated(where, size, pages * page_size)


def _truncated(where: str, size: int, expected: int | None) -> CheckpointStoreError:
    detail = f" ({size} bytes; its header says {expected})" if expected else f" ({size} bytes)"
    return CheckpointStoreError(
        f"The checkpoint file {where} is truncated{detail}: it was cut short, for example by "
        "an incomplete copy. Restore it from a complete copy, or move it aside to start a new "
        "store.",
        path=where,
    )


def _prepare(conn: sqlite3.Connection, where: str, *, readonly: bool, memory: bool) -> None:
    app_id, version, tables = _marks(conn)
    if app_id == 0 and not tables:
        if readonly:
            raise CheckpointStoreError(
                f"{where} is an empty SQLite database, not a checkpoint store.", path=where
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have created the store while we waited for the write lock
            app_id, version, tables = _marks(conn)
            if app_id == 0 and not tables:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                app_id, version, tables = APPLICATION_ID, SCHEMA_VERSION, set(_TABLES)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    if app_id != APPLICATION_ID:
        shown = ", ".join(sorted(tables)) or "none"
        raise CheckpointStoreError(
            f"{where} is a SQLite database that hypergraph did not create (application id "
            f"{app_id:#x}, tables: {shown}); refusing to write checkpoints into it. Point the "
            "checkpointer at a new path.",
            path=where,
        )
    if version != SCHEMA_VERSION and not (readonly and version in READABLE_VERSIONS):
        _migrate(conn, where, version, readonly=readonly)
    if not tables >= _TABLES:
        missing = ", ".join(sorted(_TABLES - tables))
        raise CheckpointStoreError(
            f"The checkpoint file {where} is damaged: its tables {missing} are missing. Restore "
            "it from a copy, or move it aside to start a new store.",
            path=where,
        )
    if not readonly and not memory:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # A WAL checkpoint costs two fsyncs; every 1,000 pages (the default) that is most of the
    # write cost of small supersteps. 10,000 pages (~40 MB) makes it rare; the file is cut
    # back to 64 MB after each.
    conn.execute("PRAGMA wal_autocheckpoint=10000")
    conn.execute("PRAGMA journal_size_limit=67108864")


def _marks(conn: sqlite3.Connection) -> tuple[int, int, set[str]]:
    """The file's id, version and tables, read in one transaction.

    Three separate reads could straddle another process's creation of the store (id read
    before its commit, tables after) and mistake a fresh store for a foreign file.
    """
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("sqlite_")
        }
    finally:
        if own and conn.in_transaction:
            conn.execute("COMMIT")
    return app_id, version, tables


def _migrate(conn: sqlite3.Connection, where: str, version: int, *, readonly: bool) -> None:
    if version > SCHEMA_VERSION:
        raise CheckpointStoreError(
            f"The checkpoint file {where} uses schema version {version}, written by a newer "
            f"hypergraph; this one reads version {SCHEMA_VERSION}. Upgrade hypergraph-sqlite "
            "to open it.",
            path=where,
        )
    steps = list(range(version, SCHEMA_VERSION))
    if any(step not in MIGRATIONS for step in steps):
        raise CheckpointStoreError(
            f"The checkpoint file {where} uses schema version {version}, which this hypergraph "
            f"can't migrate to version {SCHEMA_VERSION}. Open it with the hypergraph version "
            "that wrote it, or move it aside to start a new store.",
            path=where,
        )
    if readonly:
        raise CheckpointStoreError(
            f"The checkpoint file {where} uses the older schema version {version}; open it "
            "once without readonly=True to migrate it.",
            path=where,
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        # another process may have migrated the file while we waited for the write lock
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in steps:
            if step >= found:
                MIGRATIONS[step](conn)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def store_error(exc: Exception, where: str, *, timeout: float | None = None) -> Exception:
    """A ``CheckpointStoreError`` that says what SQLite's ``exc`` means for the file."""
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered or "file is encrypted" in lowered:
        message = (
            f"{where} is not a checkpoint store SQLite can read ({text}). Point the "
            "checkpointer at a new path or at a file it created."
        )
    elif "malformed" in lowered or "corrupt" in lowered:
        message = (
            f"The checkpoint file {where} is corrupt ({text}). Restore it from a copy, or move "
            "it aside to start a new store; `sqlite3 FILE .recover` may save its contents."
        )
    elif "locked" in lowered or "busy" in lowered:
        waited = f" for {timeout:g} s" if timeout is not None else ""
        message = (
            f"The checkpoint file {where} stayed locked by another connection{waited} ({text}). "
            "Another process is holding a long write; raise timeout= or retry."
        )
    elif "readonly" in lowered or "read-only" in lowered:
        message = (
            f"The checkpoint file {where} can't be written ({text}): check the permissions of "
            "the file and its folder, or open it with readonly=True to inspect it."
        )
    elif "unable to open" in lowered:
        message = (
            f"Cannot open the checkpoint file {where} ({text}): check that its folder exists and "
            "is writable."
        )
    else:
        message = f"SQLite failed on the checkpoint file {where}: {text}."
    return CheckpointStoreError(message, path=where)
