"""A third-party runner registered by hypergraph-echo behaves like a first-class hypergraph runner."""

from __future__ import annotations

from hypergraph import EchoRunner, Graph, SyncRunner, node
from hypergraph.plugins import list_plugins


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="total")
def add(doubled: int, y: int) -> int:
    return doubled + y


def test_echo_runner_is_imported_from_hypergraph():
    """``from hypergraph import EchoRunner`` resolves the plugin's class through the registry."""
    assert EchoRunner.__module__ == "hypergraph_echo.runner"


def test_echo_runner_runs_a_graph():
    """``EchoRunner`` runs a graph and returns the same result ``SyncRunner`` would."""
    result = EchoRunner().run(Graph([double]), {"x": 5})
    assert result["doubled"] == 10
    assert result.status == "completed"


def test_echo_runner_records_graph_name_and_inputs():
    """Each run is recorded with the graph's name and every input value, dict or keyword."""
    runner = EchoRunner()
    runner.run(Graph([double, add], name="sum"), {"x": 5}, y=1)
    assert [(c.method, c.graph_name, dict(c.inputs)) for c in runner.calls] == [
        ("run", "sum", {"x": 5, "y": 1})
    ]


def test_echo_runner_options_are_not_recorded_as_inputs():
    """Run options such as ``error_handling`` are passed on, not mistaken for graph inputs."""
    runner = EchoRunner()
    runner.run(Graph([double]), {"x": 2}, error_handling="continue")
    assert dict(runner.calls[0].inputs) == {"x": 2}


def test_echo_runner_maps_over_inputs():
    """``map`` runs one item per input value and is recorded once."""
    runner = EchoRunner()
    results = runner.map(Graph([double]), {"x": [1, 2, 3]}, map_over="x")
    assert results["doubled"] == [2, 4, 6]
    assert [c.method for c in runner.calls] == ["map"]


def test_echo_runner_declares_the_capabilities_it_registered():
    """The capabilities shown by ``list_plugins()`` are the ones the runner reports."""
    registered = next(
        r.capabilities for p in list_plugins() for r in p.registrations if r.name == "EchoRunner"
    )
    assert EchoRunner().capabilities == registered == SyncRunner().capabilities


def test_echo_runner_runs_a_nested_graph_for_a_sync_parent():
    """A graph node with ``runner=EchoRunner()`` is executed by it inside a ``SyncRunner`` run."""
    echo = EchoRunner()
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node(runner=echo), add], name="outer")
    result = SyncRunner().run(outer, {"x": 5, "y": 1})
    assert result["total"] == 11
    assert [(c.graph_name, dict(c.inputs)) for c in echo.calls] == [("inner", {"x": 5})]


def test_echo_runner_runs_nested_graphs_itself():
    """As the outer runner, ``EchoRunner`` runs nested graphs too (through its ``SyncRunner``)."""
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node(), add], name="outer")
    result = EchoRunner().run(outer, {"x": 5, "y": 1})
    assert result["total"] == 11
