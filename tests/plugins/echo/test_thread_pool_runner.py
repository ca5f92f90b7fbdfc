"""``ThreadPoolRunner``: the example third-party runner, built on ``hypergraph.runtime`` alone."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from hypergraph import END, AsyncRunner, EchoCache, Graph, SyncRunner, ThreadPoolRunner, node, route
from hypergraph.events import EventProcessor, NodeEndEvent, NodeStartEvent
from hypergraph.plugins import list_plugins

REQUEST = contextvars.ContextVar("REQUEST", default="none")


def meeting(parties: int) -> threading.Barrier:
    """A barrier that only opens when ``parties`` threads wait on it at the same time."""
    return threading.Barrier(parties, timeout=10)


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="total")
def add(doubled: int, y: int) -> int:
    return doubled + y


def pair_meeting_at(barrier: threading.Barrier) -> Graph:
    """Two independent nodes that each wait for the other at ``barrier``: they need two threads."""

    @node(output_name="left")
    def left(x: int) -> str:
        barrier.wait()
        return threading.current_thread().name

    @node(output_name="right")
    def right(x: int) -> str:
        barrier.wait()
        return threading.current_thread().name

    @node(output_name="both")
    def join(left: str, right: str) -> tuple[str, str]:
        return left, right

    return Graph([left, right, join], name="pair")


def test_thread_pool_runner_is_imported_from_hypergraph():
    """``from hypergraph import ThreadPoolRunner`` resolves the plugin's class through the registry."""
    assert ThreadPoolRunner.__module__ == "hypergraph_echo.threads"


def test_independent_nodes_of_a_superstep_run_in_separate_threads():
    """Two siblings meet at a two-party barrier, which only a parallel superstep can open."""
    result = ThreadPoolRunner().run(pair_meeting_at(meeting(2)), {"x": 1})
    left, right = result["both"]
    assert left != right
    assert threading.current_thread().name not in (left, right)


def test_max_workers_one_runs_siblings_one_at_a_time():
    """With a single worker both siblings run in the same pool thread, one after the other."""

    @node(output_name="a")
    def a(x: int) -> str:
        return threading.current_thread().name

    @node(output_name="b")
    def b(x: int) -> str:
        return threading.current_thread().name

    result = ThreadPoolRunner(max_workers=1).run(Graph([a, b]), {"x": 1})
    assert result["a"] == result["b"]


def test_nodes_see_the_callers_context_variables():
    """Each task runs in a copy of the caller's context, so a context variable reaches the node."""

    @node(output_name="seen")
    def read(x: int) -> str:
        return REQUEST.get()

    @node(output_name="also")
    def read_too(x: int) -> str:
        return REQUEST.get()

    token = REQUEST.set("req-42")
    try:
        result = ThreadPoolRunner().run(Graph([read, read_too]), {"x": 1})
    finally:
        REQUEST.reset(token)
    assert (result["seen"], result["also"]) == ("req-42", "req-42")


def test_values_equal_sync_runner_on_a_gated_loop_with_fan_out():
    """Commits happen in node order, so parallel siblings feeding a loop give SyncRunner's values."""

    @node(output_name="inc")
    def inc_of(x: int) -> int:
        return x

    @node(output_name="sq")
    def square(x: int) -> int:
        return x * x

    @node(output_name="count")
    def step(count: int, inc: int) -> int:
        return count + inc

    @route(targets=["step", END])
    def check(count: int) -> object:
        return END if count > 20 else "step"

    graph = Graph([inc_of, square, step, check], entrypoint=["inc_of", "square"])
    expected = SyncRunner().run(graph, {"count": 0, "x": 3})
    assert expected.values == {"inc": 3, "sq": 9, "count": 21}
    assert ThreadPoolRunner().run(graph, {"count": 0, "x": 3}).values == expected.values


def test_map_items_run_in_parallel_threads_and_keep_their_order():
    """Three map items meet at a three-party barrier; results come back in item order."""
    barrier = meeting(3)

    @node(output_name="y")
    def meet(x: int) -> int:
        barrier.wait()
        return x * 10

    results = ThreadPoolRunner().map(Graph([meet]), {"x": [1, 2, 3]}, map_over="x")
    assert results["y"] == [10, 20, 30]


