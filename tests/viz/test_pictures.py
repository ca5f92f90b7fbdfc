"""Graph pictures: Mermaid and DOT text show every node, edge, gate, input and nested box."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hypergraph import END, Graph, MissingGraphvizError, ifelse, interrupt, node, route

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@node(output_name="query_vector")
def embed(query: str) -> list[float]:
    return [float(len(query))]


@node(output_name=("best_doc", "score"))
def retrieve(query_vector: list[float], top_k: int = 3) -> tuple[str, float]:
    return "doc", query_vector[0]


@route(targets={"answer": "good match", "fallback": "weak match", END: "nothing"})
def decide(score: float) -> object:
    return "answer"


@node(output_name="reply")
def answer(best_doc: str) -> str:
    return best_doc


@node(output_name="reply")
def fallback(query: str) -> str:
    return query


def rag_graph() -> Graph:
    retrieval = Graph([embed, retrieve], name="retrieval")
    return Graph([retrieval.as_node(), decide, answer, fallback], name="rag")


@node(output_name="count")
def inc(count: int) -> int:
    return count + 1


@route(targets=["inc", END])
def check(count: int) -> object:
    return END if count >= 5 else "inc"


def test_mermaid_is_valid_and_names_every_node_and_data_edge(mermaid):
    """Every node of the quickstart-style graph is a box and every data edge names its value."""
    chart = mermaid(rag_graph().to_mermaid())
    assert chart.title == "rag"
    labels = {text.split("<br/>")[0] for _, text, _ in chart.nodes.values()}
    assert {"embed", "retrieve", "decide", "answer", "fallback", "END"} <= labels
    ids = {name: chart.node_id(name) for name in ("embed", "retrieve", "decide", "answer")}
    assert chart.edges_between(ids["embed"], ids["retrieve"]) == [("solid", "query_vector")]
    assert chart.edges_between(ids["retrieve"], ids["decide"]) == [("solid", "score")]
    assert chart.edges_between(ids["retrieve"], ids["answer"]) == [("solid", "best_doc")]
    assert chart.nodes[ids["decide"]][0] == "rhombus"


def test_gate_decisions_are_dashed_arrows_to_each_target_and_end(mermaid):
    """A route draws one dotted arrow per target, END included, labelled with its description."""
    chart = mermaid(rag_graph().to_mermaid())
    gate = chart.node_id("decide")
    assert chart.edges_between(gate, chart.node_id("answer")) == [("dotted", "good match")]
    assert chart.edges_between(gate, chart.node_id("fallback")) == [("dotted", "weak match")]
    end = chart.node_id("END")
    assert chart.nodes[end][0] == "circle"
    assert chart.edges_between(gate, end) == [("dotted", "nothing")]


def test_ifelse_arrows_say_true_and_false(mermaid):
    """An @ifelse gate labels its two arrows True and False."""

    @ifelse(when_true="yes", when_false=END)
    def ok(x: int) -> bool:
        return x > 0

    @node(output_name="y")
    def yes(x: int) -> int:
        return x

    chart = mermaid(Graph([ok, yes]).to_mermaid())
    gate = chart.node_id("ok")
    assert chart.edges_between(gate, chart.node_id("yes")) == [("dotted", "True")]
    assert chart.edges_between(gate, chart.node_id("END")) == [("dotted", "False")]


def test_cycles_and_entrypoints_are_marked(mermaid):
    """A loop shows as a cycle of arrows; its nodes carry the cycle class, the entrypoint its own."""
    chart = mermaid(Graph([inc, check], entrypoint="inc").to_mermaid())
    assert chart.has_cycle()
    inc_id, check_id = chart.node_id("inc"), chart.node_id("check")
    assert chart.edges_between(inc_id, check_id) == [("solid", "count")]
    assert chart.edges_between(check_id, inc_id) == [("dotted", "")]
    assert {"cycle", "entrypoint"} <= chart.classes[inc_id]
    assert "entrypoint" not in chart.classes[check_id]


def test_inputs_show_required_optional_and_bound(mermaid):
    """External inputs are parallelograms feeding their consumers; bound and optional are marked."""
    graph = rag_graph().bind(top_k=5)
    chart = mermaid(graph.to_mermaid())
    query = chart.node_id("query")
    assert chart.nodes[query][0] == "parallelogram"
    assert "required" in chart.classes[query]
    assert chart.edges_between(query, chart.node_id("embed")) == [("solid", "")]
    assert chart.edges_between(query, chart.node_id("fallback")) == [("solid", "")]
    assert "bound" in chart.classes[chart.node_id("top_k")]
    unbound = mermaid(rag_graph().to_mermaid())
    top_k = unbound.node_id("top_k")
    assert "optional" in unbound.classes[top_k]
    assert "= 3" in unbound.nodes[top_k][1]


def test_value_bound_inside_a_nested_graph_is_drawn_bound(mermaid):
    """A value bound on the inner graph is drawn as bound, not as an optional input."""
    inner = Graph([embed, retrieve], name="retrieval").bind(top_k=1)
    chart = mermaid(Graph([inner.as_node(), decide, answer, fallback]).to_mermaid())
    assert "bound" in chart.classes[chart.node_id("top_k")]


def _three_levels() -> Graph:
    @node(output_name="z")
    def leaf(y: int) -> int:
        return y

    @node(output_name="y")
    def prep(x: int) -> int:
        return x

    @node(output_name="done")
    def finish(z: int) -> int:
        return z

    inner = Graph([leaf], name="inner")
    middle = Graph([prep, inner.as_node()], name="middle")
    return Graph([middle.as_node(), finish], name="outer")


def test_depth_opens_nested_graphs_level_by_level(mermaid):
    """depth=0 draws nested graphs as single boxes, each extra level opens one more subgraph."""
    graph = _three_levels()
    closed = mermaid(graph.to_mermaid(depth=0))
    assert closed.subgraphs == {}
    assert closed.nodes[closed.node_id("middle")][0] == "subroutine"
    assert closed.edges_between(closed.node_id("middle"), closed.node_id("finish")) == [
        ("solid", "z")
    ]
    one = mermaid(graph.to_mermaid(depth=1))
    assert [label for label, _ in one.subgraphs.values()] == ["middle"]
    middle_box = next(iter(one.subgraphs))
    assert one.nodes[one.node_id("prep")][2] == middle_box
    assert one.nodes[one.node_id("inner")][0] == "subroutine"
    two = mermaid(graph.to_mermaid(depth=2))
    parents = {label: parent for label, parent in two.subgraphs.values()}
    assert set(parents) == {"middle", "inner"}
    inner_box = next(i for i, (label, _) in two.subgraphs.items() if label == "inner")
    assert two.subgraphs[inner_box][1] == next(
        i for i, (label, _) in two.subgraphs.items() if label == "middle"
    )
    leaf = two.node_id("leaf")
    assert two.nodes[leaf][2] == inner_box
    # arrows cross the boxes to the node that uses or makes the value
    assert two.edges_between(two.node_id("prep"), leaf) == [("solid", "y")]
    assert two.edges_between(leaf, two.node_id("finish")) == [("solid", "z")]
    assert two.edges_between(two.node_id("x"), two.node_id("prep")) == [("solid", "")]


def test_select_fades_unneeded_nodes_and_draws_the_selected_outputs(mermaid):
    """After select(), nodes the outputs don't need are inactive and outputs get their own box."""
    graph = rag_graph().select("score")
    chart = mermaid(graph.to_mermaid())
    out = chart.node_id("score", within=None)
    assert chart.nodes[out][0] == "stadium"
    assert chart.edges_between(chart.node_id("retrieve"), out) == [("solid", "")]
    for name in ("answer", "fallback", "decide"):
        assert "inactive" in chart.classes[chart.node_id(name)]
    for name in ("embed", "retrieve"):
        assert "inactive" not in chart.classes[chart.node_id(name)]


