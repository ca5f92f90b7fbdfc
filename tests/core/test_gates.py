"""Gate construction: @route, @ifelse, END (SPEC GT1-GT5, GT7)."""

from __future__ import annotations

import pickle

import pytest

from hypergraph import (
    END,
    GateNode,
    Graph,
    GraphConfigError,
    IfElseNode,
    RouteNode,
    branch,
    ifelse,
    node,
    route,
)


@node(output_name="draft")
def write(prompt):
    return prompt


@node(output_name="final")
def publish(draft):
    return draft


@node(output_name="draft")
def rewrite(draft):
    return draft + "!"


# -- GT1 @route -------------------------------------------------------------------------------


def test_route_with_a_list_of_targets():
    """``@route(targets=[...])`` builds a RouteNode with those targets and no descriptions."""

    @route(targets=["publish", END])
    def decide(draft):
        return "publish"

    assert isinstance(decide, RouteNode)
    assert isinstance(decide, GateNode)
    assert decide.name == "decide"
    assert decide.targets == ["publish", END]
    assert decide.descriptions == {}
    assert decide.inputs == ("draft",)


def test_route_with_a_dict_of_targets_keeps_descriptions():
    """A dict of targets maps each target to its description."""

    @route(targets={"publish": "good enough", END: "give up"})
    def decide(draft):
        return END

    assert decide.targets == ["publish", END]
    assert decide.descriptions == {"publish": "good enough", END: "give up"}


def test_route_with_a_single_string_target():
    """A single target name is one target, not a sequence of characters."""

    @route(targets="publish")
    def decide(draft):
        return "publish"

    assert decide.targets == ["publish"]


def test_route_with_end_as_the_only_target():
    """``targets=END`` is the one-element target list ``[END]``."""

    @route(targets=END)
    def stop(draft):
        return END

    assert stop.targets == [END]


def test_route_defaults():
    """A route is single-choice, has no fallback and is not cached by default."""

    @route(targets=["publish"])
    def decide(draft):
        return "publish"

    assert decide.multi_target is False
    assert decide.fallback is None
    assert decide.cache is False
    assert decide.is_gate is True


def test_route_accepts_name_cache_and_rename_inputs():
    """``name``, ``cache`` and ``rename_inputs`` configure the gate."""

    @route(targets=["publish"], name="judge", cache=True, rename_inputs={"draft": "text"})
    def decide(draft):
        return "publish"

    assert decide.name == "judge"
    assert decide.cache is True
    assert decide.inputs == ("text",)


def test_route_has_no_outputs():
    """A gate's decision is not data: ``outputs`` is empty (GT7)."""

    @route(targets=["publish", END])
    def decide(draft):
        return "publish"

    assert decide.outputs == ()
    assert Graph([write, decide, publish]).outputs == ("draft", "final")


def test_calling_a_route_calls_its_function():
    """Calling the gate calls the routing function directly."""

    @route(targets=["publish", END])
    def decide(draft):
        return END if not draft else "publish"

    assert decide("") is END
    assert decide(draft="x") == "publish"


# -- GT2 @ifelse ------------------------------------------------------------------------------


def test_ifelse_targets_and_descriptions():
    """``@ifelse(t, f)`` has targets ``[t, f]`` and boolean descriptions."""

    @ifelse(when_true="publish", when_false="rewrite")
    def good(draft):
        return len(draft) > 3

    assert isinstance(good, IfElseNode)
    assert good.targets == ["publish", "rewrite"]
    assert good.descriptions == {True: "True", False: "False"}
    assert good.when_true == "publish"
    assert good.when_false == "rewrite"


def test_ifelse_may_target_end():
    """END is a valid ifelse branch."""

    @ifelse(when_true=END, when_false="rewrite")
    def done(draft):
        return True

    assert done.targets == [END, "rewrite"]


def test_branch_is_an_alias_of_ifelse():
    """``@branch`` builds the same IfElseNode as ``@ifelse``."""

    @branch(when_true="publish", when_false=END)
    def good(draft):
        return True

    assert isinstance(good, IfElseNode)
    assert good.targets == ["publish", END]


# -- GT3 decoration-time errors ---------------------------------------------------------------


def test_async_routing_function_is_rejected():
    """A gate function must be synchronous."""
    with pytest.raises(TypeError, match="'decide'"):

        @route(targets=["publish"])
        async def decide(draft):
            return "publish"


def test_async_ifelse_function_is_rejected():
    """An async ifelse predicate is a TypeError."""
    with pytest.raises(TypeError, match="async"):

        @ifelse(when_true="publish", when_false=END)
        async def good(draft):
            return True


