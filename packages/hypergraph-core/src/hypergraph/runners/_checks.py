"""Caller mistakes in run()/map() arguments, caught before anything runs (issue 11, items 8-10, 12).

Small functions, each called with one line from the preparation steps, so a user's mistake gets
a specific error naming what is wrong instead of an ``AttributeError`` far away.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hypergraph._stack import user_stacklevel
from hypergraph.exceptions import GraphConfigError
from hypergraph.graph import Graph
from hypergraph.nodes._base import HyperNode

__all__ = [
    "check_graph_argument",
    "check_map_over_names",
    "check_value_keys",
    "clone_value",
    "normalize_clone",
    "warn_inner_bind_overrides",
]


def check_graph_argument(graph: Any, method: str) -> None:
    """``runner.run(None)``, a node, a string or a list: a TypeError saying a Graph is expected."""
    if isinstance(graph, Graph):
        return
    hint = ""
    if isinstance(graph, HyperNode):
        hint = f" Wrap the node in a graph: {method}(Graph([{graph.name}]), ...)."
    elif isinstance(graph, list | tuple):
        hint = f" Build the graph first: {method}(Graph([...]), ...)."
    raise TypeError(
        f"{method}() expects a Graph as its first argument, got {type(graph).__name__} "
        f"({graph!r:.80}).{hint}"
    )


def check_value_keys(values: Mapping[Any, Any]) -> None:
    """Input names are strings: ``{1: 2}`` is a TypeError naming the key."""
    for key in values:
        if not isinstance(key, str):
            raise TypeError(
                f"Input names must be strings, got the key {key!r} ({type(key).__name__}) in "
                f"values. Use the parameter's name, e.g. values={{'x': ...}}."
            )


def check_map_over_names(graph: Graph, names: tuple[str, ...]) -> None:
    """MP2: every mapped name is an input of the graph, and none is named twice."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(
                f"map_over names {name!r} twice; list each input once "
                f"(map_over={list(dict.fromkeys(names))!r})."
            )
        seen.add(name)
    valid = graph.inputs.all
    unknown = []
    for name in names:
        if name in valid:
            continue
        if "." in name:
            graph._check_scoped_key(name)  # a nested graph's input ("gn.x"); raises if not
            continue
        unknown.append(name)
    if unknown:
        raise ValueError(
            f"map_over names {', '.join(map(repr, unknown))}, which "
            f"{'is not an input' if len(unknown) == 1 else 'are not inputs'} of graph "
            f"{graph.name or '(unnamed)'}. Inputs: {', '.join(map(repr, valid)) or '(none)'}."
        )


def normalize_clone(clone: Any, map_over: Sequence[str]) -> bool | tuple[str, ...]:
    """MP4: ``True``/``False``, or the names to deep-copy; a string is one name, not its letters.

    Mapped names and non-string entries are a TypeError; unknown names are ignored (MP4).
    """
    if isinstance(clone, bool):
        return clone
    if clone is None:
        return False
    names = (clone,) if isinstance(clone, str) else clone
    if not isinstance(names, Sequence | set | frozenset):
        raise TypeError(
            f"clone must be True, False or a list of input names, got {type(clone).__name__}"
        )
    result = tuple(names)
    for name in result:
        if not isinstance(name, str):
            raise TypeError(f"clone entries must be input names (str), got {name!r}")
        if name in map_over:
            raise TypeError(
                f"clone names {name!r}, which is mapped over: each item already gets its own "
                "element. List only broadcast (non-mapped) inputs in clone."
            )
    return result


def clone_value(name: str, value: Any) -> Any:
    """A deep copy of a broadcast value, or GraphConfigError naming the parameter."""
    try:
        return copy.deepcopy(value)
    except Exception as exc:
        raise GraphConfigError(
            f"clone: the value of {name!r} cannot be deep-copied ({type(exc).__name__}: {exc}). "
            f"Leave {name!r} out of clone= to share it between items, or pass a copyable value."
        ) from exc


def warn_inner_bind_overrides(graph: Graph, values: Mapping[str, Any]) -> None:
    """A run-time value replacing a value bound inside a nested graph warns once per call."""
    inner = graph._inner_bound
    if not inner or not values:
        return
    overridden = [
        k for k in values if k in inner and k not in graph._bound and values[k] is not inner[k]
    ]
    if overridden:
        warnings.warn(
            f"Values given at run time override values bound inside nested graphs: "
            f"{', '.join(map(repr, overridden))}. The nested graph receives the given value "
            "instead of its own binding.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
