"""Construction-time behaviour of nodes (SPEC N1-N12, GN6, HI1)."""

from __future__ import annotations

import re
import warnings

import pytest

from hypergraph import (
    FunctionNode,
    Graph,
    GraphConfigError,
    GraphNode,
    IncompatibleRunnerError,
    InterruptNode,
    RenameError,
    SyncRunner,
    interrupt,
    node,
)

HEX64 = re.compile(r"[0-9a-f]{64}")


def _exec_function(source: str, name: str) -> object:
    """Build a function with exec, so inspect.getsource cannot find its text."""
    namespace: dict[str, object] = {}
    exec(source, namespace)
    return namespace[name]


# -- N1 @node forms --------------------------------------------------------------------------


def test_bare_decorator_makes_a_function_node_named_after_the_function():
    """Bare ``@node`` turns a function into a FunctionNode named after it."""

    @node
    def log(message):
        pass

    assert isinstance(log, FunctionNode)
    assert log.name == "log"
    assert log.inputs == ("message",)
    assert log.outputs == ()


def test_called_decorator_sets_output_name_and_cache():
    """``@node(output_name=..., cache=True)`` configures the node it returns."""

    @node(output_name="doubled", cache=True)
    def double(x):
        return x * 2

    assert isinstance(double, FunctionNode)
    assert double.name == "double"
    assert double.outputs == ("doubled",)
    assert double.cache is True


def test_decorator_accepts_rename_inputs():
    """``@node(rename_inputs=...)`` renames input ports at construction."""

    @node(output_name="y", rename_inputs={"x": "value"})
    def inc(x):
        return x + 1

    assert inc.inputs == ("value",)


def test_decorator_accepts_and_stores_batch():
    """``@node(batch=True)`` is accepted and stored (read only by DaftRunner)."""

    @node(output_name="y", batch=True)
    def vectorised(x):
        return x

    assert vectorised.batch is True


def test_function_node_constructor_allows_a_custom_name():
    """``FunctionNode(fn, name=...)`` names the node independently of the function."""

    def double(x):
        return x * 2

    twice = FunctionNode(double, name="twice", output_name="doubled")

    assert twice.name == "twice"
    assert twice.outputs == ("doubled",)
    assert twice.func is double


def test_function_node_from_a_function_node_discards_its_configuration():
    """``FunctionNode(source=FunctionNode)`` reuses only the function, not name/outputs/renames/cache."""

    @node(output_name="doubled", rename_inputs={"x": "value"}, cache=True)
    def double(x):
        return x * 2

    fresh = FunctionNode(source=double.with_name("other"))

    assert fresh.func is double.func
    assert fresh.name == "double"
    assert fresh.outputs == ()
    assert fresh.inputs == ("x",)
    assert fresh.cache is False


# -- N2 outputs -------------------------------------------------------------------------------


def test_output_name_tuple_gives_several_outputs_in_order():
    """A tuple ``output_name`` declares several outputs in that order."""

    @node(output_name=("quotient", "remainder"))
    def divide(a, b):
        return divmod(a, b)

    assert divide.outputs == ("quotient", "remainder")


def test_node_without_output_name_has_no_outputs():
    """Without ``output_name`` the node is a side-effect node with ``outputs == ()``."""

    @node
    def log(message):
        print(message)

    assert log.outputs == ()


def test_return_annotation_without_output_name_warns():
    """A return annotation without ``output_name`` warns, naming the function and the fix."""
    with pytest.warns(UserWarning, match=r"(?s)'compute'.*output_name"):

        @node
        def compute(x) -> int:
            return x

    assert compute.outputs == ()


def test_no_warning_without_return_annotation():
    """An unannotated side-effect function does not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        @node
        def log(message):
            print(message)


def test_no_warning_for_none_return_annotation():
    """A ``-> None`` side-effect function does not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        @node
        def log(message) -> None:
            print(message)


