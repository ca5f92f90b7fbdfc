"""Checking run()/map() options and normalizing the caller's input values (SPEC X13-X16, X22)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hypergraph._stack import user_stacklevel
from hypergraph._suggest import closest
from hypergraph.exceptions import GraphConfigError, IncompatibleRunnerError
from hypergraph.nodes.graph_node import GraphNode
from hypergraph.runners._checks import check_value_keys

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.runners.base import BaseRunner

__all__ = [
    "UNSET",
    "PartitionedValues",
    "check_common_options",
    "check_keywords",
    "check_structure",
    "merge_values",
    "partition_values",
    "user_stacklevel",
]

class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marks an option the caller did not pass."""

_ON_MISSING = ("ignore", "warn", "error")
_ERROR_HANDLING = ("raise", "continue")


def check_common_options(
    *,
    select: Any,
    entrypoint: Any,
    on_missing: str,
    error_handling: str,
    max_iterations: float | None = None,
) -> None:
    """X16 step 1: option values, before anything touches the inputs."""
    if on_missing not in _ON_MISSING:
        raise ValueError(f"on_missing must be one of {', '.join(map(repr, _ON_MISSING))}; got {on_missing!r}")
    if error_handling not in _ERROR_HANDLING:
        raise ValueError(
            f"error_handling must be one of {', '.join(map(repr, _ERROR_HANDLING))}; got "
            f"{error_handling!r}"
        )
    if select is not UNSET and select is not None:
        raise ValueError(
            "Runtime select= is not supported. Configure the outputs on the graph before running: "
            "runner.run(graph.select('a', 'b'), ...)."
        )
    if entrypoint is not None:
        raise ValueError(
            "Runtime entrypoint= is not supported. Configure it on the graph: "
            "Graph(..., entrypoint='node') or graph.with_entrypoint('node')."
        )
    if max_iterations is not None and not max_iterations >= 1:
        raise ValueError(f"max_iterations must be >= 1 (or float('inf')); got {max_iterations!r}")


def merge_values(
    graph: Graph,
    values: Mapping[str, Any] | None,
    kwargs: dict[str, Any],
    *,
    method: str,
    own_options: Iterable[str],
    other_method: str,
    other_options: Iterable[str],
) -> dict[str, Any]:
    """X15: merge ``values`` and keyword shorthand; option-named keywords are errors.

    ``inputs={...}`` (the name older docs use for ``values``) is accepted with a
    DeprecationWarning, unless the graph has an input literally named ``inputs``; it is removed
    from ``kwargs`` so later keyword checks don't see it.
    """
    if (
        values is None
        and isinstance(kwargs.get("inputs"), Mapping)
        and "inputs" not in graph.inputs.all
    ):
        warnings.warn(
            f"{method}(inputs=...) is deprecated; pass the same dict as values=... instead.",
            DeprecationWarning,
            stacklevel=user_stacklevel(),
        )
        values = kwargs.pop("inputs")
    if values is not None and not isinstance(values, Mapping):
        raise TypeError(f"values must be a dict of input values, got {type(values).__name__}")
    merged = dict(values) if values else {}
    check_value_keys(merged)
    if kwargs:
        own = set(own_options)
        other = set(other_options)
        for key, value in kwargs.items():
            if key in other and key not in own:
                raise ValueError(
                    f"{key!r} is an option of {other_method}(), not of {method}(). If it is an input "
                    f"of your graph, pass it as values={{{key!r}: ...}}."
                )
            if key in own:
                raise ValueError(
                    f"{key!r} is a {method}() option and cannot be used as an input keyword; pass "
                    f"the input as values={{{key!r}: ...}}."
                )
            if "." in key:
                raise ValueError(
                    f"Dotted key {key!r} cannot be a keyword argument; pass it as "
                    f"values={{{key!r}: ...}}."
                )
            if key in merged:
                raise ValueError(
                    f"Input {key!r} was provided in both values and kwargs; pass it once."
                )
            merged[key] = value
    return merged


