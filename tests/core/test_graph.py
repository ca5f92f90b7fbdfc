"""Graph construction and configuration (SPEC G1-G16, CV3, TC9 bootstrap)."""

from __future__ import annotations

import re

import pytest

from hypergraph import (
    END,
    FunctionNode,
    Graph,
    GraphConfigError,
    InputSpec,
    SyncRunner,
    ifelse,
    node,
    route,
)

HEX64 = re.compile(r"[0-9a-f]{64}")


@node(output_name="doubled")
def double(x):
    return x * 2


@node(output_name="result")
def add_one(doubled):
    return doubled + 1


@node(output_name="count")
def inc(count):
    return count + 1


@route(targets=["inc", END])
def chk(count):
    return END if count >= 5 else "inc"


def _edge_set(graph: Graph, kind: str) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(s, d, v) for s, d, k, v in graph.edges if k == kind}


# -- G1 signature -----------------------------------------------------------------------------


def test_nodes_can_be_passed_by_keyword():
    """``Graph(nodes=[...])`` works like the positional form."""
    graph = Graph(nodes=[double, add_one], name="pipeline")

    assert list(graph.nodes) == ["double", "add_one"]
    assert graph.name == "pipeline"


def test_graph_accepts_any_iterable_of_nodes():
    """A generator of nodes is accepted."""
    graph = Graph(n for n in [double, add_one])

    assert list(graph.nodes) == ["double", "add_one"]


def test_non_node_items_are_rejected():
    """A plain function in the node list is a GraphConfigError suggesting ``@node``."""

    def plain(x):
        return x

    with pytest.raises(GraphConfigError, match="@node"):
        Graph([plain])


# -- G2 unique names --------------------------------------------------------------------------


def test_duplicate_node_names_are_rejected():
    """Two nodes with one name raise GraphConfigError naming the duplicate."""
    with pytest.raises(GraphConfigError, match="Duplicate node name: 'double'"):
        Graph([double, double.rename_outputs(doubled="other")])


# -- G3 identifier rules ----------------------------------------------------------------------


def test_node_name_must_be_an_identifier():
    """A node name that is not a Python identifier is rejected by name."""
    with pytest.raises(GraphConfigError, match="'my-node'"):
        Graph([double.with_name("my-node")])


def test_node_name_must_not_be_a_keyword():
    """A keyword node name is rejected, saying it is a keyword."""
    with pytest.raises(GraphConfigError, match=r"(?s)'class'.*keyword"):
        Graph([double.with_name("class")])


def test_node_name_must_not_contain_a_dot():
    """A dot in a node name is reserved for nesting."""
    with pytest.raises(GraphConfigError, match=r"(?s)'a\.b'.*nesting"):
        Graph([double.with_name("a.b")])


def test_node_name_must_not_contain_a_slash():
    """A slash in a node name is reserved for nesting."""
    with pytest.raises(GraphConfigError, match=r"(?s)'a/b'.*nesting"):
        Graph([double.with_name("a/b")])


def test_output_name_must_be_an_identifier():
    """An output name that is not an identifier is rejected naming output and node."""
    with pytest.raises(GraphConfigError, match=r"(?s)'bad name'.*'double'"):
        Graph([double.rename_outputs(doubled="bad name")])


def test_output_name_must_not_be_a_keyword():
    """A keyword output name is rejected, saying it is a keyword."""
    with pytest.raises(GraphConfigError, match=r"(?s)'return'.*keyword"):
        Graph([double.rename_outputs(doubled="return")])


def test_output_name_must_not_contain_a_dot():
    """A dotted output name is rejected."""
    with pytest.raises(GraphConfigError, match=r"'a\.b'"):
        Graph([double.rename_outputs(doubled="a.b")])


# -- G4 edge inference ------------------------------------------------------------------------


def test_edges_are_inferred_from_matching_names():
    """An output feeding a same-named parameter creates a data edge carrying the name."""
    graph = Graph([double, add_one])

    assert _edge_set(graph, "data") == {("double", "add_one", ("doubled",))}