def test_no_warning_for_a_real_none_return_annotation():
    """A ``None`` annotation object (not the string) does not warn either."""

    def log(message):
        print(message)

    log.__annotations__ = {"return": None}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FunctionNode(log)


def test_return_annotation_warning_points_at_the_callers_line():
    """The warning is attributed to the user's file, not to hypergraph internals."""

    def compute(x) -> int:
        return x

    with pytest.warns(UserWarning) as record:
        FunctionNode(compute)

    assert record[0].filename == __file__


# -- N3 inputs --------------------------------------------------------------------------------


def test_inputs_are_parameter_names_in_signature_order():
    """``inputs`` lists parameters in signature order, keyword-only ones included."""

    @node(output_name="out")
    def combine(b, a, *, c=1):
        return a + b + c

    assert combine.inputs == ("b", "a", "c")


def test_positional_only_parameter_is_a_type_error_naming_it():
    """Runners pass keywords, so a positional-only parameter is rejected by name."""
    with pytest.raises(TypeError, match="'x'"):

        @node(output_name="y")
        def f(x, /):
            return x


def test_var_positional_parameter_is_a_type_error_naming_it():
    """``*args`` is rejected at construction, naming the parameter."""
    with pytest.raises(TypeError, match=r"\*values"):

        @node(output_name="y")
        def f(*values):
            return values


def test_var_keyword_parameter_is_a_type_error_naming_it():
    """``**kwargs`` is rejected at construction, naming the parameter."""
    with pytest.raises(TypeError, match=r"\*\*options"):

        @node(output_name="y")
        def f(x, **options):
            return x


# -- N4 defaults ------------------------------------------------------------------------------


def test_defaults_are_reported_per_input():
    """``has_default_for`` / ``get_default_for`` describe parameter defaults."""

    @node(output_name="y")
    def scale(x, factor=2):
        return x * factor

    assert scale.has_default_for("factor") is True
    assert scale.has_default_for("x") is False
    assert scale.get_default_for("factor") == 2


def test_get_default_for_an_input_without_default_is_a_key_error():
    """Asking for a default that does not exist raises KeyError."""

    @node(output_name="y")
    def scale(x, factor=2):
        return x * factor

    with pytest.raises(KeyError):
        scale.get_default_for("x")
    with pytest.raises(KeyError):
        scale.get_default_for("missing")


def test_defaults_follow_renamed_inputs():
    """A renamed input keeps its default under the new name."""

    @node(output_name="y")
    def scale(x, factor=2):
        return x * factor

    renamed = scale.rename_inputs(factor="k")

    assert renamed.has_default_for("k")
    assert renamed.get_default_for("k") == 2
    assert not renamed.has_default_for("factor")


# -- N5 mode detection ------------------------------------------------------------------------


def test_plain_function_is_sync_and_not_a_generator():
    """A plain function is neither async nor a generator."""

    @node(output_name="y")
    def f(x):
        return x

    assert (f.is_async, f.is_generator) == (False, False)


def test_coroutine_function_is_async():
    """An ``async def`` function is async and not a generator."""

    @node(output_name="y")
    async def f(x):
        return x

    assert (f.is_async, f.is_generator) == (True, False)


def test_generator_function_is_a_sync_generator():
    """A generator function is a generator and not async."""

    @node(output_name="y")
    def f(n):
        yield from range(n)

    assert (f.is_async, f.is_generator) == (False, True)


def test_async_generator_function_is_async_and_a_generator():
    """An async generator function is both async and a generator."""

    @node(output_name="y")
    async def f(n):
        for i in range(n):
            yield i

    assert (f.is_async, f.is_generator) == (True, True)


def test_calling_a_node_calls_the_function_directly():
    """``node(5)`` calls the raw function with no framework behaviour."""

    @node(output_name="doubled")
    def double(x):
        return x * 2

    assert double(5) == 10
    assert double.func(x=3) == 6


# -- N6 definition_hash -----------------------------------------------------------------------


def test_definition_hash_is_64_lowercase_hex():
    """``definition_hash`` is a SHA-256 hex digest."""

    @node(output_name="y")
    def f(x):
        return x

    assert HEX64.fullmatch(f.definition_hash)


