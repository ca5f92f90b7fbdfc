"""Processors learn which top-level run ended from its run id, never from the thread or task (EV5)."""

from __future__ import annotations

import asyncio
import threading

from hypergraph import AsyncRunner, Graph, SyncRunner, ThreadPoolRunner, node
from hypergraph.events import (
    AsyncEventProcessor,
    EventProcessor,
    NodeEndEvent,
    RunStartEvent,
)


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


class PerRun(EventProcessor):
    """Counts finished nodes per top-level run, keyed by the run id, and reports at its end.

    It is the pattern the docs describe: a span -> top-level run map built from the events,
    and ``shutdown_run(run_id)`` to release one run's state.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.top_of: dict[str, str] = {}  # span id -> top-level run id
        self.nodes: dict[str, int] = {}
        self.reports: list[tuple[str, int]] = []

    def on_run_start(self, event: RunStartEvent) -> None:
        with self.lock:
            top = self.top_of.get(event.parent_span_id or "")
            if top is None:
                top = event.run_id
                self.nodes[top] = 0
            self.top_of[event.span_id] = top

    def on_node_start(self, event) -> None:
        with self.lock:
            self.top_of[event.span_id] = self.top_of[event.parent_span_id]

    def on_node_end(self, event: NodeEndEvent) -> None:
        with self.lock:
            self.nodes[self.top_of[event.span_id]] += 1

    def shutdown_run(self, run_id: str) -> None:
        with self.lock:
            self.reports.append((run_id, self.nodes.pop(run_id)))
            self.top_of = {k: v for k, v in self.top_of.items() if v != run_id}

    def shutdown(self) -> None:  # pragma: no cover - the runner calls shutdown_run instead
        raise AssertionError("shutdown() called instead of shutdown_run(run_id)")


def held_graph(started: threading.Event, release: threading.Event, name: str) -> Graph:
    """``double`` then a node that waits until ``release``: a run that stays open on demand."""

    @node(output_name="held")
    def hold(doubled: int) -> int:
        started.set()
        assert release.wait(timeout=10)
        return doubled

    return Graph([double, hold], name=name)


def test_shutdown_run_gets_the_top_level_run_id_once():
    """A nested graph's run does not call it; the top-level run's id is the result's run id."""
    recorder = PerRun()
    outer = Graph([Graph([double], name="inner").as_node(), add_one], name="outer")
    result = SyncRunner().run(outer, {"x": 1}, event_processors=[recorder])
    assert recorder.reports == [(result.run_id, 3)]  # inner's GraphNode, double, add_one


def test_shutdown_run_gets_the_map_run_id_once():
    """A top-level map is one run for its processors: one call, with the map's run id."""
    recorder = PerRun()
    results = SyncRunner().map(Graph([double]), {"x": [1, 2, 3]}, map_over="x", event_processors=[recorder])
    assert recorder.reports == [(results.run_id, 3)]


def test_a_nested_runner_of_another_kind_leaves_shutdown_run_to_the_top():
    """A graph node on AsyncRunner inside a SyncRunner run forwards events but never shuts down."""
    recorder = PerRun()
    outer = Graph([Graph([double], name="inner").as_node(runner=AsyncRunner()), add_one], name="outer")
    result = SyncRunner().run(outer, {"x": 1}, event_processors=[recorder])
    assert recorder.reports == [(result.run_id, 3)]


def test_runs_in_two_threads_sharing_a_processor_keep_separate_state():
    """A run ending in one thread reports its own count while the other thread's run is still open."""
    recorder = PerRun()
    started, release = threading.Event(), threading.Event()
    held: list = []
    worker = threading.Thread(
        target=lambda: held.append(
            SyncRunner().run(held_graph(started, release, "held"), {"x": 1}, event_processors=[recorder])
        )
    )
    worker.start()
    assert started.wait(timeout=10)
    quick = SyncRunner().run(Graph([double, add_one], name="quick"), {"x": 1}, event_processors=[recorder])
    assert recorder.reports == [(quick.run_id, 2)]
    release.set()
    worker.join(timeout=10)
    assert recorder.reports == [(quick.run_id, 2), (held[0].run_id, 2)]
    assert recorder.nodes == {}


def test_gathered_async_runs_sharing_a_processor_keep_separate_state():
    """Two runs interleaved on one event loop each get their own shutdown_run and node count."""
    recorder = PerRun()

    async def main() -> tuple:
        opened = asyncio.Event()

        @node(output_name="held")
        async def hold(doubled: int) -> int:
            await opened.wait()
            return doubled

        @node(output_name="result")
        async def release(doubled: int) -> int:
            opened.set()
            return doubled + 1

        runner = AsyncRunner()
        return await asyncio.gather(
            runner.run(Graph([double, hold], name="slow"), {"x": 1}, event_processors=[recorder]),
            runner.run(Graph([double, release], name="fast"), {"x": 1}, event_processors=[recorder]),
        )

    slow, fast = asyncio.run(main())
    assert sorted(recorder.reports) == sorted([(slow.run_id, 2), (fast.run_id, 2)])


def test_runs_on_a_thread_pool_runner_report_events_from_worker_threads_to_their_run():
    """Nodes running in pool threads are counted for their own top-level run."""
    recorder = PerRun()
    runner = ThreadPoolRunner()
    first = runner.run(Graph([double, add_one]), {"x": 1}, event_processors=[recorder])
    mapped = runner.map(Graph([double]), {"x": [1, 2]}, map_over="x", event_processors=[recorder])
    assert recorder.reports == [(first.run_id, 2), (mapped.run_id, 2)]


def test_plain_shutdown_processors_are_still_called_once():
    """A processor that defines only ``shutdown()`` (no base class at all) gets one call per run."""

    class Plain:
        calls = 0

        def on_event(self, event) -> None:
            pass

        def shutdown(self) -> None:
            Plain.calls += 1

    SyncRunner().run(Graph([double]), {"x": 1}, event_processors=[Plain()])  # type: ignore[list-item]
    asyncio.run(AsyncRunner().run(Graph([double]), {"x": 1}, event_processors=[Plain()]))  # type: ignore[list-item]
    assert Plain.calls == 2


def test_async_processors_get_the_run_id_under_async_runner():
    """``shutdown_run_async(run_id)`` is awaited; ``shutdown_async``-only processors still work."""
    seen: list[tuple[str, str]] = []

    class Keyed(AsyncEventProcessor):
        async def shutdown_run_async(self, run_id: str) -> None:
            await asyncio.sleep(0)
            seen.append(("keyed", run_id))

    class Flushing(AsyncEventProcessor):
        async def shutdown_async(self) -> None:
            await asyncio.sleep(0)
            seen.append(("flush", ""))

    class SyncKeyed(AsyncEventProcessor):
        def shutdown_run(self, run_id: str) -> None:
            seen.append(("sync-keyed", run_id))

    result = asyncio.run(
        AsyncRunner().run(Graph([double]), {"x": 1}, event_processors=[Keyed(), Flushing(), SyncKeyed()])
    )
    assert seen == [("keyed", result.run_id), ("flush", ""), ("sync-keyed", result.run_id)]
