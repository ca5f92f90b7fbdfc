"""A failing node's own exception propagates unchanged, with a note naming node, path and inputs."""

from __future__ import annotations

import pytest

from hypergraph import Graph, SyncRunner, node


class EmbedError(Exception):
    pass


@node(output_name="vector")
def embed(query: str, weights: list[int]) -> list[float]:
    raise EmbedError("model unavailable")


@node(output_name="query")
def clean(text: str) -> str:
    return text.strip()


@node(output_name="answer")
def use(vector: list[float]) -> str:
    return "ok"


def _note(exc: BaseException) -> str:
    notes = [n for n in getattr(exc, "__notes__", []) if n.startswith("hypergraph:")]
    assert len(notes) == 1, notes
    return notes[0]


def test_the_node_exception_propagates_unchanged_with_a_note():
    """The very exception the node raised escapes, noted with node, superstep and inputs."""
    raised: list[BaseException] = []

    @node(output_name="y")
    def boom(x: int) -> int:
        exc = KeyError("missing key")
        raised.append(exc)
        raise exc

    with pytest.raises(KeyError) as info:
        SyncRunner().run(Graph([boom], name="g"), x=41)
    assert info.value is raised[0]
    assert _note(info.value) == "hypergraph: node 'g/boom' failed in superstep 0 with inputs: x=41"


def test_note_gives_the_superstep_the_node_ran_in():
    """A node that runs after another is reported in its own superstep."""
    with pytest.raises(EmbedError) as info:
        SyncRunner().run(Graph([clean, embed]), text=" hi ", weights=[1])
    assert _note(info.value) == (
        "hypergraph: node 'embed' failed in superstep 1 with inputs: query='hi', weights=[1]"
    )


def test_nested_failure_names_the_whole_graph_path():
    """A node failing two graphs deep is named outer/retrieval/embed."""
    retrieval = Graph([embed], name="retrieval")
    outer = Graph([retrieval.as_node(), use], name="outer")
    with pytest.raises(EmbedError) as info:
        SyncRunner().run(outer, query="q", weights=[])
    assert "node 'outer/retrieval/embed' failed in superstep 0" in _note(info.value)


def test_renamed_graph_node_uses_the_node_name_in_the_path():
    """The path uses the name of the node that runs the nested graph, not the graph's name."""
    retrieval = Graph([embed], name="retrieval")
    outer = Graph([retrieval.as_node(name="search")], name="outer")
    with pytest.raises(EmbedError) as info:
        SyncRunner().run(outer, query="q", weights=[])
    assert "'outer/search/embed'" in _note(info.value)


def test_map_items_are_marked_in_the_path():
    """In a map, the item index appears on the segment that ran as that item."""
    inner = Graph([embed], name="retrieval")
    outer = Graph([inner.as_node().map_over("query")], name="outer")
    with pytest.raises(EmbedError) as info:
        SyncRunner().map(outer, {"query": [["a", "b"]], "weights": []}, map_over="query")
    assert "node 'outer[0]/retrieval[0]/embed'" in _note(info.value)


def test_long_inputs_are_cut_short():
    """A huge string and a huge list appear as bounded reprs; the whole note stays short."""
    with pytest.raises(EmbedError) as info:
        SyncRunner().run(Graph([embed]), query="x" * 100_000, weights=list(range(100_000)))
    note = _note(info.value)
    assert len(note) < 300
    assert "weights=[0, 1, 2, 3, 4, ...]" in note
    assert "query='xxx" in note and "xxx...xxx" in note


def test_inputs_whose_repr_fails_are_left_out():
    """An input whose __repr__ raises is skipped; the others are still shown."""

    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    @node(output_name="y")
    def boom(a: int, b: object) -> int:
        raise ValueError("bad")

    with pytest.raises(ValueError) as info:
        SyncRunner().run(Graph([boom]), a=1, b=Unprintable())
    assert _note(info.value).endswith("with inputs: a=1")


def test_continue_mode_keeps_the_note_on_the_result_error():
    """With error_handling='continue' the result's error carries the same note."""
    result = SyncRunner().run(Graph([embed]), query="q", weights=[], error_handling="continue")
    assert "node 'embed'" in _note(result.error)


def test_raising_one_exception_object_twice_gives_one_current_note():
    """A node that re-raises a shared exception object gets one note, rewritten for this run."""
    shared = EmbedError("shared")

    @node(output_name="y")
    def boom(x: int) -> int:
        raise shared

    graph = Graph([boom])
    for x in (1, 2):
        with pytest.raises(EmbedError):
            SyncRunner().run(graph, x=x)
    assert _note(shared).endswith("with inputs: x=2")


def test_a_successful_run_adds_no_note():
    """Nodes that succeed leave no trace: the result is plain."""
    result = SyncRunner().run(Graph([clean]), text=" a ")
    assert result["query"] == "a"