def test_definition_hash_survives_renames():
    """Renaming the node or its ports does not change ``definition_hash``."""

    @node(output_name="y")
    def f(x):
        return x

    renamed = f.with_name("g").rename_inputs(x="a").rename_outputs(y="b")

    assert renamed.definition_hash == f.definition_hash


def test_identical_bodies_with_different_def_names_hash_differently():
    """The ``def`` line is part of the source, so the function name changes the hash."""

    @node(output_name="y")
    def first(x):
        return x + 1

    @node(output_name="y")
    def second(x):
        return x + 1

    assert first.definition_hash != second.definition_hash


def test_definition_hash_falls_back_when_source_is_unavailable():
    """A function built with exec still gets a 64-hex hash instead of an error."""
    func = _exec_function("def f(x):\n    return x + 1\n", "f")

    assert HEX64.fullmatch(node(output_name="y")(func).definition_hash)


def test_definition_hash_for_a_lambda_built_with_exec():
    """A lambda without source text hashes by its fallback."""
    func = _exec_function("g = lambda x: x * 2\n", "g")

    assert HEX64.fullmatch(FunctionNode(func, name="g", output_name="y").definition_hash)


def test_fallback_hash_is_stable_for_the_same_code():
    """Executing the same source twice gives the same fallback hash."""
    source = "def f(xs):\n    return [x + 1 for x in xs]\n"
    first = FunctionNode(_exec_function(source, "f"), output_name="y")
    second = FunctionNode(_exec_function(source, "f"), output_name="y")

    assert first.definition_hash == second.definition_hash


def test_fallback_hash_differs_for_different_code():
    """Functions without source but with different bodies hash differently."""
    first = FunctionNode(_exec_function("def f(x):\n    return x.alpha\n", "f"), output_name="y")
    second = FunctionNode(_exec_function("def f(x):\n    return x.beta\n", "f"), output_name="y")

    assert first.definition_hash != second.definition_hash


def test_fallback_hash_never_raises_on_an_empty_closure_cell():
    """A closure whose cell was never filled still hashes."""
    source = (
        "def outer():\n"
        "    def inner(x):\n"
        "        return x + later\n"
        "    return inner\n"
        "    later = 1\n"
    )
    inner = _exec_function(source, "outer")()

    assert HEX64.fullmatch(FunctionNode(inner, output_name="y").definition_hash)


# -- N7 multi-output construction (GN6) -------------------------------------------------------


def test_multi_output_generator_is_rejected():
    """A generator with several outputs is a ValueError at construction."""
    with pytest.raises(ValueError, match="'chunks'"):

        @node(output_name=("a", "b"))
        def chunks(n):
            yield from range(n)


# -- N8 renames -------------------------------------------------------------------------------


def test_with_name_returns_a_renamed_copy():
    """``with_name`` returns a new node and leaves the original alone."""

    @node(output_name="y")
    def f(x):
        return x

    g = f.with_name("g")

    assert g.name == "g"
    assert f.name == "f"
    assert g is not f


def test_rename_inputs_accepts_a_mapping_or_keywords():
    """``rename_inputs`` takes ``{old: new}`` or ``old=new``."""

    @node(output_name="out")
    def add(a, b):
        return a + b

    assert add.rename_inputs({"a": "left"}).inputs == ("left", "b")
    assert add.rename_inputs(a="left", b="right").inputs == ("left", "right")


def test_rename_outputs_accepts_a_mapping_or_keywords():
    """``rename_outputs`` takes ``{old: new}`` or ``old=new``."""

    @node(output_name=("q", "r"))
    def divide(a, b):
        return divmod(a, b)

    assert divide.rename_outputs({"q": "quotient"}).outputs == ("quotient", "r")
    assert divide.rename_outputs(r="remainder").outputs == ("q", "remainder")