def test_unrelated_nodes_have_no_edges():
    """Nodes that share no names are not connected."""

    @node(output_name="z")
    def other(y):
        return y

    assert Graph([double, other]).edges == []


def test_a_node_consuming_its_own_output_gets_a_self_edge():
    """A node whose input matches its own output has an inferred self-edge."""

    @node(output_name="x")
    def step(x):
        return x + 1

    graph = Graph([step])

    assert _edge_set(graph, "data") == {("step", "step", ("x",))}
    assert graph.has_cycles


def test_gates_get_control_edges_to_their_targets():
    """A gate has a control edge to every non-END target."""
    graph = Graph([inc, chk])

    assert {(s, d) for s, d, k, _ in graph.edges if k == "control"} == {("chk", "inc")}


def test_one_edge_carries_every_shared_name():
    """Two shared names between one pair of nodes travel on one data edge."""

    @node(output_name=("a", "b"))
    def split(x):
        return x, x

    @node(output_name="c")
    def join(a, b):
        return a + b

    assert _edge_set(Graph([split, join]), "data") == {("split", "join", ("a", "b"))}


# -- G5 explicit edges ------------------------------------------------------------------------


@node(output_name=("a", "b"))
def split(x):
    return x, x


@node(output_name="c")
def join(a, b):
    return a + b


def test_explicit_two_tuple_edge_carries_the_shared_names():
    """``(src, dst)`` carries ``outputs(src) ∩ inputs(dst)``."""
    graph = Graph([split, join], edges=[(split, join)])

    assert _edge_set(graph, "data") == {("split", "join", ("a", "b"))}


def test_explicit_three_tuple_edge_with_one_value():
    """``(src, dst, "v")`` carries just that value."""
    graph = Graph([split, join], edges=[(split, join, "a")])

    assert _edge_set(graph, "data") == {("split", "join", ("a",))}


def test_explicit_three_tuple_edge_with_a_list_of_values():
    """``(src, dst, ["v1", "v2"])`` carries those values."""
    graph = Graph([split, join], edges=[("split", "join", ["a", "b"])])

    assert _edge_set(graph, "data") == {("split", "join", ("a", "b"))}


def test_explicit_edge_without_shared_names_is_ordering_only():
    """A 2-tuple between nodes that share no names only orders them."""

    @node
    def setup():
        pass

    graph = Graph([setup, double], edges=[(setup, double)])

    assert {(s, d) for s, d, k, _ in graph.edges if k == "ordering"} == {("setup", "double")}
    assert _edge_set(graph, "data") == set()


def test_explicit_edge_endpoints_may_be_names():
    """Endpoints may be given as node names instead of node objects."""
    graph = Graph([double, add_one], edges=[("double", "add_one")])

    assert _edge_set(graph, "data") == {("double", "add_one", ("doubled",))}


def test_explicit_edges_switch_inference_off():
    """Names that match but are not on a declared edge are not wired."""
    graph = Graph([split, join], edges=[(split, join, "a")])

    assert graph.inputs.required == ("x", "b")


def test_explicit_edges_still_add_gate_control_edges():
    """Gate control edges are added even when edges are explicit."""
    graph = Graph([inc, chk], edges=[(inc, chk, "count")])

    assert ("chk", "inc", "control", ()) in graph.edges


def test_explicit_edge_with_an_unknown_endpoint_is_rejected():
    """An edge to a node outside the graph is a GraphConfigError naming it."""
    with pytest.raises(GraphConfigError, match="'ghost'"):
        Graph([double, add_one], edges=[("double", "ghost")])


def test_explicit_edge_with_a_value_the_source_does_not_produce_is_rejected():
    """A carried value that is not an output of the source is a GraphConfigError."""
    with pytest.raises(GraphConfigError, match="'nope'"):
        Graph([split, join], edges=[(split, join, "nope")])