def test_the_first_failure_in_node_order_is_raised_after_siblings_finish():
    """A failing sibling does not cut the others short; the run raises its error unchanged."""
    finished: list[str] = []

    @node(output_name="a")
    def fails(x: int) -> int:
        raise ValueError("a failed")

    @node(output_name="b")
    def works(x: int) -> int:
        finished.append("works")
        return x

    with pytest.raises(ValueError, match="a failed"):
        ThreadPoolRunner().run(Graph([fails, works]), {"x": 1})
    assert finished == ["works"]


def test_continue_mode_keeps_completed_siblings_values():
    """In continue mode the result is FAILED and holds the values of siblings that completed."""

    @node(output_name="a")
    def fails(x: int) -> int:
        raise ValueError("a failed")

    result = ThreadPoolRunner().run(Graph([fails, double]), {"x": 4}, error_handling="continue")
    assert result.status == "failed"
    assert result.values == {"doubled": 8}


def test_a_nested_graph_inside_a_worker_does_not_wait_for_a_free_thread():
    """With one worker, a nested graph's parallel superstep runs in that worker instead of deadlocking."""

    @node(output_name="a")
    def a(x: int) -> int:
        return x + 1

    @node(output_name="b")
    def b(x: int) -> int:
        return x + 2

    inner = Graph([a, b], name="inner")

    @node(output_name="other")
    def other(x: int) -> int:
        return x

    outer = Graph([inner.as_node(), other], name="outer")
    result = ThreadPoolRunner(max_workers=1).run(outer, {"x": 1})
    assert (result["a"], result["b"], result["other"]) == (2, 3, 1)


def test_runs_nested_under_sync_and_async_parents():
    """As a graph node's runner, it runs the inner graph for a SyncRunner and an AsyncRunner parent."""
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node(runner=ThreadPoolRunner()), add], name="outer")
    assert SyncRunner().run(outer, {"x": 5, "y": 1})["total"] == 11
    assert asyncio.run(AsyncRunner().run(outer, {"x": 5, "y": 1}))["total"] == 11


def test_cache_hits_skip_the_node_on_the_second_run(tmp_path):
    """With ``cache=``, the second run of a ``cache=True`` node is a hit and does not call it."""
    calls = tmp_path / "calls"  # a file, so the node's definition does not change between runs

    @node(output_name="doubled", cache=True)
    def counted(x: int) -> int:
        with calls.open("a") as log:
            log.write(f"{x}\n")
        return x * 2

    runner = ThreadPoolRunner(cache=EchoCache())
    assert runner.run(Graph([counted]), {"x": 3})["doubled"] == 6
    assert runner.run(Graph([counted]), {"x": 3})["doubled"] == 6
    assert calls.read_text().splitlines() == ["3"]


def test_processors_see_every_node_and_are_shut_down_once():
    """Events from worker threads reach the processor; ``shutdown()`` is called once per run."""

    class Recorder(EventProcessor):
        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.events: list[tuple[str, str]] = []
            self.shutdowns = 0

        def on_node_start(self, event: NodeStartEvent) -> None:
            with self.lock:
                self.events.append(("start", event.node_name))

        def on_node_end(self, event: NodeEndEvent) -> None:
            with self.lock:
                self.events.append(("end", event.node_name))

        def shutdown(self) -> None:
            self.shutdowns += 1

    recorder = Recorder()
    ThreadPoolRunner().run(pair_meeting_at(meeting(2)), {"x": 1}, event_processors=[recorder])
    assert sorted(recorder.events) == sorted(
        (kind, name) for kind in ("start", "end") for name in ("left", "right", "join")
    )
    assert recorder.events[-2:] == [("start", "join"), ("end", "join")]
    assert recorder.shutdowns == 1


def test_max_workers_must_be_a_positive_integer():
    """``max_workers=0`` is refused when the runner is built, naming the parameter."""
    with pytest.raises(ValueError, match="max_workers"):
        ThreadPoolRunner(max_workers=0)


def test_thread_pool_runner_declares_the_capabilities_it_registered():
    """The capabilities shown by ``list_plugins()`` are the ones the runner reports."""
    registered = next(
        r.capabilities for p in list_plugins() for r in p.registrations if r.name == "ThreadPoolRunner"
    )
    assert ThreadPoolRunner().capabilities == registered == SyncRunner().capabilities
