"""DBOSAsyncRunner as a runner: capabilities, identity, versioning, serialization, installation."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

from hypergraph import (
    AsyncRunner,
    DBOSAsyncRunner,
    Graph,
    GraphChangedError,
    RetryPolicy,
    RunStatus,
    UnserializableValueError,
    interrupt,
    node,
)


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="lock")
def make_lock(doubled: int) -> Any:
    return threading.Lock()


@interrupt(output_name="decision")
def ask(doubled: int) -> None:
    return None


def test_capabilities_are_asyncrunners_plus_durable_execution() -> None:
    """DB1: the same flags as AsyncRunner, and ``supports_durable_execution``."""
    caps = DBOSAsyncRunner().capabilities
    assert caps.supports_durable_execution is True
    assert AsyncRunner().capabilities.supports_durable_execution is False
    assert set(caps.enabled()) == {*AsyncRunner().capabilities.enabled(), "supports_durable_execution"}


def test_fan_out_siblings_record_their_steps_in_node_order() -> None:
    """Step positions follow node order, whichever sibling finishes first."""
    from dbos import DBOS

    @node(output_name="slow")
    async def slow(x: int) -> int:
        await asyncio.sleep(0.05)
        return x

    @node(output_name="fast")
    async def fast(x: int) -> int:
        return x

    graph = Graph([slow, fast], name="fan_order")

    async def scenario() -> list[str]:
        await DBOSAsyncRunner().run(graph, {"x": 1}, workflow_id="fan-order")
        steps = await DBOS.list_workflow_steps_async("fan-order")
        return [step["function_name"] for step in steps]

    assert asyncio.run(scenario()) == ["slow@0.1", "fast@0.1"]


def test_a_nested_graph_is_a_child_workflow_named_by_its_node_path() -> None:
    """CP9: the parent records the child's start in task order; the child records its own steps."""
    from dbos import DBOS

    @node(output_name="slow")
    async def slow(x: int) -> int:
        await asyncio.sleep(0.05)
        return x

    @node(output_name="tripled")
    async def triple(x: int) -> int:
        return x * 3

    inner = Graph([triple], name="inner_triple")
    graph = Graph([slow, inner.as_node(name="inner")], name="nested_order")

    async def scenario() -> tuple[Any, list[tuple[str, Any]], list[str], Any]:
        result = await DBOSAsyncRunner().run(graph, {"x": 2}, workflow_id="nested-order")
        parent = await DBOS.list_workflow_steps_async("nested-order")
        child = await DBOS.list_workflow_steps_async("nested-order/inner")
        status = await DBOS.get_workflow_status_async("nested-order/inner")
        return (
            result,
            [(step["function_name"], step["child_workflow_id"]) for step in parent],
            [step["function_name"] for step in child],
            status,
        )

    result, parent, child, status = asyncio.run(scenario())
    assert (result["slow"], result["tripled"]) == (2, 6)
    assert parent == [("slow@0.1", None), ("hypergraph.run_child", "nested-order/inner")]
    assert child == ["triple@0.1"]
    assert status.status == "SUCCESS"
    assert status.parent_workflow_id == "nested-order"


def test_sibling_nested_graphs_run_concurrently_as_child_workflows() -> None:
    """Two nested graphs of one superstep are running at the same time (each waits for the other)."""
    both = asyncio.Barrier(2)

    @node(output_name="left_out")
    async def left_work(x: int) -> int:
        await asyncio.wait_for(both.wait(), timeout=20)  # only passes if the sibling runs too
        return x + 1

    @node(output_name="right_out")
    async def right_work(x: int) -> int:
        await asyncio.wait_for(both.wait(), timeout=20)
        return x + 2

    graph = Graph(
        [
            Graph([left_work], name="left_graph").as_node(name="left"),
            Graph([right_work], name="right_graph").as_node(name="right"),
        ],
        name="siblings",
    )

    async def scenario() -> Any:
        return await DBOSAsyncRunner().run(graph, {"x": 1}, workflow_id="nested-siblings-1")

    result = asyncio.run(scenario())
    assert (result["left_out"], result["right_out"]) == (2, 3)