def test_malformed_explicit_edge_is_rejected():
    """An edge that is not a 2- or 3-tuple is a GraphConfigError."""
    with pytest.raises(GraphConfigError, match="src, dst"):
        Graph([split, join], edges=[(split,)])


# -- G6 outputs / leaf_outputs ----------------------------------------------------------------


def test_outputs_list_every_data_output_once_in_first_appearance_order():
    """``outputs`` is de-duplicated and ordered by first appearance."""
    graph = Graph([split, join, double])

    assert graph.outputs == ("a", "b", "c", "doubled")


def test_gate_internals_are_not_outputs():
    """A gate contributes nothing to ``outputs``."""
    graph = Graph([inc, chk])

    assert graph.outputs == ("count",)


def test_leaf_outputs_are_outputs_of_nodes_that_feed_nobody():
    """``leaf_outputs`` only lists outputs of terminal nodes."""
    graph = Graph([double, add_one])

    assert graph.leaf_outputs == ("result",)


# -- G7 InputSpec -----------------------------------------------------------------------------


@node(output_name="scaled")
def scale(doubled, factor=3):
    return doubled * factor


def test_inputs_is_an_input_spec():
    """``graph.inputs`` is an InputSpec with required, optional, bound and all."""
    spec = Graph([double, scale]).inputs

    assert isinstance(spec, InputSpec)
    assert spec.required == ("x",)
    assert spec.optional == ("factor",)
    assert spec.bound == {}
    assert spec.all == ("x", "factor")


def test_produced_values_are_not_inputs():
    """A parameter fed by another node is not a graph input."""
    assert Graph([double, add_one]).inputs.all == ("x",)


def test_bound_inputs_are_optional_and_listed_as_bound():
    """A bound input moves from required to optional and appears in ``bound``."""
    spec = Graph([double, scale]).bind(x=4).inputs

    assert spec.required == ()
    assert set(spec.optional) == {"x", "factor"}
    assert spec.bound == {"x": 4}


def test_gate_parameters_are_inputs():
    """A gate's parameters count like any other node's."""

    @node(output_name="y")
    def work(x):
        return x

    @ifelse(when_true="work", when_false=END)
    def gate(flag):
        return flag

    assert set(Graph([gate, work]).inputs.required) == {"flag", "x"}


def test_loop_bootstrap_parameter_is_a_required_input():
    """In ``inc(count)->count`` with a route back to ``inc``, ``count`` is required (TC9)."""
    graph = Graph([inc, chk])

    assert graph.inputs.required == ("count",)


def test_self_loop_bootstrap_parameter_is_a_required_input():
    """A self-consuming node's parameter is a bootstrap input."""

    @node(output_name="x")
    def step(x):
        return x + 1

    assert Graph([step]).inputs.required == ("x",)


# -- G8 consistent defaults -------------------------------------------------------------------


def test_shared_parameter_with_and_without_default_is_rejected():
    """A default on only some consumers of a parameter is a GraphConfigError listing them."""

    @node(output_name="a")
    def first(x=1):
        return x

    @node(output_name="b")
    def second(x):
        return x

    with pytest.raises(GraphConfigError, match=r"(?s)Inconsistent defaults for 'x'.*'first'.*'second'"):
        Graph([first, second])


def test_shared_parameter_with_different_defaults_is_rejected():
    """Different defaults for one parameter are a GraphConfigError naming both nodes."""

    @node(output_name="a")
    def first(x=1):
        return x

    @node(output_name="b")
    def second(x=2):
        return x

    with pytest.raises(GraphConfigError, match=r"(?s)Inconsistent defaults for 'x'.*'first'.*'second'"):
        Graph([first, second])


def test_shared_parameter_with_equal_defaults_is_allowed():
    """Equal defaults everywhere are fine and the input is optional."""

    @node(output_name="a")
    def first(x=1):
        return x

    @node(output_name="b")
    def second(x=1):
        return x

    assert Graph([first, second]).inputs.optional == ("x",)


