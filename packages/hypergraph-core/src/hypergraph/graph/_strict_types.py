"""``Graph(strict_types=True)``: every data edge must connect compatible annotations.

The check reads annotations once, at construction (SPEC G16, ER1). An output type is the
function's return annotation (a tuple annotation is split across several outputs; a drained
generator is ``str``/``bytes``/``list``; an interrupt's ``X | None`` is ``X``). Nested graph
ports take the types of the inner nodes behind them.
"""

from __future__ import annotations

import types
import typing
from typing import TYPE_CHECKING, Any, Union

from hypergraph.exceptions import GraphConfigError

if TYPE_CHECKING:
    from hypergraph.graph._graph import Graph
    from hypergraph.nodes._base import HyperNode

__all__ = ["check_strict_types"]

_MISSING = object()


def check_strict_types(graph: Graph) -> None:
    """Raise ``GraphConfigError`` for the first data edge whose types are missing or disagree.

    A nested graph's port stands for every inner node behind it: its type as an output is the
    union of its inner producers' types, and as an input each inner consumer's annotation must
    accept what flows in.
    """
    nodes = graph._nodes
    for src_name, dst_name, names in graph._data_edges:
        src, dst = nodes[src_name], nodes[dst_name]
        for value in names:
            produced = output_type(src, value)
            if produced is _MISSING:
                raise GraphConfigError(
                    f"strict_types: output {value!r} of node {src_name!r} has no type annotation. "
                    f"Annotate the function's return type, or build the graph without strict_types."
                )
            for consumer, expected in input_types(dst, value, dst_name):
                if expected is _MISSING:
                    raise GraphConfigError(
                        f"strict_types: parameter {value!r} of node {consumer!r} has no type "
                        "annotation. Annotate it, or build the graph without strict_types."
                    )
                if not compatible(produced, expected):
                    raise GraphConfigError(
                        f"strict_types: node {src_name!r} produces {value!r} as "
                        f"{_show(produced)}, but node {consumer!r} expects {_show(expected)}. Fix "
                        "the annotations, convert the value in a node between them, or build the "
                        "graph without strict_types."
                    )


def output_type(node: HyperNode, name: str) -> Any:
    """The annotated type of output ``name`` of ``node`` (``_MISSING`` when unknown).

    For a nested graph: the union of every inner producer's type (a mapped one: a list of it).
    Evaluated with an explicit stack, so any nesting depth works.
    """
    from hypergraph.nodes.graph_node import GraphNode

    results: dict[tuple[int, str], Any] = {}
    stack: list[tuple[HyperNode, str, bool]] = [(node, name, False)]
    while stack:
        current, port, expanded = stack.pop()
        key = (id(current), port)
        if key in results:
            continue
        if not isinstance(current, GraphNode):
            results[key] = _function_output_type(current, port)
            continue
        inner_name = current.inner_output(port)
        producers = [n for n in current.graph._nodes.values() if inner_name in n.outputs]
        if not expanded:
            stack.append((current, port, True))
            stack.extend((p, inner_name, False) for p in producers)
            continue
        produced = [results[(id(p), inner_name)] for p in producers]
        if not produced or any(p is _MISSING for p in produced):
            results[key] = _MISSING
            continue
        unique = list(dict.fromkeys(produced))
        combined = unique[0] if len(unique) == 1 else Union[tuple(unique)]  # noqa: UP007
        results[key] = list[combined] if current.map_config is not None else combined  # type: ignore[valid-type]
    return results[(id(node), name)]


def _function_output_type(node: HyperNode, name: str) -> Any:
    func = getattr(node, "func", None)
    if func is None:
        return _MISSING
    hints = _hints(func)
    if "return" not in hints:
        return _MISSING
    returned = hints["return"]
    if node.is_generator:
        join = getattr(node, "generator_join", "list")
        return {"str": str, "bytes": bytes}.get(join, list)
    if node.is_interrupt:
        returned = _without_none(returned)
    index = node.outputs.index(name)
    if len(node.outputs) == 1:
        return returned
    args = typing.get_args(returned)
    if typing.get_origin(returned) is tuple and len(args) == len(node.outputs):
        return args[index]
    return _MISSING


def input_type(node: HyperNode, name: str) -> Any:
    """The annotated type of input port ``name`` of ``node``; a nested graph's first consumer's."""
    found = input_types(node, name, node.name)
    return found[0][1] if found else _MISSING


def input_types(node: HyperNode, name: str, label: str) -> list[tuple[str, Any]]:
    """``(consumer, annotation)`` for every function behind input port ``name`` of ``node``.

    A plain node gives one pair; a nested graph gives one per inner consumer, at any depth
    (labelled ``outer/inner``); ``_MISSING`` marks an unannotated parameter or a port no
    inner node consumes. Walks with an explicit stack, so any nesting depth works.
    """
    from hypergraph.nodes.graph_node import GraphNode

    found: list[tuple[str, Any]] = []
    stack: list[tuple[HyperNode, str, str]] = [(node, name, label)]
    while stack:
        current, port, where = stack.pop()
        if isinstance(current, GraphNode):
            inner_name = current.inner_input(port)
            consumers = [n for n in current.graph._nodes.values() if inner_name in n.inputs]
            if not consumers:
                found.append((where, _MISSING))
            stack.extend(
                (n, inner_name, f"{where}/{n.name}") for n in reversed(consumers)
            )
            continue
        func = getattr(current, "func", None)
        if func is None:
            found.append((where, _MISSING))
        else:
            found.append((where, _hints(func).get(current._param_of[port], _MISSING)))
    return found


def compatible(produced: Any, expected: Any) -> bool:
    """True when a value annotated ``produced`` may be passed where ``expected`` is annotated."""
    if expected in (Any, object) or produced is Any:
        return True
    expected_options = _union_members(expected)
    return all(
        any(_fits(option, target) for target in expected_options)
        for option in _union_members(produced)
    )


def _fits(produced: Any, expected: Any) -> bool:
    if expected in (Any, object) or produced == expected:
        return True
    produced_origin = typing.get_origin(produced) or produced
    expected_origin = typing.get_origin(expected) or expected
    if not (isinstance(produced_origin, type) and isinstance(expected_origin, type)):
        return False
    if not issubclass(produced_origin, expected_origin):
        return False
    expected_args = typing.get_args(expected)
    return not expected_args or typing.get_args(produced) == expected_args


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _without_none(annotation: Any) -> Any:
    members = [m for m in _union_members(annotation) if m is not type(None)]
    if len(members) == 1:
        return members[0]
    return Union[tuple(members)] if members else annotation  # noqa: UP007


def _hints(func: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: compare what is written
        return dict(getattr(func, "__annotations__", {}))


def _show(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)