def test_with_entrypoint_fades_what_is_upstream(mermaid):
    """After with_entrypoint(), nodes upstream of it are inactive and its inputs are drawn."""
    graph = Graph([embed, retrieve, decide, answer, fallback]).with_entrypoint("retrieve")
    chart = mermaid(graph.to_mermaid())
    assert "inactive" in chart.classes[chart.node_id("embed")]
    assert "entrypoint" in chart.classes[chart.node_id("retrieve")]
    assert "inactive" not in chart.classes[chart.node_id("answer")]
    vector = chart.node_id("query_vector")
    assert chart.edges_between(vector, chart.node_id("retrieve")) == [("solid", "")]


def test_interrupts_and_ordering_edges_have_their_own_shapes(mermaid):
    """Interrupt nodes are hexagons; explicit ordering edges are circle-ended arrows."""

    @interrupt(output_name="decision")
    def approve(draft: str) -> None:
        return None

    @node(output_name="draft")
    def write(topic: str) -> str:
        return topic

    @node
    def log(topic: str) -> None:
        return None

    graph = Graph([write, approve, log], edges=[(write, approve), (write, log)])
    chart = mermaid(graph.to_mermaid())
    assert chart.nodes[chart.node_id("approve")][0] == "hexagon"
    assert chart.edges_between(chart.node_id("write"), chart.node_id("log")) == [("circle", "")]


def test_labels_with_markup_characters_are_escaped(mermaid):
    """A default whose repr holds quotes, brackets and pipes still parses."""

    @node(output_name="y")
    def f(x: str = '<a href="|#">') -> str:
        return x

    chart = mermaid(Graph([f]).to_mermaid())
    assert "#34;" in chart.nodes[chart.node_id("x")][1]