def test_inconsistent_defaults_on_a_produced_parameter_are_rejected():
    """The check covers parameters produced in a loop: ``gen(feedback="")`` + ``gate(feedback)``."""

    @node(output_name="draft")
    def gen(prompt, feedback=""):
        return prompt + feedback

    @node(output_name="feedback")
    def critic(draft):
        return draft

    @route(targets=["gen", END])
    def gate(feedback):
        return END

    with pytest.raises(GraphConfigError, match="Inconsistent defaults for 'feedback'"):
        Graph([gen, critic, gate])


# -- G9 several producers ---------------------------------------------------------------------


@node(output_name="answer")
def fast(question):
    return "fast"


@node(output_name="answer")
def careful(question):
    return "careful"


@node(output_name="shown")
def show(answer):
    return answer


def test_producers_on_exclusive_ifelse_branches_are_allowed():
    """Two producers of one name are fine on the two branches of an ifelse."""

    @ifelse(when_true="fast", when_false="careful")
    def easy(question):
        return len(question) < 10

    graph = Graph([easy, fast, careful, show])

    assert graph.outputs == ("answer", "shown")


def test_producers_on_exclusive_route_branches_are_allowed():
    """Two producers of one name are fine as targets of a single-choice route."""

    @route(targets=["fast", "careful"])
    def pick(question):
        return "fast"

    assert "answer" in Graph([pick, fast, careful, show]).outputs


def test_producers_deeper_inside_exclusive_branches_are_allowed():
    """A producer reached only through one branch counts as that branch."""

    @node(output_name="prepared")
    def prepare(question):
        return question

    @node(output_name="answer")
    def deep(prepared):
        return prepared

    @ifelse(when_true="fast", when_false="prepare")
    def easy(question):
        return True

    assert "answer" in Graph([easy, fast, prepare, deep, show]).outputs


def test_unordered_producers_are_rejected():
    """Two independent producers of one name are a GraphConfigError naming both."""
    with pytest.raises(GraphConfigError, match=r"(?s)'answer'.*'fast'.*'careful'"):
        Graph([fast, careful, show])


def test_unordered_producer_error_suggests_a_fix():
    """The multiple-producer error suggests ordering or exclusive branches."""
    with pytest.raises(GraphConfigError, match=r"(?s)exclusive branches.*edge"):
        Graph([fast, careful])


def test_multi_target_route_targets_sharing_an_output_are_rejected():
    """Targets of a multi_target route may run together, so shared outputs are rejected."""

    @route(targets=["fast", "careful"], multi_target=True)
    def pick(question):
        return ["fast"]

    with pytest.raises(GraphConfigError, match="'answer'"):
        Graph([pick, fast, careful, show])


def test_producers_ordered_by_another_path_are_allowed():
    """A producer downstream of the other through a different value is ordered."""

    @node(output_name=("answer", "draft"))
    def first(question):
        return "a", "d"

    @node(output_name="answer")
    def refine(draft):
        return draft + "!"

    assert Graph([first, refine]).outputs == ("answer", "draft")


def test_producers_ordered_only_through_the_contested_name_are_rejected():
    """A path through the contested name itself does not order its producers."""

    @node(output_name="answer")
    def first(question):
        return question

    @node(output_name="answer")
    def again(answer):
        return answer

    with pytest.raises(GraphConfigError, match="'answer'"):
        Graph([first, again])


def test_producers_ordered_only_through_several_shared_names_are_rejected():
    """A path carrying only names both nodes produce does not order them either."""

    @node(output_name=("answer", "draft"))
    def first(question):
        return "a", "d"

    @node(output_name=("answer", "draft"))
    def again(answer, draft):
        return answer, draft

    with pytest.raises(GraphConfigError, match=r"(?s)'answer'.*'first'.*'again'"):
        Graph([first, again])


def test_multi_target_conflict_message_names_the_route():
    """The multi_target rejection explains that the route lets both targets run."""

    @route(targets=["fast", "careful"], multi_target=True)
    def pick(question):
        return ["fast"]

    with pytest.raises(GraphConfigError, match=r"(?s)'pick'.*multi_target"):
        Graph([pick, fast, careful])