def check_keywords(graph: Graph, kwargs: dict[str, Any], options: Iterable[str] = ()) -> None:
    """X14: keyword shorthand must name an input (typos in keywords are errors, not warnings).

    The error suggests the closest input or runner ``options`` name.
    """
    if not kwargs:
        return
    inputs, answer_keys, _ = value_roles(graph)
    for key in kwargs:
        if key in inputs or key in answer_keys:
            continue
        if isinstance(graph._nodes.get(key), GraphNode) or _nested_answer_owners(graph, key):
            continue
        if key in graph._bound:
            continue  # bound, but select() made its consumers inactive: partition_values warns
        option_names = tuple(options)
        match = closest(key, (*graph.inputs.all, *option_names))
        hint = ""
        if match is not None:
            what = "the option" if match in option_names else "the input"
            hint = f" Did you mean {what} {match!r}?"
        raise ValueError(
            f"Unknown input keyword {key!r} for graph {graph.name or '(unnamed)'}.{hint} Accepted "
            f"input keywords: {', '.join(map(repr, graph.inputs.all)) or '(none)'}."
        )


class PartitionedValues:
    """The caller's values sorted by role: inputs, interrupt answers, nested-scoped values."""

    __slots__ = ("answers", "ignored", "nested_answers", "provided", "scoped")

    def __init__(self) -> None:
        self.provided: dict[str, Any] = {}
        # keys that are no input of the graph (warned about; used for "did you mean" hints)
        self.ignored: tuple[str, ...] = ()
        self.answers: dict[str, Any] = {}
        self.scoped: dict[str, dict[str, Any]] = {}
        # nested graph node name -> interrupt answers for its run, used up when handed over
        self.nested_answers: dict[str, dict[str, Any]] = {}


