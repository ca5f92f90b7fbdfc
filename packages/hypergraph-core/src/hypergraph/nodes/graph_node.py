"""GraphNode: a whole graph used as one node of another graph (optionally mapped)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal

from hypergraph.exceptions import GraphConfigError
from hypergraph.nodes._base import HyperNode

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.runners.base import BaseRunner

__all__ = ["GraphNode", "MapConfig"]

MapConfig = tuple[list[str], Literal["zip", "product"], Literal["raise", "continue"]]
_MAP_MODES = ("zip", "product")
_ERROR_MODES = ("raise", "continue")


class GraphNode(HyperNode):
    """Runs an inner graph as a child run: inputs go in by name, outputs come back by name.

    Ports use the inner names (flat) unless ``namespaced=True`` prefixes them with ``name.``.
    ``runner=`` picks the runner for the inner graph; it is checked against the graph at once
    (SPEC R13). Nested graphs are never cached themselves; cache their inner nodes.
    """

    def __init__(
        self,
        graph: Graph,
        name: str | None = None,
        *,
        runner: BaseRunner | None = None,
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
        inner_outputs = graph.selected if graph.selected is not None else graph.outputs
        prefix = f"{resolved}." if namespaced else ""
        self._init_ports(
            tuple(prefix + i for i in inner_inputs),
            tuple(prefix + o for o in inner_outputs),
            {},
        )
        self._param_of = {prefix + i: i for i in inner_inputs}
        self._output_of = {prefix + o: o for o in inner_outputs}
        bound = graph.inputs.bound
        for inner in inner_inputs:
            if inner in bound:
                self._defaults[prefix + inner] = bound[inner]
            else:
                for n in graph._nodes.values():
                    if inner in n.inputs and n.has_default_for(inner):
                        self._defaults[prefix + inner] = n.get_default_for(inner)
                        break
        self.is_async = graph.has_async_nodes

    def _copy(self) -> GraphNode:
        clone = super()._copy()
        clone._output_of = dict(self._output_of)
        if self.map_config is not None:
            clone.map_config = (list(self.map_config[0]), self.map_config[1], self.map_config[2])
        return clone

    def _after_input_rename(self, renames: dict[str, str]) -> None:
        if self.map_config is not None:
            params = [renames.get(p, p) for p in self.map_config[0]]
            self.map_config = (params, self.map_config[1], self.map_config[2])

    def _after_output_rename(self, renames: dict[str, str]) -> None:
        self._output_of = {renames.get(k, k): v for k, v in self._output_of.items()}

    @property
    def definition_hash(self) -> str:
        """Derived from the inner graph's hash, and distinct from it."""
        return hashlib.sha256(f"GraphNode:{self.graph.definition_hash}".encode()).hexdigest()

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
        clone_copy = self._copy()
        clone_copy.map_config = (list(params), mode, error_handling)
        clone_copy.map_clone = clone
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
