"""The runner contract: behaviours every hypergraph runner must show, as pytest tests.

A runner plugin subclasses :class:`RunnerContract` in its own test suite and provides the
``runner`` fixture::

    from hypergraph.testing import RunnerContract

    class TestMyRunner(RunnerContract):
        @pytest.fixture
        def runner(self):
            return MyRunner()

Features a runner does not declare in its capabilities are not skipped: the contract checks
that the runner *rejects* them with ``IncompatibleRunnerError`` before running anything.
Runners whose ``run()`` returns a coroutine are driven with ``asyncio.run``.

Node policies (``retry=``, ``timeout=``) are part of the contract: flaky nodes count their
attempts in a file under ``tmp_path``, so runners that execute nodes in other processes are
checked too. The cache case builds its runner with :meth:`RunnerContract.with_cache`; override
it when your runner takes its cache another way.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from pathlib import Path
from typing import Any

import pytest

from hypergraph import (
    END,
    EventProcessor,
    FunctionNode,
    Graph,
    GraphNode,
    IfElseNode,
    IncompatibleRunnerError,
    InMemoryCache,
    MissingInputError,
    NodeTimeoutError,
    RetryPolicy,
    RouteNode,
    RunnerCapabilities,
    RunStatus,
    interrupt,
    node,
    route,
)
from hypergraph.events import (
    BaseEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeRetryEvent,
    NodeStartEvent,
    RunEndEvent,
    RunStartEvent,
)
from hypergraph.plugins import resolve_export

__all__ = ["RunnerContract"]


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


@node(output_name="count")
def increment(count: int) -> int:
    return count + 1


@route(targets=["increment", END])
def until_five(count: int) -> object:
    return END if count >= 5 else "increment"


@node(output_name="y")
def fails_on_two(x: int) -> int:
    if x == 2:
        raise ValueError("x must not be 2")
    return x


@node(output_name="numbers")
def count_up(n: int):  # type: ignore[no-untyped-def]
    yield from range(n)


@node(output_name="total")
def total_of(numbers: list[int]) -> int:
    return sum(numbers)


@node(output_name="slow")
async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


@node(output_name="draft")
def make_draft(query: str) -> str:
    return f"Draft: {query}"


@interrupt(output_name="decision")
def approval(draft: str) -> None:
    return None


@node(output_name="final")
def finalize(decision: str) -> str:
    return f"final:{decision}"


RETRY_AT_ONCE = RetryPolicy(max_attempts=3, initial_delay=0, jitter=False)


def _flaky(
    counter: Path, failures: int, *, cache: bool = False, retry: RetryPolicy | None = RETRY_AT_ONCE
) -> FunctionNode:
    """``fetch(x) -> y``: fails ``failures`` times, counting attempts as lines in ``counter``."""

    def fetch(x: int) -> int:
        with counter.open("a") as handle:
            handle.write("attempt\n")
        if _attempts(counter) <= failures:
            raise ConnectionError(f"flaky failure {_attempts(counter)}")
        return x * 10

    return FunctionNode(fetch, output_name="y", cache=cache, retry=retry)


def _attempts(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


class _Recorder(EventProcessor):
    """Keeps every event (from any thread) and counts ``shutdown()`` calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[BaseEvent] = []
        self.shutdowns = 0

    def on_event(self, event: BaseEvent) -> None:
        with self._lock:
            self.events.append(event)

    def shutdown(self) -> None:
        with self._lock:
            self.shutdowns += 1

    def check_nesting(self, outer: str, graph_node: str, inner: str, inner_node: str) -> None:
        """``inner``'s run hangs under the GraphNode's span, inside its start and end (EV3, EV4)."""
        events = self.events
        roots = [e for e in events if isinstance(e, RunStartEvent) and e.parent_span_id is None]
        assert [e.graph_name for e in roots] == [outer]
        gn_start = next(
            i for i, e in enumerate(events)
            if isinstance(e, NodeStartEvent) and e.node_name == graph_node
        )
        gn_span = events[gn_start].span_id
        assert events[gn_start].parent_span_id == roots[0].span_id
        gn_end = next(
            i for i, e in enumerate(events) if isinstance(e, NodeEndEvent) and e.span_id == gn_span
        )
        run_start = next(
            i for i, e in enumerate(events)
            if isinstance(e, RunStartEvent) and e.graph_name == inner
        )
        child = events[run_start]
        assert child.parent_span_id == gn_span
        assert child.run_id != roots[0].run_id
        run_end = next(
            i for i, e in enumerate(events)
            if isinstance(e, RunEndEvent) and e.span_id == child.span_id
        )
        node_start = next(
            i for i, e in enumerate(events)
            if isinstance(e, NodeStartEvent) and e.node_name == inner_node
        )
        assert events[node_start].parent_span_id == child.span_id
        assert gn_start < run_start < node_start < run_end < gn_end
        assert self.shutdowns == 1  # the nested runner leaves shutdown to the top (EV5)