def test_explicit_edge_orders_producers():
    """In explicit-edge mode a declared path between producers resolves the conflict."""
    graph = Graph([fast, careful, show], edges=[(fast, careful), (careful, show)])

    assert graph.outputs == ("answer", "shown")


# -- G10 cycles -------------------------------------------------------------------------------


def test_cyclic_graph_is_constructible_without_entrypoint():
    """A cycle needs no entrypoint at construction (it is checked at run time)."""
    graph = Graph([inc, chk])

    assert graph.has_cycles is True
    assert graph.entrypoints_config == ()


def test_acyclic_graph_has_no_cycles():
    """A DAG reports ``has_cycles`` False."""
    assert Graph([double, add_one]).has_cycles is False


def test_cycles_through_explicit_edges_are_detected():
    """An explicit back edge makes a cycle."""

    @node(output_name="x")
    def step(x):
        return x + 1

    assert Graph([step], edges=[(step, step, "x")]).has_cycles is True


# -- G11 bind ---------------------------------------------------------------------------------


def test_bind_returns_a_new_graph_and_leaves_the_original_unbound():
    """``bind`` returns a configured copy (CV3)."""
    graph = Graph([double, scale])

    bound = graph.bind(x=2)

    assert bound is not graph
    assert bound.inputs.bound == {"x": 2}
    assert graph.inputs.bound == {}
    assert graph.inputs.required == ("x",)


def test_bind_accepts_a_mapping_and_keywords():
    """``bind({...}, **kw)`` merges both forms."""
    bound = Graph([double, scale]).bind({"x": 1}, factor=5)

    assert bound.inputs.bound == {"x": 1, "factor": 5}


def test_bind_accumulates():
    """Successive ``bind`` calls keep earlier bindings."""
    bound = Graph([double, scale]).bind(x=1).bind(factor=5)

    assert bound.inputs.bound == {"x": 1, "factor": 5}


def test_bind_of_an_unknown_name_lists_valid_inputs():
    """Binding a name that is not an input is a ValueError listing the inputs."""
    with pytest.raises(ValueError, match=r"(?s)'nope'.*'x'.*'factor'"):
        Graph([double, scale]).bind(nope=1)


def test_bind_of_a_produced_value_points_to_entrypoints():
    """Binding a value produced inside the graph tells the user to slice with an entrypoint."""
    with pytest.raises(ValueError, match=r"(?s)'doubled'.*with_entrypoint"):
        Graph([double, scale]).bind(doubled=1)


def test_bind_of_a_produced_value_is_allowed_after_slicing():
    """Once the producer is excluded by an entrypoint, its output can be bound."""
    bound = Graph([double, scale]).with_entrypoint("scale").bind(doubled=1)

    assert bound.inputs.bound == {"doubled": 1}


def test_bind_with_the_same_key_twice_is_rejected():
    """A key in both the mapping and the keywords is a ValueError."""
    with pytest.raises(ValueError, match="'x'"):
        Graph([double]).bind({"x": 1}, x=2)


def test_bound_values_are_stored_by_reference():
    """``bind`` never copies the value."""
    shared: list[int] = []

    @node(output_name="acc2")
    def app(x, acc):
        return acc

    bound = Graph([app]).bind(acc=shared)

    assert bound.inputs.bound["acc"] is shared


def test_unbind_removes_bindings():
    """``unbind`` returns a copy without those bindings."""
    bound = Graph([double, scale]).bind(x=1, factor=5)

    unbound = bound.unbind("x")

    assert unbound.inputs.bound == {"factor": 5}
    assert unbound.inputs.required == ("x",)
    assert bound.inputs.bound == {"x": 1, "factor": 5}


# -- G12 select -------------------------------------------------------------------------------


def test_select_sets_selected_and_returns_a_new_graph():
    """``select`` records the chosen outputs on a copy."""
    graph = Graph([double, add_one])

    chosen = graph.select("result")

    assert chosen.selected == ("result",)
    assert graph.selected is None