def test_every_example_graph_draws_as_valid_mermaid(mermaid, monkeypatch):
    """Each Graph defined by the examples renders to Mermaid the grammar accepts."""
    monkeypatch.syspath_prepend(str(EXAMPLES))  # examples import each other, as scripts do
    drawn = 0
    for path in sorted(EXAMPLES.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for value in vars(module).values():
            if isinstance(value, Graph):
                for depth in (0, 1, 3):
                    mermaid(value.to_mermaid(depth=depth))
                drawn += 1
    assert drawn >= 5


def test_depth_must_be_a_non_negative_integer():
    """depth=-1 is a ValueError that says what depth means."""
    with pytest.raises(ValueError, match="depth must be an integer >= 0"):
        rag_graph().to_mermaid(depth=-1)


# ---------------------------------------------------------------------- DOT and Graphviz
def test_dot_text_is_read_by_graphviz_with_every_node_edge_and_cluster(dot):
    """Graphviz parses the DOT text; nodes, labelled edges and the nested cluster are all there."""
    parsed = dot(rag_graph().to_dot())
    ids = {name: parsed.node_id(name) for name in ("embed", "retrieve", "decide", "answer", "END")}
    assert parsed.clusters["cluster_retrieval"] == {ids["embed"], ids["retrieve"]}
    assert (ids["embed"], ids["retrieve"], "data", "query_vector") in parsed.edges
    assert (ids["retrieve"], ids["decide"], "data", "score") in parsed.edges
    assert (ids["decide"], ids["answer"], "control", "good match") in parsed.edges
    assert (ids["decide"], ids["END"], "control", "nothing") in parsed.edges
    assert parsed.nodes[ids["decide"]]["shape"] == "diamond"


def test_dot_marks_entrypoints_cycles_and_inactive_nodes(dot):
    """Node classes in DOT carry the same marks as in Mermaid."""
    parsed = dot(Graph([inc, check], entrypoint="inc").to_dot())
    assert set(parsed.nodes[parsed.node_id("inc")]["class"].split()) >= {"entrypoint", "cycle"}
    sliced = dot(rag_graph().select("score").to_dot(depth=0))
    assert "inactive" in parsed_classes(sliced, "answer")


def parsed_classes(parsed, label: str) -> set[str]:
    return set(parsed.nodes[parsed.node_id(label)]["class"].split())


def test_control_arrow_into_a_nested_graph_points_at_its_box(dot):
    """A gate routing to a nested graph node draws its arrow to the cluster (lhead)."""
    inner = Graph([embed, retrieve], name="retrieval")

    @route(targets=["retrieval", END])
    def go(query: str) -> object:
        return "retrieval"

    text = Graph([go, inner.as_node()]).to_dot()
    assert 'lhead="cluster_retrieval"' in text
    parsed = dot(text)
    assert (parsed.node_id("go"), parsed.node_id("embed"), "control", "") in parsed.edges


def test_visualize_writes_svg_and_png(tmp_path):
    """visualize() renders through Graphviz: an SVG naming the nodes, a PNG with its signature."""
    graph = rag_graph()
    svg = graph.visualize(tmp_path / "rag.svg")
    text = svg.read_text()
    assert "<svg" in text and "retrieve" in text and "query_vector" in text
    png = graph.visualize(tmp_path / "rag.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    other = graph.visualize(tmp_path / "picture", format="svg")
    assert "<svg" in other.read_text()


def test_visualize_rejects_an_unknown_suffix(tmp_path):
    """A file name without a known picture suffix is a ValueError naming the choices."""
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.pdf"):
        rag_graph().visualize(tmp_path / "rag.gif")


def test_notebook_display_offers_svg_and_mermaid():
    """_repr_mimebundle_ gives an SVG (Graphviz present) and the Mermaid text as Markdown."""
    bundle = rag_graph()._repr_mimebundle_()
    assert bundle["text/markdown"].startswith("```mermaid\n")
    assert "<svg" in bundle["image/svg+xml"]
    assert bundle["text/plain"].startswith("Graph('rag'")


def _run(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=full, timeout=60,
    )


_SMALL = """
    import sys
    {setup}
    from hypergraph import Graph, MissingGraphvizError, node
    @node(output_name="y")
    def f(x): return x
    try:
        Graph([f]).visualize("out.svg")
    except MissingGraphvizError as exc:
        print(exc.missing)
        print(exc)
"""


def test_visualize_without_the_graphviz_package_names_the_extra_and_to_mermaid(tmp_path):
    """Without the graphviz package the error names the viz extra and points to to_mermaid()."""
    done = _run(_SMALL.format(setup="sys.modules['graphviz'] = None"))
    assert done.returncode == 0, done.stderr
    missing, message = done.stdout.split("\n", 1)
    assert missing == "package"
    assert 'pip install "hypergraph-core[viz]"' in message
    assert "graph.to_mermaid()" in message


def test_visualize_without_the_dot_program_says_to_install_graphviz(tmp_path):
    """Without ``dot`` on PATH the error says to install Graphviz and points to to_mermaid()."""
    done = _run(_SMALL.format(setup=""), env={"PATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    missing, message = done.stdout.split("\n", 1)
    assert missing == "binary"
    assert "apt-get install graphviz" in message and "graph.to_mermaid()" in message


def test_missing_graphviz_error_is_an_import_error():
    """MissingGraphvizError is both a HypergraphError and an ImportError."""
    assert issubclass(MissingGraphvizError, ImportError)