def _builtin_runner(name: str) -> Any:
    """A fresh SyncRunner or AsyncRunner, resolved through the registry like any runner."""
    try:
        return resolve_export(name, "hypergraph")()
    except (AttributeError, ImportError) as error:  # MissingPluginError is an ImportError
        pytest.skip(f"{name} is not installed here ({error}); install hypergraph-async")


class RunnerContract:
    """Seed behaviours, checked against the ``runner`` fixture a subclass provides."""

    @pytest.fixture
    def runner(self) -> Any:  # pragma: no cover - must be overridden
        raise NotImplementedError("Provide a `runner` fixture returning the runner under test")

    # -- helpers ------------------------------------------------------------------------
    def with_cache(self, runner: Any, cache: Any) -> Any:
        """A runner like ``runner`` that caches in ``cache`` (override if yours differs)."""
        return type(runner)(cache=cache)

    @staticmethod
    def run(runner: Any, graph: Graph, values: dict[str, Any] | None = None, **options: Any) -> Any:
        outcome = runner.run(graph, values, **options)
        return asyncio.run(outcome) if runner.capabilities.returns_coroutine else outcome

    @staticmethod
    def map(runner: Any, graph: Graph, values: dict[str, Any], **options: Any) -> Any:
        outcome = runner.map(graph, values, **options)
        return asyncio.run(outcome) if runner.capabilities.returns_coroutine else outcome

    # -- interface ----------------------------------------------------------------------
    def test_declares_runner_capabilities(self, runner: Any) -> None:
        """A runner exposes a RunnerCapabilities value."""
        assert isinstance(runner.capabilities, RunnerCapabilities)

    def test_supports_the_basic_node_types(self, runner: Any) -> None:
        """Function nodes, nested graphs and both gate kinds are executable node types."""
        types = set(runner.supported_node_types)
        assert {FunctionNode, GraphNode} <= types
        if runner.capabilities.supports_gates:
            assert {RouteNode, IfElseNode} <= types

    def test_default_max_iterations_is_1000(self, runner: Any) -> None:
        """The default iteration budget for cyclic regions is 1000."""
        assert runner.default_max_iterations == 1000

    # -- run ----------------------------------------------------------------------------
    def test_quick_start_doubles(self, runner: Any) -> None:
        """The quick start: one node, one input, one output."""
        result = self.run(runner, Graph([double]), {"x": 5})
        assert result["doubled"] == 10
        assert result.status == RunStatus.COMPLETED

    def test_outputs_flow_to_inputs_by_name(self, runner: Any) -> None:
        """An output named like a parameter feeds that parameter."""
        result = self.run(runner, Graph([double, add_one]), {"x": 5})
        assert dict(result.values) == {"doubled": 10, "result": 11}

    def test_keyword_inputs_merge_with_values(self, runner: Any) -> None:
        """Inputs may be given as keyword shorthand."""
        assert self.run(runner, Graph([double]), x=4)["doubled"] == 8

    def test_missing_input_is_reported_before_running(self, runner: Any) -> None:
        """A required input that is absent raises MissingInputError naming it."""
        with pytest.raises(MissingInputError, match="'x'"):
            self.run(runner, Graph([double]), {})

    def test_node_failure_reraises_the_original_exception(self, runner: Any) -> None:
        """In raise mode a node's own exception propagates, unwrapped."""
        with pytest.raises(ValueError, match="x must not be 2"):
            self.run(runner, Graph([fails_on_two]), {"x": 2})

    def test_continue_mode_returns_a_failed_result(self, runner: Any) -> None:
        """In continue mode the result is FAILED and carries the exception."""
        result = self.run(runner, Graph([fails_on_two]), {"x": 2}, error_handling="continue")
        assert result.status == RunStatus.FAILED
        assert isinstance(result.error, ValueError)

    def test_generators_are_drained_into_lists(self, runner: Any) -> None:
        """A generator node's value is the list of what it yielded."""
        result = self.run(runner, Graph([count_up, total_of]), {"n": 4})
        assert result["numbers"] == [0, 1, 2, 3]
        assert result["total"] == 6

    def test_nested_graph_runs_as_a_node(self, runner: Any) -> None:
        """A graph wrapped with as_node() is one node of its parent."""
        inner = Graph([double], name="inner")
        result = self.run(runner, Graph([inner.as_node(), add_one], name="outer"), {"x": 3})
        assert result["result"] == 7

    def test_processors_see_run_and_node_events(self, runner: Any) -> None:
        """Typed on_* methods of a plain EventProcessor subclass are called."""
        seen: list[str] = []

        class Recorder(EventProcessor):
            def on_run_start(self, event: RunStartEvent) -> None:
                seen.append("run_start")

            def on_node_start(self, event: NodeStartEvent) -> None:
                seen.append(event.node_name)

            def on_run_end(self, event: RunEndEvent) -> None:
                seen.append("run_end")

        if runner.capabilities.supports_distributed and not runner.capabilities.supports_cycles:
            return  # columnar runners ignore processors by design (SPEC EV10)
        self.run(runner, Graph([double]), {"x": 1}, event_processors=[Recorder()])
        assert seen == ["run_start", "double", "run_end"]

    # -- features gated by capabilities ---------------------------------------------------
    def test_cycles_run_or_are_rejected(self, runner: Any) -> None:
        """A counting loop reaches 5, or the runner rejects cycles up front."""
        graph = Graph([increment, until_five], entrypoint="increment")
        if not runner.capabilities.supports_cycles:
            with pytest.raises(IncompatibleRunnerError, match="cycles"):
                self.run(runner, graph, {"count": 0})
            return
        assert self.run(runner, graph, {"count": 0})["count"] == 5

    def test_async_nodes_run_or_are_rejected(self, runner: Any) -> None:
        """An async node runs, or the runner rejects it and suggests AsyncRunner."""
        graph = Graph([async_double])
        if not runner.capabilities.supports_async_nodes:
            with pytest.raises(IncompatibleRunnerError, match="async nodes"):
                self.run(runner, graph, {"x": 2})
            return
        assert self.run(runner, graph, {"x": 2})["slow"] == 4

    def test_interrupts_pause_or_are_rejected(self, runner: Any) -> None:
        """An interrupt pauses the run, or the runner rejects it up front."""
        graph = Graph([make_draft, approval, finalize])
        if not runner.capabilities.supports_interrupts:
            with pytest.raises(IncompatibleRunnerError, match="interrupts"):
                self.run(runner, graph, {"query": "hi"})
            return
        paused = self.run(runner, graph, {"query": "hi"})
        assert paused.status == RunStatus.PAUSED
        assert paused.pause.response_key == "decision"
        resumed = self.run(runner, graph, {"query": "hi", "decision": "yes"})
        assert resumed["final"] == "final:yes"

    # -- map ----------------------------------------------------------------------------
    def test_map_runs_once_per_item(self, runner: Any) -> None:
        """map() over a list gives one result per item, in order."""
        results = self.map(runner, Graph([double]), {"x": [1, 2, 3]}, map_over="x")
        assert [r["doubled"] for r in results] == [2, 4, 6]

    def test_map_product_mode_combines_every_pair(self, runner: Any) -> None:
        """product mode runs the Cartesian product, first name outermost."""

        @node(output_name="sum")
        def add(a: int, b: int) -> int:
            return a + b

        results = self.map(
            runner, Graph([add]), {"a": [1, 2], "b": [10, 20]}, map_over=["a", "b"],
            map_mode="product",
        )
        assert [r["sum"] for r in results] == [11, 21, 12, 22]

    def test_map_continue_keeps_failures_in_place(self, runner: Any) -> None:
        """In continue mode failed items are FAILED results at their index."""
        results = self.map(
            runner, Graph([fails_on_two]), {"x": [1, 2, 3]}, map_over="x",
            error_handling="continue",
        )
        assert [r.status for r in results] == [
            RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.COMPLETED,
        ]
        assert results["y"] == [1, None, 3]
        assert results.status == RunStatus.FAILED

    # -- node policies: retries and timeouts ----------------------------------------------
    def test_a_flaky_node_is_retried_until_it_succeeds(self, runner: Any, tmp_path: Path) -> None:
        """A node failing twice under max_attempts=3 completes with its value."""
        counter = tmp_path / "attempts"
        result = self.run(runner, Graph([_flaky(counter, 2)]), {"x": 4})
        assert result["y"] == 40
        assert _attempts(counter) == 3

    def test_exhausted_retries_raise_the_last_error_with_notes(
        self, runner: Any, tmp_path: Path
    ) -> None:
        """After max_attempts the node's last exception propagates, one note per attempt."""
        counter = tmp_path / "attempts"
        with pytest.raises(ConnectionError, match="flaky failure 3") as caught:
            self.run(runner, Graph([_flaky(counter, 5)]), {"x": 1})
        assert _attempts(counter) == 3
        attempts = [n for n in caught.value.__notes__ if n.startswith("  attempt ")]
        assert attempts[-1] == "  attempt 3: ConnectionError: flaky failure 3"

    def test_errors_outside_retry_on_fail_at_once(self, runner: Any, tmp_path: Path) -> None:
        """A failure the policy does not cover is not retried."""
        counter = tmp_path / "attempts"
        policy = RetryPolicy(max_attempts=3, initial_delay=0, retry_on=(KeyError,))
        with pytest.raises(ConnectionError):
            self.run(runner, Graph([_flaky(counter, 5, retry=policy)]), {"x": 1})
        assert _attempts(counter) == 1

    def test_a_graph_wide_retry_default_applies(self, runner: Any, tmp_path: Path) -> None:
        """Graph(..., retry=...) retries nodes that declare no policy of their own."""
        counter = tmp_path / "attempts"
        graph = Graph([_flaky(counter, 1, retry=None)], retry=RETRY_AT_ONCE)
        assert self.run(runner, graph, {"x": 2})["y"] == 20

    def test_retries_are_events_inside_one_node_execution(
        self, runner: Any, tmp_path: Path
    ) -> None:
        """NodeStart, a NodeRetry per failed attempt (in order), then one NodeEnd."""
        seen: list[tuple[str, int]] = []

        class Recorder(EventProcessor):
            def on_node_start(self, event: NodeStartEvent) -> None:
                seen.append(("start", 0))

            def on_node_retry(self, event: NodeRetryEvent) -> None:
                seen.append(("retry", event.attempt))

            def on_node_end(self, event: NodeEndEvent) -> None:
                seen.append(("end", 0))

            def on_node_error(self, event: NodeErrorEvent) -> None:
                seen.append(("error", 0))

        if runner.capabilities.supports_distributed and not runner.capabilities.supports_cycles:
            return  # columnar runners ignore processors by design (SPEC EV10)
        counter = tmp_path / "attempts"
        self.run(runner, Graph([_flaky(counter, 2)]), {"x": 1}, event_processors=[Recorder()])
        assert seen == [("start", 0), ("retry", 1), ("retry", 2), ("end", 0)]

    def test_a_retried_cached_node_stores_only_its_success(
        self, runner: Any, tmp_path: Path
    ) -> None:
        """The value that finally succeeded is cached; the next run does not call the node."""
        counter = tmp_path / "attempts"
        cached = self.with_cache(runner, InMemoryCache())
        graph = Graph([_flaky(counter, 1, cache=True)])
        assert self.run(cached, graph, {"x": 3})["y"] == 30
        assert self.run(cached, graph, {"x": 3})["y"] == 30
        assert _attempts(counter) == 2

    def test_gates_retry_like_nodes(self, runner: Any, tmp_path: Path) -> None:
        """A routing function that fails once is retried and its decision applied."""
        if not runner.capabilities.supports_gates:
            return
        counter = tmp_path / "attempts"

        @node(output_name="answer")
        def answer(x: int) -> int:
            return x

        def choose(x: int) -> object:
            with counter.open("a") as handle:
                handle.write("attempt\n")
            if _attempts(counter) == 1:
                raise ConnectionError("flaky gate")
            return "answer"

        gate = RouteNode(choose, ["answer", END], retry=RETRY_AT_ONCE)
        assert self.run(runner, Graph([gate, answer]), {"x": 9})["answer"] == 9
        assert _attempts(counter) == 2

    def test_async_node_timeouts_raise_node_timeout_error(self, runner: Any) -> None:
        """An async node hanging past timeout= fails with NodeTimeoutError naming it."""
        if not runner.capabilities.supports_async_nodes:
            return  # test_async_nodes_run_or_are_rejected covers the rejection

        @node(output_name="y", timeout=0.05)
        async def hangs(x: int) -> int:
            await asyncio.Event().wait()
            return x

        with pytest.raises(NodeTimeoutError, match=r"'hangs' timed out after 0\.05 s"):
            self.run(runner, Graph([hangs]), {"x": 1})

    def test_timed_out_attempts_are_retried(self, runner: Any, tmp_path: Path) -> None:
        """A timeout is retried when retry_on covers TimeoutError."""
        if not runner.capabilities.supports_async_nodes:
            return
        counter = tmp_path / "attempts"
        policy = RetryPolicy(max_attempts=2, initial_delay=0, retry_on=(TimeoutError,))

        @node(output_name="y", timeout=0.05, retry=policy)
        async def hangs_once(x: int) -> int:
            with counter.open("a") as handle:
                handle.write("attempt\n")
            if _attempts(counter) == 1:
                await asyncio.Event().wait()
            return x

        assert self.run(runner, Graph([hangs_once]), {"x": 6})["y"] == 6
        assert _attempts(counter) == 2

    def test_a_node_backing_off_holds_no_concurrency_slot(
        self, runner: Any, tmp_path: Path
    ) -> None:
        """With max_concurrency=1 a sibling runs while a flaky node waits out its backoff."""
        if not runner.capabilities.supports_async_nodes:
            return
        if "max_concurrency" not in inspect.signature(runner.run).parameters:
            return  # no concurrency budget to share
        log = tmp_path / "order"
        policy = RetryPolicy(max_attempts=2, initial_delay=0.05, jitter=False)

        def record(name: str) -> int:
            with log.open("a") as handle:
                handle.write(name + "\n")
            return log.read_text().splitlines().count(name)

        @node(output_name="a", retry=policy)
        async def flaky(x: int) -> int:
            if record("flaky") == 1:
                raise ConnectionError("once")
            return x

        @node(output_name="b")
        async def steady(x: int) -> int:
            record("steady")
            return x

        result = self.run(runner, Graph([flaky, steady]), {"x": 1}, max_concurrency=1)
        assert (result["a"], result["b"]) == (1, 1)
        order = log.read_text().splitlines()
        assert sorted(order) == ["flaky", "flaky", "steady"]
        assert order[-1] == "flaky"  # steady did not wait for the retry to finish

    # -- nesting (SPEC R12, R14) ----------------------------------------------------------
    def _observes_events(self, runner: Any) -> bool:
        caps = runner.capabilities
        return not (caps.supports_distributed and not caps.supports_cycles)  # EV10

    @pytest.mark.parametrize("parent_name", ["SyncRunner", "AsyncRunner"])
    def test_runs_nested_under_sync_and_async_parents(self, runner: Any, parent_name: str) -> None:
        """As a graph node's runner, it runs the inner graph for a Sync or Async parent."""
        parent = _builtin_runner(parent_name)
        inner = Graph([double], name="inner")
        outer = Graph([inner.as_node(runner=runner), add_one], name="outer")
        recorder = _Recorder()
        result = self.run(parent, outer, {"x": 3}, event_processors=[recorder])
        assert result.status == RunStatus.COMPLETED
        assert dict(result.values) == {"doubled": 6, "result": 7}
        if self._observes_events(runner):
            recorder.check_nesting("outer", "inner", "inner", "double")

    @pytest.mark.parametrize("child_name", ["SyncRunner", "AsyncRunner"])
    def test_runs_sync_and_async_children_nested_in_its_graph(
        self, runner: Any, child_name: str
    ) -> None:
        """A graph node naming a Sync or Async runner runs on it inside this runner's run."""
        child = _builtin_runner(child_name)
        inner = Graph([double], name="inner")
        outer = Graph([inner.as_node(runner=child), add_one], name="outer")
        recorder = _Recorder()
        result = self.run(runner, outer, {"x": 3}, event_processors=[recorder])
        assert result.status == RunStatus.COMPLETED
        assert dict(result.values) == {"doubled": 6, "result": 7}
        if self._observes_events(runner):
            recorder.check_nesting("outer", "inner", "inner", "double")

    def test_nested_graphs_two_levels_deep_run_on_it(self, runner: Any) -> None:
        """Graphs nested inside nested graphs (no runner named) run on this runner too."""
        innermost = Graph([double], name="innermost")
        middle = Graph([innermost.as_node(), add_one], name="middle")
        outer = Graph([middle.as_node()], name="outer")
        recorder = _Recorder()
        result = self.run(runner, outer, {"x": 4}, event_processors=[recorder])
        assert result["result"] == 9
        if self._observes_events(runner):
            recorder.check_nesting("outer", "middle", "middle", "innermost")