def test_select_accepts_a_single_list():
    """``select(["a", "b"])`` equals ``select("a", "b")``."""
    graph = Graph([double, add_one])

    assert graph.select(["doubled", "result"]).selected == ("doubled", "result")


def test_select_of_an_unknown_output_lists_valid_outputs():
    """Selecting a name that is not an output is a ValueError listing outputs."""
    with pytest.raises(ValueError, match=r"(?s)'nope'.*'doubled'.*'result'"):
        Graph([double, add_one]).select("nope")


def test_select_narrows_inputs_to_what_the_selection_needs():
    """Inputs of nodes the selection does not need disappear."""

    @node(output_name="other")
    def unrelated(y):
        return y

    graph = Graph([double, unrelated])

    assert graph.select("doubled").inputs.all == ("x",)
    assert set(graph.inputs.all) == {"x", "y"}


def test_select_keeps_gates_that_control_needed_nodes():
    """A gate that controls a needed node stays in scope, so its inputs remain."""

    @node(output_name="y")
    def work(x):
        return x

    @ifelse(when_true="work", when_false=END)
    def gate(flag):
        return flag

    assert set(Graph([gate, work]).select("y").inputs.all) == {"flag", "x"}


# -- G13 entrypoints --------------------------------------------------------------------------


def test_entrypoint_in_constructor_and_with_entrypoint_accumulate():
    """``Graph(entrypoint=...)`` and ``with_entrypoint`` add up."""

    @node(output_name="z")
    def other(y):
        return y

    graph = Graph([double, add_one, other], entrypoint="add_one").with_entrypoint("other")

    assert graph.entrypoints_config == ("add_one", "other")


def test_entrypoint_list_in_constructor():
    """``Graph(entrypoint=[...])`` accepts a list."""
    graph = Graph([inc, chk], entrypoint=["inc"])

    assert graph.entrypoints_config == ("inc",)


def test_unknown_entrypoint_is_rejected():
    """An entrypoint that is not a node is a GraphConfigError naming it."""
    with pytest.raises(GraphConfigError, match="'ghost'"):
        Graph([double, add_one]).with_entrypoint("ghost")


def test_unknown_entrypoint_in_constructor_is_rejected():
    """The constructor checks entrypoints too."""
    with pytest.raises(GraphConfigError, match="'ghost'"):
        Graph([double, add_one], entrypoint="ghost")


def test_gate_entrypoint_is_rejected():
    """A gate cannot be an entrypoint."""
    with pytest.raises(GraphConfigError, match=r"(?s)'chk'.*gate"):
        Graph([inc, chk], entrypoint="chk")


def test_entrypoint_excludes_upstream_nodes_and_their_inputs():
    """Upstream nodes leave the active set and their outputs become inputs."""
    graph = Graph([double, add_one]).with_entrypoint("add_one")

    assert graph.inputs.all == ("doubled",)


def test_with_entrypoint_returns_a_new_graph():
    """``with_entrypoint`` never mutates the receiver (CV3)."""
    graph = Graph([double, add_one])

    sliced = graph.with_entrypoint("add_one")

    assert sliced is not graph
    assert graph.entrypoints_config == ()
    assert graph.inputs.all == ("x",)


def test_entrypoint_on_a_loop_makes_its_parameter_an_input():
    """With ``entrypoint="inc"`` the loop still needs ``count`` from outside."""
    assert Graph([inc, chk], entrypoint="inc").inputs.required == ("count",)


def test_selection_the_entrypoints_cannot_produce_is_rejected():
    """Selecting an output produced upstream of the entrypoints is a GraphConfigError."""
    with pytest.raises(GraphConfigError, match="'doubled'"):
        Graph([double, add_one]).select("doubled").with_entrypoint("add_one")


def test_selecting_after_slicing_checks_reachability_too():
    """``select`` after ``with_entrypoint`` also rejects unreachable outputs."""
    with pytest.raises(GraphConfigError, match="'doubled'"):
        Graph([double, add_one]).with_entrypoint("add_one").select("doubled")


