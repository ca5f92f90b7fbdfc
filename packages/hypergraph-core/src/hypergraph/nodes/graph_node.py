"""GraphNode: a whole graph used as one node of another graph (optionally mapped)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Self

from hypergraph.exceptions import GraphConfigError
from hypergraph.nodes._base import HyperNode

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.runners.protocol import Runner

__all__ = ["GraphNode", "MapConfig"]

MapConfig = tuple[list[str], Literal["zip", "product"], Literal["raise", "continue"]]
_MAP_MODES = ("zip", "product")
_ERROR_MODES = ("raise", "continue")


class GraphNode(HyperNode):
    """Runs an inner graph as a child run: inputs go in by name, outputs come back by name.

    Ports use the inner names (flat) unless ``namespaced=True`` prefixes them with ``name.``.
    ``runner=`` picks the runner for the inner graph; it is checked against the graph at once
    (SPEC R13). Nested graphs are never cached themselves; cache their inner nodes.

    Values bound on the inner graph stay bound: ``bound`` maps each such port to its value, which
    is passed by reference (never copied) and shows in the outer graph's ``inputs.bound``. A
    value given at run time or bound on the outer graph overrides it, with a warning.
    """

    bound: dict[str, Any]

    def __init__(
        self,
        graph: Graph,
        name: str | None = None,
        *,
        runner: Runner | None = None,
        namespaced: bool = False,
    ) -> None:
        resolved = name if name is not None else graph.name
        if resolved is None:
            raise ValueError(
                "A nested graph node needs a name: pass graph.as_node(name='...') or create the "
                "graph with Graph(..., name='...')."
            )
        if runner is not None:
            caps = getattr(runner, "capabilities", None)
            if caps is None:
                raise TypeError(f"runner={runner!r} is not a runner (it has no capabilities)")
            caps.validate_graph(graph, runner_name=type(runner).__name__)
        self.graph = graph
        self.name = resolved
        self.runner = runner
        self.namespaced = namespaced
        self.cache = False
        self.map_config: MapConfig | None = None
        inner_inputs = graph.inputs.all
        # only what the active scope can produce (an entrypoint excludes upstream producers)
        inner_outputs = graph.selected if graph.selected is not None else graph._scope_outputs
        prefix = f"{resolved}." if namespaced else ""
        self._init_ports(
            tuple(prefix + i for i in inner_inputs),
            tuple(prefix + o for o in inner_outputs),
            {},
        )
        self._param_of = {prefix + i: i for i in inner_inputs}
        self._output_of = {prefix + o: o for o in inner_outputs}
        bound = graph.inputs.bound
        self.bound = {}
        for inner in inner_inputs:
            if inner in bound:
                self.bound[prefix + inner] = bound[inner]
            else:
                for n in graph._nodes.values():
                    if inner in n.inputs and n.has_default_for(inner):
                        self._defaults[prefix + inner] = n.get_default_for(inner)
                        break
        self.is_async = graph.has_async_nodes

    def has_default_for(self, param: str) -> bool:
        """True if input ``param`` has an inner default or an inner bound value (SPEC N11)."""
        return param in self._defaults or param in self.bound

    def get_default_for(self, param: str) -> Any:
        """The inner bound value of ``param``, else its inner default; ``KeyError`` otherwise."""
        if param in self.bound:
            return self.bound[param]
        return super().get_default_for(param)

    def _copy(self) -> Self:
        clone = super()._copy()
        clone.bound = dict(self.bound)
        clone._output_of = dict(self._output_of)
        if self.map_config is not None:
            clone.map_config = (list(self.map_config[0]), self.map_config[1], self.map_config[2])
        return clone

    def _port(self, name: str, ports: tuple[str, ...]) -> str:
        """A namespaced node also accepts a port by its local (unprefixed) name."""
        if self.namespaced and name not in ports and f"{self.name}.{name}" in ports:
            return f"{self.name}.{name}"
        return name

    def rename_inputs(self, mapping: Mapping[str, str] | None = None, /, **kwargs: str) -> Self:
        """Like ``HyperNode.rename_inputs``; a namespaced node also accepts local port names."""
        if not self.namespaced:
            return super().rename_inputs(mapping, **kwargs)
        merged = {self._port(k, self.inputs): v for k, v in (mapping or {}).items()}
        for key, value in kwargs.items():
            port = self._port(key, self.inputs)
            if port in merged:
                raise ValueError(f"Rename of {key!r} given both in the mapping and as a keyword")
            merged[port] = value
        return super().rename_inputs(merged)

    def rename_outputs(self, mapping: Mapping[str, str] | None = None, /, **kwargs: str) -> Self:
        """Like ``HyperNode.rename_outputs``; a namespaced node also accepts local port names."""
        if not self.namespaced:
            return super().rename_outputs(mapping, **kwargs)
        merged = {self._port(k, self.outputs): v for k, v in (mapping or {}).items()}
        for key, value in kwargs.items():
            port = self._port(key, self.outputs)
            if port in merged:
                raise ValueError(f"Rename of {key!r} given both in the mapping and as a keyword")
            merged[port] = value
        return super().rename_outputs(merged)

    with_inputs = rename_inputs
    with_outputs = rename_outputs

    def with_name(self, name: str) -> Self:
        """A copy under another name; a namespaced node's ports move to the new prefix."""
        clone = super().with_name(name)
        if not self.namespaced or name == self.name:
            return clone
        old, new = f"{self.name}.", f"{name}."

        def moved(port: str) -> str:
            return new + port[len(old):] if port.startswith(old) else port

        clone.inputs = tuple(moved(p) for p in self.inputs)
        clone.outputs = tuple(moved(p) for p in self.outputs)
        clone._param_of = {moved(k): v for k, v in self._param_of.items()}
        clone._output_of = {moved(k): v for k, v in self._output_of.items()}
        clone._defaults = {moved(k): v for k, v in self._defaults.items()}
        clone.bound = {moved(k): v for k, v in self.bound.items()}
        clone._renamed_inputs = {
            moved(k): tuple(map(moved, v)) for k, v in self._renamed_inputs.items()
        }
        clone._renamed_outputs = {
            moved(k): tuple(map(moved, v)) for k, v in self._renamed_outputs.items()
        }
        if self.map_config is not None:
            params, mode, error_handling = self.map_config
            clone.map_config = ([moved(p) for p in params], mode, error_handling)
        return clone

    def _after_input_rename(self, renames: dict[str, str]) -> None:
        self.bound = {renames.get(k, k): v for k, v in self.bound.items()}
        if self.map_config is not None:
            params = [renames.get(p, p) for p in self.map_config[0]]
            self.map_config = (params, self.map_config[1], self.map_config[2])

    def _after_output_rename(self, renames: dict[str, str]) -> None:
        self._output_of = {renames.get(k, k): v for k, v in self._output_of.items()}

    @property
    def definition_hash(self) -> str:
        """Derived from the inner graph's hash, the node's name, namespacing and map settings."""
        mapped = repr(self.map_config) if self.map_config is not None else ""
        text = (
            f"GraphNode:{self.name}:{int(self.namespaced)}:{mapped}:{self.graph.definition_hash}"
        )
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def is_mapped(self) -> bool:
        return self.map_config is not None

    def map_over(
        self,
        *params: str,
        mode: Literal["zip", "product"] = "zip",
        error_handling: Literal["raise", "continue"] = "raise",
        clone: bool | list[str] = False,
    ) -> GraphNode:
        """A copy that runs the inner graph once per element of the listed inputs.

        Every output becomes a list aligned with the items (``None`` for a failed item in
        ``"continue"`` mode).
        """
        if not params:
            raise ValueError(f"map_over() on {self.name!r} needs at least one input name")
        params = tuple(self._port(p, self.inputs) if isinstance(p, str) else p for p in params)
        for param in params:
            if param not in self.inputs:
                raise ValueError(
                    f"Cannot map {self.name!r} over {param!r}: not one of its inputs. Available "
                    f"inputs: {', '.join(map(repr, self.inputs)) or '(none)'}."
                )
        if mode not in _MAP_MODES:
            raise ValueError(f"map_over mode must be one of {_MAP_MODES}, got {mode!r}")
        if error_handling not in _ERROR_MODES:
            raise ValueError(
                f"map_over error_handling must be one of {_ERROR_MODES}, got {error_handling!r}"
            )
        if self.graph.has_interrupts:
            raise GraphConfigError(
                f"Nested graph {self.name!r} contains interrupts and cannot be mapped: a mapped "
                "node cannot pause for human input. Run the items one by one with run() instead."
            )
        from hypergraph.runners._checks import normalize_clone

        checked = normalize_clone(clone, params)
        clone_copy = self._copy()
        clone_copy.map_config = (list(params), mode, error_handling)
        # clone names are kept as inner input names (what the inner map's items are keyed by)
        clone_copy.map_clone = (
            checked if isinstance(checked, bool)
            else [self._param_of.get(self._port(c, self.inputs), c) for c in checked]
        )
        return clone_copy

    map_clone: bool | list[str] = False

    def inner_input(self, port: str) -> str:
        """The inner graph's input name behind outer port ``port``."""
        return self._param_of[port]

    def inner_output(self, port: str) -> str:
        """The inner graph's output name behind outer port ``port``."""
        return self._output_of[port]

    def __repr__(self) -> str:
        mapped = f", map_over={self.map_config[0]!r}" if self.map_config else ""
        return f"GraphNode({self.name}, outputs={self.outputs!r}{mapped})"