def test_with_inputs_and_with_outputs_are_aliases():
    """``with_inputs`` / ``with_outputs`` behave like the ``rename_*`` helpers."""

    @node(output_name="y")
    def f(x):
        return x

    assert f.with_inputs(x="a").inputs == ("a",)
    assert f.with_outputs(y="b").outputs == ("b",)


def test_renames_can_swap_two_inputs():
    """A rename mapping applies all at once, so two inputs can swap names."""

    @node(output_name="diff")
    def sub(a, b):
        return a - b

    swapped = sub.rename_inputs(a="b", b="a")

    assert swapped.inputs == ("b", "a")


def test_renamed_inputs_reach_the_real_parameters_at_run_time():
    """A renamed input is passed to the function under its original parameter name."""

    @node(output_name="diff")
    def sub(a, b):
        return a - b

    graph = Graph([sub.rename_inputs(a="b", b="a")])

    assert SyncRunner().run(graph, {"a": 1, "b": 10})["diff"] == 9


def test_renaming_an_unknown_input_names_the_key_and_current_inputs():
    """A rename of a name the node does not have raises RenameError with both names."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(RenameError, match=r"(?s)'nope'.*'x'"):
        f.rename_inputs(nope="z")


def test_renaming_an_unknown_output_names_the_key_and_current_outputs():
    """A rename of an output the node does not have raises RenameError with both names."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(RenameError, match=r"(?s)'nope'.*'y'"):
        f.rename_outputs(nope="z")


def test_renaming_an_already_renamed_input_says_what_it_was_renamed_to():
    """RenameError for a stale name explains that it was renamed, and to what."""

    @node(output_name="y")
    def f(x):
        return x

    renamed = f.rename_inputs(x="a")

    with pytest.raises(RenameError, match=r"'x' was renamed to 'a'"):
        renamed.rename_inputs(x="b")


def test_rename_hint_follows_a_chain_of_renames_to_the_current_name():
    """After ``x -> a -> b`` the hint for ``x`` shows every hop and the current name ``b``."""

    @node(output_name="y")
    def f(x):
        return x

    renamed = f.rename_inputs(x="a").rename_inputs(a="b")

    with pytest.raises(
        RenameError, match=r"'x' was renamed to 'a', then to 'b' \(x -> a -> b\); rename 'b'"
    ):
        renamed.rename_inputs(x="c")


def test_renaming_an_already_renamed_output_says_what_it_was_renamed_to():
    """RenameError for a stale output name explains what it became."""

    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(RenameError, match=r"'y' was renamed to 'z'"):
        f.rename_outputs(y="z").rename_outputs(y="w")


def test_rename_error_is_a_value_error():
    """RenameError can be caught as ValueError."""
    assert issubclass(RenameError, ValueError)


# -- N9 name validity -------------------------------------------------------------------------


def test_invalid_names_are_accepted_by_the_node_and_rejected_by_the_graph():
    """``with_name('1bad')`` succeeds; Graph rejects the name."""

    @node(output_name="y")
    def f(x):
        return x

    bad = f.with_name("1bad")

    assert bad.name == "1bad"
    with pytest.raises(GraphConfigError, match="'1bad'"):
        Graph([bad])


# -- N10 misc ---------------------------------------------------------------------------------


def test_function_node_is_not_an_interrupt_and_not_cached_by_default():
    """A plain FunctionNode has ``cache`` False and ``is_interrupt`` False."""

    @node(output_name="y")
    def f(x):
        return x

    assert f.cache is False
    assert f.is_interrupt is False


def test_function_node_repr():
    """The repr shows the function and the outputs."""

    @node(output_name="doubled")
    def double(x):
        return x * 2

    assert repr(double) == "FunctionNode(double, outputs=('doubled',))"


def test_renamed_function_node_repr():
    """A renamed node's repr shows the function and its new name."""

    @node(output_name="doubled")
    def double(x):
        return x * 2

    assert repr(double.with_name("twice")) == "FunctionNode(double as 'twice', outputs=('doubled',))"


# -- N11 GraphNode ----------------------------------------------------------------------------