# -- G14 nested naming ------------------------------------------------------------------------


def test_flat_graph_node_wires_by_inner_names():
    """A flat GraphNode's ports use inner names and connect by name."""
    inner = Graph([double], name="inner")
    outer = Graph([inner.as_node(), add_one], name="outer")

    assert _edge_set(outer, "data") == {("inner", "add_one", ("doubled",))}
    assert outer.inputs.all == ("x",)


def test_namespaced_graph_node_prefixes_its_ports():
    """``namespaced=True`` prefixes every port with ``name.``."""
    gn = Graph([double], name="inner").as_node(namespaced=True)

    assert gn.inputs == ("inner.x",)
    assert gn.outputs == ("inner.doubled",)


def test_namespaced_graph_node_is_accepted_by_the_graph():
    """Dotted namespaced ports do not trip the output-name check."""
    outer = Graph([Graph([double], name="inner").as_node(namespaced=True)])

    assert outer.outputs == ("inner.doubled",)
    assert outer.inputs.all == ("inner.x",)


def test_namespaced_ports_pass_through_a_flat_outer_graph_node():
    """A flat GraphNode re-exports an inner namespaced port ``deep.x`` unchanged."""
    deep = Graph([double], name="deep").as_node(namespaced=True)
    mid = Graph([deep], name="mid").as_node()

    assert Graph([mid]).outputs == ("deep.doubled",)


def test_nested_namespacing_chains_prefixes():
    """Namespaced GraphNodes inside namespaced GraphNodes chain their prefixes."""
    deep = Graph([double], name="deep").as_node(namespaced=True)
    mid = Graph([deep], name="mid").as_node(namespaced=True)

    assert Graph([mid]).outputs == ("mid.deep.doubled",)


def test_bind_accepts_a_dotted_key_for_a_nested_input():
    """``bind({"gn.x": ...})`` addresses input ``x`` of GraphNode ``gn``."""
    outer = Graph([Graph([double], name="inner").as_node(), add_one])

    assert outer.bind({"inner.x": 3}).inputs.bound == {"inner.x": 3}


def test_bind_rejects_a_dotted_key_for_an_unknown_nested_input():
    """A dotted key naming no input of the nested graph is a ValueError."""
    outer = Graph([Graph([double], name="inner").as_node(), add_one])

    with pytest.raises(ValueError, match=r"'inner\.nope'"):
        outer.bind({"inner.nope": 3})


def test_bind_accepts_the_nested_dict_form_for_a_nested_input():
    """``bind({"gn": {"x": ...}})`` is the nested form of ``bind({"gn.x": ...})``."""
    outer = Graph([Graph([double], name="inner").as_node(), add_one])

    assert outer.bind({"inner": {"x": 3}}).inputs.bound == {"inner.x": 3}


def test_bind_accepts_deeper_dotted_paths():
    """``"outer.inner.x"`` chains through nested GraphNodes."""
    mid = Graph([Graph([double], name="inner").as_node()], name="mid")
    outer = Graph([mid.as_node(), add_one])

    assert outer.bind({"mid.inner.x": 4}).inputs.bound == {"mid.inner.x": 4}


def test_bad_deep_dotted_key_is_reported_in_full():
    """The error for a bad deep key quotes the whole key and the nested inputs."""
    mid = Graph([Graph([double], name="inner").as_node()], name="mid")
    outer = Graph([mid.as_node(), add_one])

    with pytest.raises(ValueError, match=r"(?s)'mid\.inner\.nope'.*'x'"):
        outer.bind({"mid.inner.nope": 4})


def test_dotted_key_for_a_function_node_is_rejected():
    """A dotted key must address a nested graph node."""
    outer = Graph([Graph([double], name="inner").as_node(), add_one])

    with pytest.raises(ValueError, match="'add_one'"):
        outer.bind({"add_one.doubled": 4})