def test_generator_routing_function_is_rejected():
    """A gate function must return a decision, not yield."""
    with pytest.raises(TypeError, match="generator"):

        @route(targets=["publish"])
        def decide(draft):
            yield "publish"


def test_route_with_no_targets_is_rejected():
    """An empty target list is a ValueError."""
    with pytest.raises(ValueError, match="target"):

        @route(targets=[])
        def decide(draft):
            return None


def test_fallback_with_multi_target_is_rejected():
    """``fallback`` cannot be combined with ``multi_target=True``."""
    with pytest.raises(ValueError, match="multi_target"):

        @route(targets=["publish", "rewrite"], fallback="publish", multi_target=True)
        def decide(draft):
            return ["publish"]


def test_ifelse_with_identical_branches_is_rejected():
    """Both branches of an ifelse must differ."""
    with pytest.raises(ValueError, match="'publish'"):

        @ifelse(when_true="publish", when_false="publish")
        def good(draft):
            return True


def test_ifelse_with_end_on_both_branches_is_rejected():
    """END on both branches is identical branches too."""
    with pytest.raises(ValueError):

        @ifelse(when_true=END, when_false=END)
        def good(draft):
            return True


def test_string_end_target_tells_to_import_end():
    """The plain string "END" as a route target is a ValueError pointing to the END import."""
    with pytest.raises(ValueError, match="from hypergraph import END"):

        @route(targets=["publish", "END"])
        def decide(draft):
            return "publish"


def test_string_end_in_ifelse_tells_to_import_end():
    """The plain string "END" as an ifelse branch is rejected the same way."""
    with pytest.raises(ValueError, match="import END"):

        @ifelse(when_true="END", when_false="publish")
        def good(draft):
            return True


def test_string_end_as_fallback_tells_to_import_end():
    """The plain string "END" as a fallback is rejected the same way."""
    with pytest.raises(ValueError, match="import END"):

        @route(targets=["publish"], fallback="END")
        def decide(draft):
            return None


def test_string_end_as_a_dict_key_tells_to_import_end():
    """The plain string "END" as a key of a target dict is rejected too."""
    with pytest.raises(ValueError, match="import END"):

        @route(targets={"publish": "ok", "END": "stop"})
        def decide(draft):
            return None


# -- GT4 build-time errors --------------------------------------------------------------------


def test_unknown_route_target_is_rejected_by_the_graph():
    """A target that is not a node of the graph is a GraphConfigError naming it."""

    @route(targets=["publish", "ghost"])
    def decide(draft):
        return "publish"

    with pytest.raises(GraphConfigError, match="'ghost'"):
        Graph([write, decide, publish])


def test_unknown_ifelse_target_is_rejected_by_the_graph():
    """An ifelse branch naming no node is a GraphConfigError naming it."""

    @ifelse(when_true="publish", when_false="ghost")
    def good(draft):
        return True

    with pytest.raises(GraphConfigError, match="'ghost'"):
        Graph([write, good, publish])


def test_unknown_fallback_is_rejected_by_the_graph():
    """A fallback naming no node is a GraphConfigError naming it."""

    @route(targets=["publish"], fallback="ghost")
    def decide(draft):
        return None

    with pytest.raises(GraphConfigError, match="'ghost'"):
        Graph([write, decide, publish])


def test_gate_targeting_itself_is_rejected():
    """A gate cannot route to itself."""

    @route(targets=["decide", "publish"])
    def decide(draft):
        return "publish"

    with pytest.raises(GraphConfigError, match=r"(?s)'decide'.*itself"):
        Graph([write, decide, publish])


def test_route_targets_in_the_graph_build_fine():
    """Known targets build and add control edges."""

    @route(targets=["publish", END])
    def decide(draft):
        return "publish"

    graph = Graph([write, decide, publish])

    assert ("decide", "publish", "control", ()) in graph.edges
    assert graph.has_gates is True


# -- GT5 END ----------------------------------------------------------------------------------


def test_end_prints_as_end():
    """``str(END) == repr(END) == "END"``."""
    assert str(END) == "END"
    assert repr(END) == "END"


def test_end_is_a_str_but_not_equal_to_the_string():
    """END is a str subclass that only equals itself."""
    assert isinstance(END, str)
    assert END != "END"
    assert "END" != END  # noqa: SIM300 - the reflected comparison matters too
    assert END == END


def test_end_is_a_singleton():
    """END survives copying and pickling as the same object."""
    import copy

    assert copy.copy(END) is END
    assert copy.deepcopy(END) is END
    assert pickle.loads(pickle.dumps(END)) is END


def test_end_is_importable_from_the_nodes_package():
    """``hypergraph.nodes.END`` is the same object as ``hypergraph.END``."""
    from hypergraph.nodes import END as nodes_end

    assert nodes_end is END
