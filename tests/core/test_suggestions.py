"""Misspelled names get a "did you mean" pointing at the near name the caller meant."""

from __future__ import annotations

import pytest

from hypergraph import Graph, GraphConfigError, MissingInputError, SyncRunner, node


@node(output_name="embedding")
def embed(query: str) -> list[float]:
    return [1.0]


@node(output_name="answer")
def search(embeding: list[float]) -> str:  # the parameter is misspelled on purpose
    return "doc"


@node(output_name="reply")
def respond(query: str, temperature: float) -> str:
    return query


def test_missing_input_suggests_the_output_it_was_meant_to_receive():
    """A misspelled parameter names the output it is close to and how to wire them."""
    with pytest.raises(MissingInputError) as info:
        SyncRunner().run(Graph([embed, search]), query="q")
    assert info.value.missing == ["embeding"]
    message = str(info.value)
    assert "Did you mean 'embedding'? It is an output of 'embed'" in message
    assert ".rename_inputs(embeding='embedding')" in message


def test_missing_input_suggests_the_misspelled_value_that_was_passed():
    """A value passed under a near name is pointed at (after the usual ignoring warning)."""
    passed = "You passed 'temprature': did you mean 'temperature'"
    with (
        pytest.warns(UserWarning, match="Did you mean 'temperature' for 'temprature'"),
        pytest.raises(MissingInputError, match=passed),
    ):
        SyncRunner().run(Graph([respond]), {"query": "q", "temprature": 0.2})


def test_unknown_keyword_suggests_the_closest_input():
    """A keyword close to an input name suggests that input."""
    with pytest.raises(ValueError, match="Did you mean the input 'temperature'"):
        SyncRunner().run(Graph([respond]), query="q", temperatur=0.1)


def test_unknown_keyword_suggests_the_closest_run_option():
    """A keyword close to a run() option suggests the option."""
    with pytest.raises(ValueError, match="Did you mean the option 'max_iterations'"):
        SyncRunner().run(Graph([respond]), query="q", temperature=0.1, max_iteration=3)


def test_unknown_map_keyword_suggests_the_closest_map_option():
    """map() suggests its own options, e.g. map_mode."""
    with pytest.raises(ValueError, match="Did you mean the option 'map_mode'"):
        SyncRunner().map(
            Graph([respond]), {"query": ["q"]}, map_over="query", temperature=0.1, mapmode="zip"
        )


def test_keyword_far_from_everything_gets_no_suggestion():
    """A keyword that resembles nothing gets the plain list of accepted inputs."""
    with pytest.raises(ValueError) as info:
        SyncRunner().run(Graph([respond]), query="q", temperature=0.1, zzz=1)
    assert "Did you mean" not in str(info.value)


def test_bind_select_and_entrypoint_suggest_near_names():
    """bind(), select() and with_entrypoint() suggest the near input, output or node."""
    graph = Graph([respond])
    with pytest.raises(ValueError, match="Did you mean 'temperature'"):
        graph.bind(temperture=0.3)
    with pytest.raises(ValueError, match="Did you mean 'reply'"):
        graph.select("replies")
    with pytest.raises(GraphConfigError, match="Did you mean 'respond'"):
        graph.with_entrypoint("responde")