def test_dotted_bound_value_feeds_the_nested_graph():
    """A value bound with ``"gn.x"`` satisfies the nested input at run time."""
    outer = Graph([Graph([double], name="inner").as_node(), add_one])

    result = SyncRunner().run(outer.bind({"inner.x": 3}))

    assert result.values == {"doubled": 6, "result": 7}


def test_dotted_bound_value_overrides_a_flat_value_for_its_subgraph():
    """``"gn.x"`` wins over a flat ``x`` for GraphNode ``gn``."""
    outer = Graph([Graph([double], name="inner").as_node(), add_one])

    result = SyncRunner().run(outer.bind({"inner.x": 3}), {"x": 1})

    assert result.values == {"doubled": 6, "result": 7}


def test_dotted_keyword_is_rejected():
    """A dotted key cannot be a keyword argument (Python would not allow it anyway)."""
    outer = Graph([Graph([double], name="inner").as_node(), add_one])

    with pytest.raises(ValueError, match="bind"):
        outer.bind(**{"inner.x": 3})


# -- G15 properties and hashes ----------------------------------------------------------------


def test_nodes_property_is_a_copy():
    """Mutating ``graph.nodes`` does not change the graph."""
    graph = Graph([double, add_one])

    graph.nodes.pop("double")

    assert list(graph.nodes) == ["double", "add_one"]


def test_feature_flags():
    """``has_async_nodes``, ``has_gates`` and ``has_interrupts`` describe the nodes."""

    @node(output_name="y")
    async def fetch(x):
        return x

    graph = Graph([inc, chk])

    assert graph.has_gates is True
    assert graph.has_async_nodes is False
    assert graph.has_interrupts is False
    assert graph.interrupt_nodes == []
    assert Graph([fetch]).has_async_nodes is True


def test_hashes_are_64_hex():
    """``definition_hash`` and ``structural_hash`` are SHA-256 hex digests."""
    graph = Graph([double, add_one])

    assert HEX64.fullmatch(graph.definition_hash)
    assert HEX64.fullmatch(graph.structural_hash)


def test_code_change_changes_definition_hash_but_not_structural_hash():
    """Another function body under the same names changes only ``definition_hash``."""

    def double_v2(x):
        return x + x

    changed = FunctionNode(double_v2, name="double", output_name="doubled")
    before = Graph([double, add_one])
    after = Graph([changed, add_one])

    assert before.definition_hash != after.definition_hash
    assert before.structural_hash == after.structural_hash


def test_structure_change_changes_both_hashes():
    """Different wiring changes both hashes."""
    before = Graph([double, add_one])
    after = Graph([double, add_one.rename_inputs(doubled="other")])

    assert before.definition_hash != after.definition_hash
    assert before.structural_hash != after.structural_hash


def test_hashes_are_stable_for_equal_graphs():
    """Two graphs built from the same nodes hash the same."""
    assert Graph([double, add_one]).definition_hash == Graph([double, add_one]).definition_hash


# -- CV3 immutability -------------------------------------------------------------------------


def test_configuration_methods_never_mutate_the_graph():
    """bind, select, with_entrypoint and as_node leave the receiver unchanged."""
    graph = Graph([double, add_one], name="g")
    before = (graph.inputs, graph.selected, graph.entrypoints_config, graph.nodes)

    graph.bind(x=1)
    graph.select("result")
    graph.with_entrypoint("add_one")
    graph.as_node()

    assert (graph.inputs, graph.selected, graph.entrypoints_config, graph.nodes) == before


def test_node_renames_never_mutate_the_node():
    """with_name and rename_* return new nodes and leave the receiver unchanged."""
    before = (double.name, double.inputs, double.outputs)

    double.with_name("other")
    double.rename_inputs(x="y")
    double.rename_outputs(doubled="twice")

    assert (double.name, double.inputs, double.outputs) == before


def test_graph_node_map_over_never_mutates_the_graph_node():
    """``map_over`` returns a new GraphNode."""
    gn = Graph([double], name="inner").as_node()

    gn.map_over("x")

    assert gn.map_config is None