def partition_values(graph: Graph, values: dict[str, Any]) -> PartitionedValues:
    """X13, X14, G14, HI3: route each key to its role, rejecting internal values."""
    parts = PartitionedValues()
    inputs, answer_keys, bound_scoped = value_roles(graph)
    if bound_scoped:
        parts.scoped = {head: dict(scoped) for head, scoped in bound_scoped.items()}
    if not values:
        return parts
    if inputs.issuperset(values):
        parts.provided = dict(values)
        return parts
    spec = graph.inputs
    nodes = graph._nodes
    unknown: list[str] = []
    for key, value in values.items():
        if key in inputs:
            parts.provided[key] = value
            continue
        if key in answer_keys:
            parts.answers[key] = value
            continue
        head, dot, rest = key.partition(".")
        target = nodes.get(head)
        if dot and isinstance(target, GraphNode):
            if _answers_interrupt(target.graph, rest):
                # answers are handed to the nested run once, then used up (HI2, HI6)
                parts.nested_answers.setdefault(head, {})[rest] = value
                continue
            if not target.namespaced:
                parts.scoped.setdefault(head, {})[rest] = value
                continue
        if isinstance(target, GraphNode) and isinstance(value, Mapping) and not dot:
            # {"gn": {"x": 1}} is the nested form of "gn.x" (G14)
            for inner_key, inner_value in value.items():
                port = f"{head}.{inner_key}"
                if target.namespaced and port in inputs:  # a namespaced port: a plain input
                    parts.provided[port] = inner_value
                elif _answers_interrupt(target.graph, inner_key):
                    parts.nested_answers.setdefault(head, {})[inner_key] = inner_value
                else:
                    parts.scoped.setdefault(head, {})[inner_key] = inner_value
            continue
        nested = _nested_answer_owners(graph, key)
        if nested:
            for owner in nested:
                parts.nested_answers.setdefault(owner, {})[key] = value
            continue
        producers = graph._active_producers(key)
        if producers:
            raise ValueError(
                f"Cannot provide {key!r}: it is produced inside the graph by "
                f"{', '.join(map(repr, producers))}, so providing it would leave it ambiguous "
                f"whether that node should run. To start from {key!r}, slice the graph with "
                f"graph.with_entrypoint(...) so its producer is excluded, or leave {key!r} out."
            )
        unknown.append(key)
    if unknown:
        parts.ignored = tuple(unknown)
        hints = "".join(
            f" Did you mean {match!r} for {key!r}?"
            for key in unknown
            if (match := closest(key, spec.all)) is not None
        )
        inactive = [k for k in unknown if k in graph._bound]
        note = (
            f" ({', '.join(map(repr, inactive))} {'is' if len(inactive) == 1 else 'are'} bound, "
            "but no node of the selection uses it: select() made its consumers inactive.)"
            if inactive else ""
        )
        warnings.warn(
            f"Ignoring values that are not inputs of graph {graph.name or '(unnamed)'}: "
            f"{', '.join(map(repr, unknown))}.{hints} Valid inputs: "
            f"{', '.join(map(repr, spec.all)) or '(none)'}.{note}",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return parts


def value_roles(
    graph: Graph,
) -> tuple[frozenset[str], frozenset[str], dict[str, dict[str, Any]]]:
    """Input names, interrupt answer keys and dotted bound values of a graph, computed once."""
    try:
        return graph.__dict__["_value_roles"]  # type: ignore[no-any-return]
    except KeyError:
        pass
    bound_scoped: dict[str, dict[str, Any]] = {}
    for key, value in graph._bound.items():
        head, dot, rest = key.partition(".")
        if dot:
            bound_scoped.setdefault(head, {})[rest] = value
    roles = (frozenset(graph.inputs.all), frozenset(graph.interrupt_outputs), bound_scoped)
    graph.__dict__["_value_roles"] = roles
    return roles


def _answers_interrupt(graph: Graph, key: str) -> bool:
    """True if ``key`` answers an interrupt of ``graph``, directly or at any nesting depth."""
    if key in graph.interrupt_outputs or _nested_answer_owners(graph, key):
        return True
    head, dot, rest = key.partition(".")
    node = graph._nodes.get(head)
    return bool(dot) and isinstance(node, GraphNode) and _answers_interrupt(node.graph, rest)


def _nested_answer_owners(graph: Graph, key: str) -> list[str]:
    """Flat nested graph nodes that have an interrupt answering to ``key`` (HI6)."""
    owners = []
    for node in graph._nodes.values():
        if isinstance(node, GraphNode) and not node.namespaced and node.graph.has_interrupts:
            inner = node.graph
            if key in inner.interrupt_outputs or _nested_answer_owners(inner, key):
                owners.append(node.name)
    return owners


def check_structure(runner: BaseRunner, graph: Graph) -> None:
    """X16 step 3: runner capabilities, node types, nested runners, cycle entrypoints (G10)."""
    runner_name = type(runner).__name__
    runner.capabilities.validate_graph(graph, runner_name=runner_name)
    _check_node_types(runner, graph, runner_name)
    check_nesting_depth(graph)
    needs = graph.plan.needs_entrypoint
    if needs:
        raise GraphConfigError(
            f"Graph {graph.name or '(unnamed)'} has a cycle ({needs[0]}) but no entrypoint, so "
            "it is ambiguous which node runs first. Cycles need an explicit entrypoint: "
            "Graph(..., entrypoint='node') or graph.with_entrypoint('node')."
        )


FRAMES_PER_LEVEL = 10
"""Interpreter frames one level of graph nesting costs at most while it runs (measured)."""


def check_nesting_depth(graph: Graph) -> None:
    """Fail before running a nesting deeper than the interpreter's recursion budget allows."""
    import sys

    from hypergraph.nodes.graph_node import GraphNode

    deepest: tuple[str, ...] = ()
    pending: list[tuple[Graph, tuple[str, ...]]] = [(graph, ())]
    while pending:
        current, path = pending.pop()
        if len(path) > len(deepest):
            deepest = path
        for n in current._nodes.values():
            if isinstance(n, GraphNode):
                pending.append((n.graph, (*path, n.name)))
    limit = sys.getrecursionlimit()
    budget = max((limit - 150) // FRAMES_PER_LEVEL, 1)
    if len(deepest) > budget:
        shown = "/".join(deepest) if len(deepest) <= 8 else (
            "/".join(deepest[:3]) + "/.../" + "/".join(deepest[-3:])
        )
        raise GraphConfigError(
            f"Graph {graph.name or '(unnamed)'} nests graphs {len(deepest)} levels deep "
            f"({shown}); running more than {budget} levels would exceed Python's recursion "
            f"limit ({limit}). Flatten some levels, or raise the limit with "
            "sys.setrecursionlimit(...) before running."
        )


def _check_node_types(runner: BaseRunner, graph: Graph, runner_name: str) -> None:
    supported = tuple(runner.supported_node_types)
    pending = [graph]
    while pending:  # iterative: nesting depth is not bounded by the recursion limit
        pending.extend(_check_own_node_types(pending.pop(), supported, runner_name))


def _check_own_node_types(
    graph: Graph, supported: tuple[type, ...], runner_name: str
) -> list[Graph]:
    """Check ``graph``'s own nodes; return the nested graphs that run on the same runner."""
    nested: list[Graph] = []
    for node in graph._nodes.values():
        if not isinstance(node, supported):
            if node.is_interrupt:
                raise IncompatibleRunnerError(
                    f"This graph has interrupts ({node.name}), but {runner_name} doesn't support "
                    "interrupts. Use AsyncRunner instead.",
                    node_name=node.name,
                    capability="supports_interrupts",
                )
            raise TypeError(
                f"Node {node.name!r} is a {type(node).__name__}, which {runner_name} cannot "
                f"execute (supported: {', '.join(t.__name__ for t in supported)})."
            )
        if isinstance(node, GraphNode) and node.runner is None:
            nested.append(node.graph)
    return nested[::-1]


def check_structure_cached(runner: BaseRunner, graph: Graph) -> None:
    """``check_structure`` once per (graph configuration, runner type, capabilities)."""
    key = (type(runner), runner.capabilities)
    checked = graph.__dict__.setdefault("_checked", set())
    if key in checked:
        return
    check_structure(runner, graph)
    checked.add(key)


def check_missing(graph: Graph, parts: PartitionedValues) -> None:
    """X17: every required input of the active scope must be provided (or scoped to its node)."""
    from hypergraph.exceptions import MissingInputError

    required = graph.inputs.required
    if not required:
        return
    provided = parts.provided
    missing = [
        name for name in required if name not in provided and not _scoped_only(graph, name, parts)
    ]
    if missing:
        raise MissingInputError(
            missing, provided=list(provided), hints=_missing_hints(graph, missing, parts)
        )


def _missing_hints(graph: Graph, missing: list[str], parts: PartitionedValues) -> dict[str, str]:
    """A near name for each missing input: a misspelled key passed, or an output of the graph."""
    hints: dict[str, str] = {}
    for name in missing:
        passed = closest(name, parts.ignored)
        if passed is not None:
            hints[name] = f"You passed {passed!r}: did you mean {name!r}?"
            continue
        output = closest(name, graph.outputs)
        if output is not None:
            consumers = [n.name for n in graph._nodes.values() if name in n.inputs]
            producers = graph._producers.get(output, [])
            hints[name] = (
                f"Did you mean {output!r}? It is an output of {', '.join(map(repr, producers))}; "
                f"{', '.join(map(repr, consumers))} would receive it if the parameter "
                f"{name!r} were named {output!r} (or use .rename_inputs({name}={output!r}))"
            )
            continue
        other = closest(name, [i for i in graph.inputs.all if i not in missing])
        if other is not None:
            hints[name] = f"Did you mean {other!r}?"
    return hints


def _scoped_only(graph: Graph, name: str, parts: PartitionedValues) -> bool:
    """True if every consumer of ``name`` is a nested graph that received it by dotted key."""
    if not parts.scoped:
        return False
    consumers = [n for n in graph._nodes.values() if name in n.inputs]
    return bool(consumers) and all(
        isinstance(n, GraphNode) and name in parts.scoped.get(n.name, ()) for n in consumers
    )


def check_defaults_copyable(graph: Graph, parts: PartitionedValues) -> None:
    """X12: a default that will be used must be deep-copyable."""
    for node_name, param in graph.plan.uncopyable:
        if param not in parts.provided:
            raise GraphConfigError(
                f"The default of parameter {param!r} of node {node_name!r} cannot be deep-copied, "
                "and defaults are copied on every use. Bind the object instead: "
                f"graph.bind({param}=...), which passes it by reference."
            )
