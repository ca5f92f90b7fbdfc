"""HyperNode: the immutable value every node type shares (name, ports, renames, defaults)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from hypergraph.exceptions import RenameError
from hypergraph.nodes._identity import StateReader, definition_hash_of, state_reader

if TYPE_CHECKING:
    from hypergraph.policies import RetryPolicy

__all__ = ["CallableNode", "HyperNode"]

_NO_DEFAULT = object()
_UNREAD: Any = object()


class HyperNode:
    """Base of all nodes: a name, input ports, output ports and rename helpers.

    Nodes are values (SPEC CV3): every ``with_*``/``rename_*`` returns a new node.
    """

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    cache: bool = False
    is_async: bool = False
    is_generator: bool = False
    is_gate: bool = False
    is_interrupt: bool = False
    # node policies as declared (the plan resolves them against the graph's default)
    retry: RetryPolicy | None = None
    timeout: float | None = None

    # graph-facing input name -> parameter name the callable receives
    _param_of: dict[str, str]
    # graph-facing input name -> default value (absent when the input has no default)
    _defaults: dict[str, Any]
    # original name -> the names it was renamed to, in order (the last is current), for
    # RenameError hints ("'x' was renamed to 'a', then to 'b'")
    _renamed_inputs: dict[str, tuple[str, ...]]
    _renamed_outputs: dict[str, tuple[str, ...]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        if cls is HyperNode or cls is CallableNode:
            raise TypeError(
                f"{cls.__name__} is the abstract base of all nodes and cannot be created "
                "directly. Use @node (FunctionNode), @route/@ifelse, @interrupt or "
                "graph.as_node()."
            )
        return super().__new__(cls)

    def _init_ports(
        self, inputs: tuple[str, ...], outputs: tuple[str, ...], defaults: dict[str, Any]
    ) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self._param_of = {name: name for name in inputs}
        self._defaults = defaults
        self._renamed_inputs = {}
        self._renamed_outputs = {}

    def _apply_initial_renames(self, mapping: Mapping[str, str] | None) -> None:
        """Apply ``rename_inputs=`` given at construction, in place (the node is still new)."""
        if mapping:
            renamed = self.rename_inputs(mapping)
            self.inputs, self._param_of = renamed.inputs, renamed._param_of
            self._defaults, self._renamed_inputs = renamed._defaults, renamed._renamed_inputs

    # -- defaults ---------------------------------------------------------------------------
    def has_default_for(self, param: str) -> bool:
        """True if input ``param`` has a default, which makes it optional in a graph."""
        return param in self._defaults

    def get_default_for(self, param: str) -> Any:
        """The default of input ``param``; ``KeyError`` when it has none."""
        try:
            return self._defaults[param]
        except KeyError:
            raise KeyError(f"Node {self.name!r} has no default for input {param!r}") from None

    @property
    def definition_hash(self) -> str:
        raise NotImplementedError

    # -- renames ----------------------------------------------------------------------------
    def _copy(self) -> Self:
        clone = copy.copy(self)
        clone._param_of = dict(self._param_of)
        clone._defaults = dict(self._defaults)
        clone._renamed_inputs = dict(self._renamed_inputs)
        clone._renamed_outputs = dict(self._renamed_outputs)
        return clone

    def with_name(self, name: str) -> Self:
        """A copy of this node under another name (checked by the Graph, not here)."""
        clone = self._copy()
        clone.name = name
        return clone

    def rename_inputs(self, mapping: Mapping[str, str] | None = None, /, **kwargs: str) -> Self:
        """A copy whose input ports are renamed ``old -> new``; the function is unchanged.

        All renames of one call apply at once, so ``rename_inputs(a="b", b="a")`` swaps.
        """
        renames = _merge_renames(mapping, kwargs)
        if not renames:
            return self._copy()
        for old in renames:
            if old not in self.inputs:
                raise RenameError(_rename_message(self, "input", old, self.inputs, self._renamed_inputs))
        new_inputs = tuple(renames.get(n, n) for n in self.inputs)
        _check_unique(self, "input", new_inputs)
        clone = self._copy()
        clone.inputs = new_inputs
        clone._param_of = {renames.get(k, k): v for k, v in self._param_of.items()}
        clone._defaults = {renames.get(k, k): v for k, v in self._defaults.items()}
        clone._renamed_inputs = _record_renames(self._renamed_inputs, renames)
        clone._after_input_rename(renames)
        return clone

    def rename_outputs(self, mapping: Mapping[str, str] | None = None, /, **kwargs: str) -> Self:
        """A copy whose output ports are renamed ``old -> new`` (all at once, like inputs)."""
        renames = _merge_renames(mapping, kwargs)
        if not renames:
            return self._copy()
        for old in renames:
            if old not in self.outputs:
                raise RenameError(
                    _rename_message(self, "output", old, self.outputs, self._renamed_outputs)
                )
        new_outputs = tuple(renames.get(n, n) for n in self.outputs)
        _check_unique(self, "output", new_outputs)
        clone = self._copy()
        clone.outputs = new_outputs
        clone._renamed_outputs = _record_renames(self._renamed_outputs, renames)
        clone._after_output_rename(renames)
        return clone

    with_inputs = rename_inputs
    with_outputs = rename_outputs

    def _after_input_rename(self, renames: dict[str, str]) -> None:
        """Hook for subclasses that keep extra state keyed by input names."""

    def _after_output_rename(self, renames: dict[str, str]) -> None:
        """Hook for subclasses that keep extra state keyed by output names."""

    @property
    def data_outputs(self) -> tuple[str, ...]:
        """The outputs that carry values (everything but gate internals)."""
        return self.outputs


def _merge_renames(mapping: Mapping[str, str] | None, kwargs: dict[str, str]) -> dict[str, str]:
    merged = dict(mapping or {})
    for key, value in kwargs.items():
        if key in merged:
            raise ValueError(f"Rename of {key!r} given both in the mapping and as a keyword")
        merged[key] = value
    return merged


def _record_renames(
    history: dict[str, tuple[str, ...]], renames: dict[str, str]
) -> dict[str, tuple[str, ...]]:
    """History ``original -> (hop, ..., current)`` after applying ``renames``."""
    updated = {
        old: (*path, renames[path[-1]]) if path[-1] in renames else path
        for old, path in history.items()
    }
    for old, new in renames.items():
        updated.setdefault(old, (new,))
    # a name that is current again is no longer "renamed away"
    return {old: path for old, path in updated.items() if old != path[-1]}


def _check_unique(node: HyperNode, kind: str, names: tuple[str, ...]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RenameError(
            f"Cannot rename {kind}s of node {node.name!r}: the result has two {kind}s named "
            f"{duplicates[0]!r}. Current {kind}s: "
            f"{', '.join(repr(c) for c in getattr(node, kind + 's'))}."
        )


def _rename_message(
    node: HyperNode,
    kind: str,
    old: str,
    current: tuple[str, ...],
    history: dict[str, tuple[str, ...]],
) -> str:
    message = f"Cannot rename {kind} {old!r} of node {node.name!r}: it has no {kind} {old!r}."
    if old in history:
        path = history[old]
        hops = f"{path[0]!r}" + "".join(f", then to {hop!r}" for hop in path[1:])
        chain = " -> ".join((old, *path))
        message += f" {old!r} was renamed to {hops} ({chain}); rename {path[-1]!r} instead."
    message += f" Current {kind}s: {', '.join(repr(c) for c in current) or '(none)'}."
    return message


class CallableNode(HyperNode):
    """A node backed by one user function (function nodes, gates, interrupts).

    Calling the node calls the function directly, with no framework behaviour (SPEC N5).
    """

    func: Any
    _definition_hash: str | None = None
    _state_reader: Any = _UNREAD

    @property
    def state_reader(self) -> StateReader | None:
        """Reads the function's state for cache keys (closure, instance...); built on first use."""
        reader = self._state_reader
        if reader is _UNREAD:
            reader = self._state_reader = state_reader(self.func)
        return reader  # type: ignore[no-any-return]

    @property
    def definition_hash(self) -> str:
        """SHA-256 hex of the function's code, computed on first use; renames keep it (N6).

        See ``hypergraph.nodes._identity``: code objects are hashed once each, so decorating a
        function costs no hashing at all.
        """
        digest = self._definition_hash
        if digest is None:
            digest = self._definition_hash = definition_hash_of(self.func)
        return digest

    def __getstate__(self) -> dict[str, Any]:
        # the state reader is a cache, rebuilt on first use; it may close over objects that do
        # not pickle, and nodes travel by pickle to other processes (DaftRunner on Ray)
        state = dict(self.__dict__)
        state.pop("_state_reader", None)
        return state

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)
