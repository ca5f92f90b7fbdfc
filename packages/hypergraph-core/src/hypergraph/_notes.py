"""The PEP 678 note a failing node's exception carries: which node, where, and with what.

Runners call :func:`add_node_note` on their failure path only, so a run that succeeds pays
nothing. The exception itself is never wrapped or replaced: ``except ValueError`` still catches
it, and the note shows under its traceback. When the failure travels out through nested graph
nodes, each level prefixes its name to the same note, which ends up reading
``outer/retrieval/embed``.
"""

from __future__ import annotations

import builtins
import reprlib
from collections.abc import Mapping
from typing import Any

__all__ = ["add_node_note", "format_inputs"]


class _BoundedRepr(reprlib.Repr):
    """``reprlib.Repr`` that lets a failing ``__repr__`` raise (so the input is skipped)."""

    def repr_instance(self, x: Any, level: int) -> str:
        text = builtins.repr(x)
        if len(text) > self.maxother:
            half = max(0, (self.maxother - 3) // 2)
            text = text[:half] + "..." + text[len(text) - (self.maxother - 3 - half) :]
        return text


_REPR = _BoundedRepr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = 5
_REPR.maxdict = 4
_REPR.maxlevel = 3

#: at most this many inputs are shown; the rest are counted
MAX_INPUTS = 8
#: the whole input list is cut to this many characters
MAX_INPUTS_TEXT = 400

# attribute on the exception: [index in __notes__, path below the root, root's map item, details]
_STATE = "_hypergraph_node_note"


def format_inputs(inputs: Mapping[str, Any]) -> str:
    """``name=repr`` pairs, each repr bounded; inputs whose repr raises are left out."""
    parts: list[str] = []
    for name, value in inputs.items():
        if len(parts) == MAX_INPUTS:
            parts.append(f"... ({len(inputs) - MAX_INPUTS} more)")
            break
        try:
            text = _REPR.repr(value)
        except Exception:  # a broken __repr__ must not hide the node's own error
            continue
        parts.append(f"{name}={text}")
    joined = ", ".join(parts)
    if len(joined) > MAX_INPUTS_TEXT:
        joined = joined[: MAX_INPUTS_TEXT - 3] + "..."
    return joined


def _segment(name: str | None, item_index: int | None) -> str:
    """A path segment: the graph or node name, with ``[i]`` when it ran as map item ``i``."""
    return (name or "") + (f"[{item_index}]" if item_index is not None else "")


def _text(path: list[str], root: str, details: str) -> str:
    where = "/".join([root, *path] if root else path)
    return f"hypergraph: node {where!r} failed {details}"


def add_node_note(
    exc: BaseException,
    node_name: str,
    graph_name: str | None,
    superstep: int,
    inputs: Mapping[str, Any],
    item_index: int | None = None,
    *,
    nested: bool = False,
) -> None:
    """Note on ``exc`` that node ``node_name`` of graph ``graph_name`` raised it.

    The first call (the innermost graph) writes the note with the inputs and superstep. When the
    failing node is a nested graph node (``nested=True``) and the exception already carries the
    note, only the path is extended: the inner graph's name gives way to the name of the node
    that runs it (keeping its ``[i]`` when it ran as a map item). Never raises.
    """
    try:
        state: list[Any] | None = getattr(exc, _STATE, None)
        notes: list[str] | None = getattr(exc, "__notes__", None)
        noted = state is not None and notes is not None and state[0] < len(notes)
        root = _segment(graph_name, item_index)
        if noted and nested and state is not None and notes is not None:
            index, path, inner_item, details = state
            path = [_segment(node_name, inner_item), *path]
            state[1:3] = [path, item_index]
            notes[index] = _text(path, root, details)
            return
        shown = format_inputs(inputs)
        where = f"in superstep {superstep}"
        details = f"{where} with inputs: {shown}" if shown else f"{where} (no inputs)"
        text = _text([node_name], root, details)
        if noted and state is not None and notes is not None:
            # the same exception object raised again by another run: rewrite its note
            notes[state[0]] = text
            state[1:] = [[node_name], item_index, details]
            return
        exc.add_note(text)
        setattr(exc, _STATE, [len(exc.__notes__) - 1, [node_name], item_index, details])
    except Exception:  # exceptions with __slots__ or a read-only __notes__: leave them alone
        return
