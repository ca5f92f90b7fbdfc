"""Nested graphs: inner binds by reference, namespaced ports, scoped outputs, types, hashes."""

from __future__ import annotations

import threading

import pytest

from hypergraph import Graph, SyncRunner, node
from hypergraph.exceptions import GraphConfigError


class Embedder:
    """A client-like object: holds a lock (not deep-copyable) and counts its calls."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls = 0

    def embed(self, text: str) -> list[float]:
        with self.lock:
            self.calls += 1
        return [float(len(text))]


@node(output_name="vector")
def embed(query: str, embedder: Embedder) -> list[float]:
    return embedder.embed(query)


def retrieval(embedder: Embedder) -> Graph:
    return Graph([embed], name="retrieval").bind(embedder=embedder)


# -- item 3: inner binds ---------------------------------------------------------------------


def test_inner_bind_is_passed_by_reference_so_mutations_persist() -> None:
    """The bound embedder is the same object in every run, not a deep copy."""
    embedder = Embedder()
    outer = Graph([retrieval(embedder).as_node()])
    runner = SyncRunner()
    runner.run(outer, {"query": "hi"})
    runner.run(outer, {"query": "hello"})
    assert embedder.calls == 2


def test_inner_bind_holding_an_rlock_is_accepted() -> None:
    """A bound object that cannot be deep-copied runs fine through a GraphNode."""
    result = SyncRunner().run(Graph([retrieval(Embedder()).as_node()]), {"query": "abc"})
    assert result["vector"] == [3.0]


def test_inner_binds_show_in_the_outer_inputs_bound() -> None:
    """outer.inputs.bound lists inner binds under their projected port names."""
    embedder = Embedder()
    flat = Graph([retrieval(embedder).as_node()])
    spaced = Graph([retrieval(embedder).as_node(namespaced=True)])
    assert flat.inputs.bound == {"embedder": embedder}
    assert spaced.inputs.bound == {"retrieval.embedder": embedder}
    assert spaced.inputs.required == ("retrieval.query",)


def test_inner_bind_on_a_namespaced_node_is_used_by_reference() -> None:
    """A namespaced GraphNode passes its inner bind through unchanged as well."""
    embedder = Embedder()
    outer = Graph([retrieval(embedder).as_node(namespaced=True)])
    result = SyncRunner().run(outer, {"retrieval.query": "hey"})
    assert result["retrieval.vector"] == [3.0] and embedder.calls == 1


def test_a_runtime_value_overriding_an_inner_bind_warns() -> None:
    """Giving a bound name at run time replaces the inner bind, with one UserWarning."""
    bound, given = Embedder(), Embedder()
    outer = Graph([retrieval(bound).as_node()])
    with pytest.warns(UserWarning, match="'embedder'") as caught:
        SyncRunner().run(outer, {"query": "hi", "embedder": given})
    assert len(caught) == 1
    assert (given.calls, bound.calls) == (1, 0)


def test_an_outer_bind_overriding_an_inner_bind_warns() -> None:
    """outer.bind(name=...) over an inner bind warns once and wins."""
    bound, given = Embedder(), Embedder()
    outer = Graph([retrieval(bound).as_node()])
    with pytest.warns(UserWarning, match="'embedder'"):
        rebound = outer.bind(embedder=given)
    SyncRunner().run(rebound, {"query": "hi"})
    assert (given.calls, bound.calls) == (1, 0)


# -- item 4: namespaced ports --------------------------------------------------------------


@node(output_name="out")
def shout(x: str) -> str:
    return x.upper()


inner_graph = Graph([shout], name="inner")


def test_nested_dict_values_reach_a_namespaced_graph_node() -> None:
    """{"inner": {"x": ...}} addresses port inner.x of a namespaced GraphNode (G14)."""
    outer = Graph([inner_graph.as_node(namespaced=True)])
    assert SyncRunner().run(outer, {"inner": {"x": "hi"}})["inner.out"] == "HI"


def test_map_over_accepts_the_local_name_of_a_namespaced_port() -> None:
    """map_over("x") on a namespaced node maps port inner.x."""
    gn = inner_graph.as_node(namespaced=True).map_over("x")
    assert gn.map_config is not None and gn.map_config[0] == ["inner.x"]
    result = SyncRunner().run(Graph([gn]), {"inner.x": ["a", "b"]})
    assert result["inner.out"] == ["A", "B"]


def test_rename_inputs_accepts_the_local_name_of_a_namespaced_port() -> None:
    """rename_inputs(x="text") renames port inner.x."""
    gn = inner_graph.as_node(namespaced=True).rename_inputs(x="text")
    assert gn.inputs == ("text",)
    assert SyncRunner().run(Graph([gn]), {"text": "yo"})["inner.out"] == "YO"


def test_with_name_moves_namespaced_ports_to_the_new_prefix() -> None:
    """Two namespaced copies of one subgraph, renamed, have distinct ports and both run."""
    a = inner_graph.as_node(namespaced=True).with_name("a")
    b = inner_graph.as_node(namespaced=True).with_name("b")
    assert a.inputs == ("a.x",) and b.outputs == ("b.out",)
    result = SyncRunner().run(Graph([a, b]), {"a.x": "p", "b": {"x": "q"}})
    assert (result["a.out"], result["b.out"]) == ("P", "Q")


# -- item 5: entrypoint scope ----------------------------------------------------------------


@node(output_name="draft")
def write(topic: str) -> str:
    return f"draft on {topic}"


@node(output_name="final")
def polish(draft: str) -> str:
    return draft + "!"


def test_graph_node_of_an_entrypoint_scoped_graph_exposes_only_active_outputs() -> None:
    """Outputs of nodes upstream of the entrypoint are not ports, so no false self-loop."""
    scoped = Graph([write, polish], name="edit", entrypoint="polish")
    gn = scoped.as_node()
    assert gn.outputs == ("final",)
    outer = Graph([gn])
    assert not outer.has_cycles
    assert SyncRunner().run(outer, {"draft": "d"}).values == {"final": "d!"}


# -- item 6: strict types across a GraphNode ---------------------------------------------------


@node(output_name="x")
def make_text() -> str:
    return "a"


def test_strict_types_checks_every_inner_consumer_of_a_port() -> None:
    """A str producer feeding inner consumers typed str and int is rejected, as when flat."""

    @node(output_name="a")
    def takes_str(x: str) -> str:
        return x

    @node(output_name="b")
    def takes_int(x: int) -> int:
        return x

    inner = Graph([takes_str, takes_int], name="inner")
    with pytest.raises(GraphConfigError, match="takes_int"):
        Graph([make_text, inner.as_node()], strict_types=True)
    with pytest.raises(GraphConfigError, match="takes_int"):
        Graph([make_text, takes_str, takes_int], strict_types=True)


def test_strict_types_unions_exclusive_inner_producers() -> None:
    """Exclusive inner producers int and str make the port int | str, which str rejects."""
    from hypergraph import ifelse

    @ifelse("as_int", "as_str")
    def pick(flag: bool) -> bool:
        return flag

    @node(output_name="v")
    def as_int(flag: bool) -> int:
        return 1

    @node(output_name="v")
    def as_str(flag: bool) -> str:
        return "1"

    @node(output_name="w")
    def consume(v: str) -> str:
        return v

    inner = Graph([pick, as_int, as_str], name="inner")
    with pytest.raises(GraphConfigError, match="expects str"):
        Graph([inner.as_node(), consume], strict_types=True)


# -- item 7: GraphNode.definition_hash -------------------------------------------------------


def test_graph_node_definition_hash_depends_on_name_and_namespacing() -> None:
    """Renaming or namespacing a GraphNode changes its definition_hash."""
    plain = inner_graph.as_node()
    assert plain.definition_hash != plain.with_name("other").definition_hash
    assert plain.definition_hash != inner_graph.as_node(namespaced=True).definition_hash
    assert plain.definition_hash == inner_graph.as_node().definition_hash