def test_a_retried_node_is_one_step_recording_its_final_value(tmp_path: Any) -> None:
    """RetryPolicy runs inside the node's step: two failures, one recorded step with the success."""
    from dbos import DBOS

    attempts = tmp_path / "attempts"

    @node(output_name="y", retry=RetryPolicy(max_attempts=3, initial_delay=0, jitter=False))
    async def flaky(x: int) -> int:
        with attempts.open("a") as handle:
            handle.write("x")
        if len(attempts.read_text()) < 3:
            raise ConnectionError("not yet")
        return x + 1

    graph = Graph([flaky], name="flaky_step")

    async def scenario() -> tuple[Any, list[Any]]:
        result = await DBOSAsyncRunner().run(graph, {"x": 1}, workflow_id="flaky-step")
        return result, await DBOS.list_workflow_steps_async("flaky-step")

    result, steps = asyncio.run(scenario())
    assert result["y"] == 2 and attempts.read_text() == "xxx"
    assert [(step["function_name"], step["output"]) for step in steps] == [("flaky@0.1", 2)]


def test_a_structurally_changed_graph_cannot_resume_an_old_workflow() -> None:
    """DB5: same name, new structure, same workflow id: GraphChangedError naming it, suggesting a fork."""
    before = Graph([double, ask], name="versioned")

    @node(output_name="doubled")
    def double_again(x: int, factor: int = 2) -> int:
        return x * factor

    after = Graph([double_again, ask], name="versioned")

    async def scenario() -> None:
        runner = DBOSAsyncRunner()
        paused = await runner.run(before, {"x": 1}, workflow_id="versioned-1")
        assert paused.status is RunStatus.PAUSED
        with pytest.raises(GraphChangedError, match=r"'versioned-1'.*fork"):
            await runner.run(after, {"decision": "ok"}, workflow_id="versioned-1")

    asyncio.run(scenario())


def test_the_application_version_includes_the_graphs_structural_hash() -> None:
    """DB5: two programs whose graphs differ in structure launch DBOS under different versions."""
    code = textwrap.dedent(
        """
        import os, sys, tempfile
        from dbos._utils import GlobalParams
        from hypergraph import DBOSAsyncRunner, Graph, node
        @node(output_name="y")
        def f(x: int) -> int: return x
        @node(output_name="z")
        def g(y: int) -> int: return y
        graph = Graph([f, g] if sys.argv[1] == "two" else [f], name="app")
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "s.sqlite")
        DBOSAsyncRunner(system_database_url=url, graphs=[graph]).launch()
        print(GlobalParams.app_version, graph.structural_hash[:16])
        """
    )
    versions = []
    for variant in ("one", "two"):
        done = subprocess.run(
            [sys.executable, "-c", code, variant], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        versions.append(done.stdout.split())
    assert versions[0][0] != versions[1][0]


def test_an_unserializable_output_fails_its_node_naming_node_and_output() -> None:
    """DB8: a value DBOS cannot pickle is reported for its node and output, not as a DBOS internal."""
    graph = Graph([double, make_lock], name="locky")
    with pytest.raises(UnserializableValueError, match=r"output 'lock' of node 'make_lock'"):
        asyncio.run(DBOSAsyncRunner().run(graph, {"x": 1}))


def test_an_unserializable_input_is_rejected_before_the_run_starts() -> None:
    """DB8: run inputs are stored with the workflow, so an unpicklable one is named up front."""
    graph = Graph([double], name="lock_input")
    with pytest.raises(UnserializableValueError, match=r"Input 'x'"):
        asyncio.run(DBOSAsyncRunner().run(graph, {"x": threading.Lock()}))


def test_without_dbos_installed_the_runner_names_the_package_to_install() -> None:
    """Missing dependency: MissingPluginError naming hypergraph-dbos and the core extra."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["dbos"] = None  # as if dbos were not installed
        from hypergraph import DBOSAsyncRunner
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "MissingPluginError" in done.stderr
    assert "hypergraph-dbos" in done.stderr
    assert 'pip install "hypergraph-core[dbos]"' in done.stderr


def test_a_dbos_the_user_configured_is_used_and_launched_once(tmp_path: Any) -> None:
    """DB2: with DBOS already configured by the program, the runner launches that one, once."""
    database = tmp_path / "mine.sqlite"
    code = textwrap.dedent(
        f"""
        import asyncio
        from dbos import DBOS
        from hypergraph import DBOSAsyncRunner, Graph, node
        DBOS(config={{"name": "my-app", "system_database_url": "sqlite:///{database}",
                     "log_level": "WARNING"}})
        @node(output_name="y")
        def inc(x: int) -> int: return x + 1
        graph = Graph([inc], name="mine")
        async def main():
            first = await DBOSAsyncRunner().run(graph, {{"x": 1}}, workflow_id="mine-1")
            second = await DBOSAsyncRunner().run(graph, {{"x": 2}}, workflow_id="mine-2")
            steps = await DBOS.list_workflow_steps_async("mine-2")
            print(first.values["y"], second.values["y"], [s["function_name"] for s in steps])
        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "2 3 ['inc@0.1']"
    assert database.exists()