@node(output_name="doubled")
def double(x):
    return x * 2


@node(output_name="result")
def add(doubled, offset=1):
    return doubled + offset


@node(output_name="slow")
async def slow_double(x):
    return x * 2


def test_graph_node_name_falls_back_to_the_graph_name():
    """``as_node()`` without a name uses the graph's name."""
    gn = Graph([double], name="inner").as_node()

    assert isinstance(gn, GraphNode)
    assert gn.name == "inner"


def test_graph_node_explicit_name_wins():
    """``as_node(name=...)`` overrides the graph's name."""
    assert Graph([double], name="inner").as_node(name="renamed").name == "renamed"


def test_graph_node_without_any_name_is_a_value_error():
    """An unnamed graph wrapped without a name asks for one."""
    with pytest.raises(ValueError, match="name"):
        Graph([double]).as_node()


def test_graph_node_inputs_and_outputs_come_from_the_inner_graph():
    """A flat GraphNode exposes the inner graph's inputs and outputs."""
    gn = Graph([double, add], name="inner").as_node()

    assert gn.inputs == ("x", "offset")
    assert gn.outputs == ("doubled", "result")


def test_graph_node_keeps_inner_bound_inputs_as_optional_with_their_value():
    """An input bound on the inner graph stays an optional input carrying the bound value."""
    gn = Graph([double, add], name="inner").bind(x=5).as_node()

    assert "x" in gn.inputs
    assert gn.has_default_for("x")
    assert gn.get_default_for("x") == 5


def test_graph_node_exposes_inner_defaults():
    """An inner default makes the GraphNode input optional with that default."""
    gn = Graph([double, add], name="inner").as_node()

    assert gn.has_default_for("offset")
    assert gn.get_default_for("offset") == 1
    assert not gn.has_default_for("x")


def test_graph_node_outputs_honour_the_inner_selection():
    """Only the selected outputs of the inner graph leave the GraphNode."""
    gn = Graph([double, add], name="inner").select("result").as_node()

    assert gn.outputs == ("result",)


def test_graph_node_is_async_when_the_inner_graph_has_async_nodes():
    """``is_async`` reflects the inner graph's async nodes."""
    assert Graph([slow_double], name="a").as_node().is_async is True
    assert Graph([double], name="s").as_node().is_async is False


def test_graph_node_is_never_cached():
    """A GraphNode's ``cache`` is always False."""
    assert Graph([double], name="inner").as_node().cache is False


def test_graph_node_definition_hash_differs_from_the_graph():
    """The GraphNode hash is derived from, but not equal to, the inner graph's hash."""
    graph = Graph([double], name="inner")
    gn = graph.as_node()

    assert HEX64.fullmatch(gn.definition_hash)
    assert gn.definition_hash != graph.definition_hash


def test_graph_node_runner_is_validated_immediately():
    """A SyncRunner given to ``as_node`` rejects an inner graph with async nodes at once."""
    with pytest.raises(IncompatibleRunnerError, match="slow_double"):
        Graph([slow_double], name="inner").as_node(runner=SyncRunner())


def test_graph_node_accepts_a_compatible_runner():
    """A compatible runner is stored on the GraphNode."""
    runner = SyncRunner()

    assert Graph([double], name="inner").as_node(runner=runner).runner is runner


def test_graph_node_ports_can_be_renamed():
    """GraphNode renames work like FunctionNode renames."""
    gn = Graph([double], name="inner").as_node().rename_inputs(x="value").rename_outputs(
        doubled="twice"
    )

    assert gn.inputs == ("value",)
    assert gn.outputs == ("twice",)


def test_graph_node_rename_of_an_unknown_port_is_a_rename_error():
    """Renaming a port a GraphNode does not have raises RenameError."""
    with pytest.raises(RenameError, match=r"(?s)'nope'.*'x'"):
        Graph([double], name="inner").as_node().rename_inputs(nope="y")


# -- N12 map_over -----------------------------------------------------------------------------


