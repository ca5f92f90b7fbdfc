"""The process-wide DBOS application: configuration, one launch, the graph registry, the queue.

DBOS is a per-process singleton, and recovery finds a pending run's graph by the key stored with
the workflow (graph name + structural hash), so graphs must be registered here before DBOS
launches. The application version is derived from those keys (SPEC DB5): a program whose graphs
changed structure never recovers the old program's runs as if nothing happened.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from hypergraph.nodes.graph_node import GraphNode
from hypergraph_dbos._dbos_import import dbos

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = [
    "DEFAULT_DATABASE_ENV",
    "DEFAULT_DATABASE_FILE",
    "ensure_launched",
    "graph_key",
    "is_launched",
    "lookup",
    "lookup_node",
    "register_graph",
]

DEFAULT_DATABASE_FILE = "hypergraph_dbos.sqlite"
"""The embedded system database, created in the current directory when nothing is configured."""

DEFAULT_DATABASE_ENV = "HYPERGRAPH_DBOS_SYSTEM_DATABASE_URL"
"""Environment variable that overrides the embedded default (handy for tests and deployments)."""

DBOS = dbos.DBOS

_LOCK = threading.RLock()
_GRAPHS: dict[str, tuple[Graph, Any]] = {}
_BY_NAME: dict[str, str] = {}
_STATE: dict[str, Any] = {"launched_url": None, "queues": {}}


def graph_key(graph: Graph) -> str:
    """Stable registry key: the graph's name plus its structural hash (code changes keep it)."""
    return f"{graph.name or 'graph'}:{graph.structural_hash[:16]}"


def register_graph(graph: Graph, runner: Any) -> str:
    """Make ``graph`` (and every graph nested in it) findable by key, for runs and recovery."""
    key = graph_key(graph)
    with _LOCK:
        if key not in _GRAPHS:
            _GRAPHS[key] = (graph, runner)
            _BY_NAME[graph.name or "graph"] = key
            for node in graph.nodes.values():
                if isinstance(node, GraphNode):
                    register_graph(node.graph, runner)
    return key


def lookup(key: str) -> tuple[Graph, Any]:
    """The graph and runner registered under ``key``; a clear error when recovery cannot find it."""
    found = _GRAPHS.get(key)
    if found is not None:
        return found
    from hypergraph.exceptions import GraphChangedError

    name = key.rsplit(":", 1)[0]
    current = _BY_NAME.get(name)
    if current is not None:
        raise GraphChangedError(
            f"A durable run was recorded for graph {name!r} with structure {key!r}, but this "
            f"process has {current!r}: the graph's structure changed. Fork the run into a new "
            "workflow_id (run the new graph under a fresh id) instead of resuming it."
        )
    raise LookupError(
        f"No graph is registered under {key!r}. Construct DBOSAsyncRunner(graphs=[...]) with it "
        "(or run it once) before DBOS launches, so recovery can find it."
    )


def lookup_node(key: str, path: tuple[str, ...]) -> tuple[GraphNode, Any]:
    """The graph node at ``path`` (graph-node names) inside the graph registered under ``key``."""
    graph, runner = lookup(key)
    node: Any = None
    for name in path:
        node = graph.nodes.get(name)
        if not isinstance(node, GraphNode):
            raise LookupError(
                f"Graph {key!r} has no nested graph at {'/'.join(path)!r}: a durable child run "
                "was recorded for a graph node this program's graph lacks. Fork the run (run "
                "the graph under a new workflow_id) instead of resuming it."
            )
        graph = node.graph
    assert isinstance(node, GraphNode)
    return node, runner


def is_launched() -> bool:
    """Whether the process-wide DBOS instance exists and has launched."""
    instance = _instance()
    return instance is not None and bool(getattr(instance, "_launched", False))


def app_version(base: str | None) -> str:
    """``<base>-<hash of every registered graph key>``: changes when any graph's structure does."""
    digest = hashlib.sha256("\n".join(sorted(_GRAPHS)).encode()).hexdigest()[:16]
    return f"{base or 'hypergraph'}-{digest}"


def default_database_url() -> str:
    """The embedded SQLite file in the current directory, unless the environment names another."""
    configured = os.environ.get(DEFAULT_DATABASE_ENV)
    if configured:
        return configured
    return "sqlite:///" + os.path.join(os.getcwd(), DEFAULT_DATABASE_FILE)


def ensure_launched(
    *,
    system_database_url: str | None,
    application_name: str,
    application_version: str | None,
    executor_id: str | None,
    config: dict[str, Any] | None,
    sqlite_wal: bool = True,
) -> None:
    """Create and launch DBOS unless it already runs in this process (never twice, SPEC DB2)."""
    with _LOCK:
        if is_launched():
            _check_same_database(system_database_url)
            return
        instance = _instance()
        if instance is None:
            url = system_database_url or default_database_url()
            settings: dict[str, Any] = {
                "name": application_name,
                "system_database_url": url,
                "log_level": "WARNING",
                "application_version": app_version(application_version),
            }
            if executor_id is not None:
                settings["executor_id"] = executor_id
            if config:
                settings.update(config)
            if sqlite_wal:
                use_wal(str(settings["system_database_url"]))
            DBOS(config=settings)  # type: ignore[arg-type]
            _STATE["launched_url"] = url
        DBOS.launch()


def ensure_queue(name: str, concurrency: int | None, worker_concurrency: int | None) -> Any:
    """The DBOS queue map items are enqueued on, registered once per process."""
    with _LOCK:
        queue = _STATE["queues"].get(name)
        if queue is None:
            queue = DBOS.register_queue(
                name,
                global_concurrency=concurrency,
                worker_concurrency=worker_concurrency,
                polling_interval_sec=0.1,
                on_conflict="always_update",
            )
            _STATE["queues"][name] = queue
        return queue


def use_wal(url: str) -> None:
    """Switch an SQLite system database to write-ahead logging (persistent; ~5x faster steps)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return
    path = url[len(prefix):].split("?", 1)[0]
    if not path or path == ":memory:":
        return
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def _check_same_database(url: str | None) -> None:
    launched = _STATE["launched_url"]
    if url is None or launched is None or url == launched:
        return
    raise ValueError(
        f"DBOS already runs in this process on {launched!r}; a DBOSAsyncRunner cannot switch it "
        f"to {url!r}. DBOS is one per process: give every DBOSAsyncRunner of this process the same "
        "system_database_url (or none)."
    )


def _instance() -> Any:
    from dbos import _dbos as module

    return getattr(module, "_dbos_global_instance", None)
