"""AsyncRunner's public surface: aliases, capabilities, node types, options (SPEC R1-R6, R15, TC15, CV4)."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from hypergraph import (
    AsyncRunner,
    BaseRunner,
    Graph,
    InterruptNode,
    RunnerCapabilities,
    RunStatus,
    SyncRunner,
    node,
)


@node(output_name="doubled")
async def double(x: int) -> int:
    return x * 2


def test_async_runner_resolves_from_the_plugin_package() -> None:
    """CV4/PL2: ``from hypergraph import AsyncRunner`` is the plugin's class."""
    import hypergraph_async

    assert AsyncRunner is hypergraph_async.AsyncRunner
    assert issubclass(AsyncRunner, BaseRunner)


def test_run_returns_a_coroutine() -> None:
    """R3: run() must be awaited; it returns a coroutine that resolves to a RunResult."""
    outcome = AsyncRunner().run(Graph([double]), {"x": 1})
    assert inspect.iscoroutine(outcome)
    assert asyncio.run(outcome)["doubled"] == 2


def test_arun_is_an_alias_of_run() -> None:
    """R3: arun has run's signature and gives the same result."""
    runner = AsyncRunner()
    assert inspect.signature(AsyncRunner.arun) == inspect.signature(AsyncRunner.run)
    assert asyncio.run(runner.arun(Graph([double]), {"x": 3}, max_concurrency=2))["doubled"] == 6


def test_amap_is_an_alias_of_map() -> None:
    """R3: amap has map's signature and gives the same results."""
    assert inspect.signature(AsyncRunner.amap) == inspect.signature(AsyncRunner.map)
    results = asyncio.run(AsyncRunner().amap(Graph([double]), {"x": [1, 2]}, map_over="x"))
    assert results["doubled"] == [2, 4]


def test_run_and_map_accept_max_concurrency() -> None:
    """R3: max_concurrency is a keyword-only option of run() and map(), default None."""
    for method in (AsyncRunner.run, AsyncRunner.map):
        parameter = inspect.signature(method).parameters["max_concurrency"]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default is None


def test_capabilities_values() -> None:
    """R4: async nodes, interrupts, streaming and returns_coroutine are on; distribution is off."""
    assert AsyncRunner().capabilities == RunnerCapabilities(
        supports_cycles=True,
        supports_gates=True,
        supports_interrupts=True,
        supports_async_nodes=True,
        supports_streaming=True,
        supports_distributed=False,
        returns_coroutine=True,
    )


def test_tc15_capability_flags_and_sync_equality() -> None:
    """TC15: interrupts and streaming are True for AsyncRunner; SyncRunner equals the seeds' printout."""
    caps = AsyncRunner().capabilities
    assert caps.supports_interrupts is True
    assert caps.supports_streaming is True
    assert SyncRunner().capabilities == RunnerCapabilities(
        supports_cycles=True, supports_async_nodes=False, supports_streaming=False,
        returns_coroutine=False,
    )


def test_tc15_supported_node_types_differ_by_interrupt_node() -> None:
    """TC15/R6: AsyncRunner supports exactly SyncRunner's node types plus InterruptNode."""
    assert AsyncRunner().supported_node_types - SyncRunner().supported_node_types == {InterruptNode}
    assert SyncRunner().supported_node_types <= AsyncRunner().supported_node_types


def test_default_max_iterations_is_1000() -> None:
    """R6: AsyncRunner's default iteration budget is 1000."""
    assert AsyncRunner().default_max_iterations == 1000


def test_sync_runner_has_no_iter() -> None:
    """GN7/R15: iter() is AsyncRunner-only."""
    assert hasattr(AsyncRunner(), "iter")
    assert not hasattr(SyncRunner(), "iter")


def test_input_named_like_an_option_is_passed_via_values() -> None:
    """X15: an input literally named max_concurrency reaches the node when given in values={...}."""

    @node(output_name="y")
    def f(max_concurrency: int) -> int:
        return max_concurrency

    result = asyncio.run(AsyncRunner().run(Graph([f]), values={"max_concurrency": 3}))
    assert result["y"] == 3


def test_max_iterations_is_not_a_map_option() -> None:
    """MP1: max_iterations passed to map() is a ValueError pointing to run()."""
    with pytest.raises(ValueError, match="run"):
        asyncio.run(AsyncRunner().map(Graph([double]), {"x": [1]}, map_over="x", max_iterations=5))


def test_empty_map_completes_immediately() -> None:
    """MP9: an empty batch is an empty COMPLETED MapResult."""
    results = asyncio.run(AsyncRunner().map(Graph([double]), {"x": []}, map_over="x"))
    assert len(results) == 0
    assert results.status == RunStatus.COMPLETED
    assert results.run_id is None


def test_run_validates_before_returning_the_coroutine_result() -> None:
    """X16: a runtime select= is rejected with a ValueError that says to configure the graph."""
    with pytest.raises(ValueError, match="select"):
        asyncio.run(AsyncRunner().run(Graph([double]), {"x": 1}, select=["doubled"]))