def test_graph_node_is_unmapped_by_default():
    """``map_config`` is None until ``map_over`` is called."""
    assert Graph([double], name="inner").as_node().map_config is None


def test_map_over_returns_a_new_mapped_graph_node():
    """``map_over`` records ``([params], mode, error_handling)`` on a copy."""
    gn = Graph([double, add], name="inner").as_node()

    mapped = gn.map_over("x", "offset", mode="product", error_handling="continue")

    assert mapped is not gn
    assert mapped.map_config == (["x", "offset"], "product", "continue")
    assert gn.map_config is None


def test_map_over_defaults_to_zip_and_raise():
    """The default mode is zip and the default error handling is raise."""
    mapped = Graph([double], name="inner").as_node().map_over("x")

    assert mapped.map_config == (["x"], "zip", "raise")


def test_map_over_without_params_is_a_value_error():
    """``map_over()`` needs at least one input name."""
    with pytest.raises(ValueError):
        Graph([double], name="inner").as_node().map_over()


def test_map_over_an_unknown_param_lists_available_inputs():
    """Mapping over a non-input names the available inputs."""
    with pytest.raises(ValueError, match=r"(?s)'nope'.*'x'"):
        Graph([double], name="inner").as_node().map_over("nope")


def test_map_over_rejects_an_unknown_mode():
    """An unknown map mode is a ValueError listing the valid modes."""
    with pytest.raises(ValueError, match="zip"):
        Graph([double], name="inner").as_node().map_over("x", mode="cartesian")


def test_map_over_rejects_an_unknown_error_handling():
    """An unknown error_handling is a ValueError listing the valid choices."""
    with pytest.raises(ValueError, match="continue"):
        Graph([double], name="inner").as_node().map_over("x", error_handling="ignore")


def test_renaming_a_mapped_input_updates_the_map_config():
    """A rename of a mapped input carries over to ``map_config``."""
    mapped = Graph([double], name="inner").as_node().map_over("x")

    assert mapped.rename_inputs(x="value").map_config == (["value"], "zip", "raise")
    assert mapped.map_config == (["x"], "zip", "raise")


def test_as_node_map_over_is_sugar_for_map_over():
    """``as_node(map_over=...)`` equals ``as_node().map_over(...)``."""
    gn = Graph([double], name="inner").as_node(map_over="x")

    assert gn.map_config == (["x"], "zip", "raise")


# -- HI1 interrupts ---------------------------------------------------------------------------


def test_interrupt_decorator_builds_an_interrupt_node():
    """``@interrupt(output_name=...)`` yields an InterruptNode whose inputs come from the handler."""

    @interrupt(output_name="decision")
    def approval(draft):
        return None

    assert isinstance(approval, InterruptNode)
    assert approval.is_interrupt is True
    assert approval.inputs == ("draft",)
    assert approval.outputs == ("decision",)


def test_interrupt_accepts_several_outputs():
    """``output_name`` may be a tuple."""

    @interrupt(output_name=("decision", "comment"))
    def approval(draft):
        return None

    assert approval.outputs == ("decision", "comment")


def test_interrupt_handler_may_be_async():
    """An async handler makes an async interrupt node."""

    @interrupt(output_name="decision")
    async def approval(draft):
        return None

    assert approval.is_async is True


def test_interrupt_without_output_name_is_a_type_error():
    """``@interrupt()`` without ``output_name`` is a TypeError."""
    with pytest.raises(TypeError, match="output_name"):

        @interrupt()
        def approval(draft):
            return None


def test_bare_interrupt_decorator_is_a_type_error():
    """Bare ``@interrupt`` (no call) is a TypeError asking for ``output_name``."""
    with pytest.raises(TypeError, match="output_name"):

        @interrupt
        def approval(draft):
            return None


def test_interrupt_node_constructor_requires_output_name():
    """``InterruptNode(fn)`` without ``output_name`` is a TypeError."""

    def approval(draft):
        return None

    with pytest.raises(TypeError, match="output_name"):
        InterruptNode(approval)
