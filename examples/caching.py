"""Caching: skip work a node has already done — in memory, or on disk across processes.

Run it with:  uv run --all-packages python examples/caching.py

A node opts in with ``cache=True`` and a runner with ``cache=...``; both are needed. The cache key
is what the function computes (its code, closure values, bound instance) plus its input values,
so changing any of them runs the node again. Two scalers built by one factory keep their own
entries; ``len()``, ``clear()`` and ``DiskCache(max_bytes=...)`` manage what is stored.
``DiskCache`` needs the ``hypergraph-sqlite`` package (``pip install "hypergraph-core[sqlite]"``).
"""

from __future__ import annotations

import tempfile
from collections import Counter

from hypergraph import DiskCache, FunctionNode, Graph, InMemoryCache, SyncRunner, node
from hypergraph.events import CacheHitEvent, CacheMissEvent, EventProcessor

calls: Counter[str] = Counter()


@node(output_name="embedding", cache=True)
def embed(text: str) -> list[float]:
    """Stands in for an expensive model call."""
    calls["embed"] += 1
    return [float(ord(c)) / 100 for c in text[:4]]


@node(output_name="norm")
def norm(embedding: list[float]) -> float:
    """Cheap, not cached: runs every time."""
    calls["norm"] += 1
    return sum(x * x for x in embedding) ** 0.5


def make_scaler(factor: float) -> FunctionNode:
    """Same code for every factor: the closure value keeps their cache entries apart."""

    def scale(norm: float) -> float:
        return norm * factor

    return FunctionNode(scale, output_name="scaled", cache=True)


class CacheLog(EventProcessor):
    """Prints every cache event, with the reason for each miss."""

    def on_cache_hit(self, event: CacheHitEvent) -> None:
        print(f"  hit   {event.node_name}  key={event.cache_key[:12]}")

    def on_cache_miss(self, event: CacheMissEvent) -> None:
        print(f"  miss  {event.node_name}  key={event.cache_key[:12]}  ({event.reason})")


def main() -> None:
    graph = Graph([embed, norm], name="similarity")
    log = [CacheLog()]

    print("InMemoryCache")
    runner = SyncRunner(cache=InMemoryCache())
    first = runner.run(graph, {"text": "hello"}, event_processors=log)    # miss: first time seen
    second = runner.run(graph, {"text": "hello"}, event_processors=log)   # hit: embed not called
    runner.run(graph, {"text": "world"}, event_processors=log)            # miss: input changed
    assert first["norm"] == second["norm"]
    assert calls == {"embed": 2, "norm": 3}, calls

    print("DiskCache")
    calls.clear()
    with tempfile.TemporaryDirectory() as folder:
        # Two runners over one folder stand in for two processes: the second starts cold in
        # memory but finds the first one's result on disk.
        SyncRunner(cache=DiskCache(folder)).run(graph, {"text": "hello"}, event_processors=log)
        SyncRunner(cache=DiskCache(folder)).run(graph, {"text": "hello"}, event_processors=log)
    assert calls == {"embed": 1, "norm": 2}, calls

    print("Closures and housekeeping")
    with tempfile.TemporaryDirectory() as folder:
        disk = DiskCache(folder, max_bytes=10_000_000)    # least recently used entries go first
        runner = SyncRunner(cache=disk)
        double = runner.run(Graph([embed, norm, make_scaler(2)]), {"text": "hello"})
        triple = runner.run(Graph([embed, norm, make_scaler(3)]), {"text": "hello"})
        assert triple["scaled"] == double["scaled"] / 2 * 3   # no wrong hit from the 2x scaler
        print(f"  {len(disk)} entries on disk")           # embed once, one per scaler
        assert len(disk) == 3
        disk.clear()
        assert len(disk) == 0
    print("ok: embed ran once per distinct input; norm (not cached) ran every time")


if __name__ == "__main__":
    main()
