"""DaftRunner(cache=...): nodes with cache=True reuse results; in-memory caches are per worker."""

from __future__ import annotations

import pickle
from pathlib import Path

from hypergraph import DaftRunner, Graph, InMemoryCache, node


def calls(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_cached_node_runs_once_per_distinct_input(tmp_path: Path) -> None:
    """With the native runner the cache is the runner's own: repeats and reruns are hits."""
    log = tmp_path / "calls.txt"

    @node(output_name="y", cache=True)
    def slow_square(x: int, path: str) -> int:
        with open(path, "a") as fh:
            fh.write(f"{x}\n")
        return x * x

    runner = DaftRunner(cache=InMemoryCache())
    first = runner.map(Graph([slow_square]), {"x": [1, 2, 1, 2, 3], "path": str(log)}, map_over="x")
    assert first["y"] == [1, 4, 1, 4, 9]
    assert sorted(set(calls(log))) == ["1", "2", "3"]
    count = len(calls(log))
    again = runner.run(Graph([slow_square]), {"x": 2, "path": str(log)})
    assert again["y"] == 4
    assert len(calls(log)) == count


def test_nodes_without_cache_flag_always_run(tmp_path: Path) -> None:
    """cache=False nodes ignore the runner's cache."""
    log = tmp_path / "calls.txt"

    @node(output_name="y")
    def plain(x: int, path: str) -> int:
        with open(path, "a") as fh:
            fh.write(f"{x}\n")
        return x

    runner = DaftRunner(cache=InMemoryCache())
    runner.map(Graph([plain]), {"x": [1, 1], "path": str(log)}, map_over="x")
    assert calls(log) == ["1", "1"]


def test_in_memory_cache_arrives_empty_on_another_worker() -> None:
    """Shipping the runner's cache to a worker process gives that worker its own empty cache."""
    from hypergraph.cache import NodeCache
    from hypergraph_daft._rows import WorkerCache

    backend = InMemoryCache()
    backend.set("k", "v")  # type: ignore[arg-type]
    shipped = pickle.loads(pickle.dumps(WorkerCache(NodeCache(backend))))
    assert shipped.node_cache.backend is not backend
    assert shipped.node_cache.backend.get("k") == (False, None)
