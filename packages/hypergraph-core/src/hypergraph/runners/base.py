"""BaseRunner: the interface every runner implements, built-in or third-party."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from hypergraph.nodes.function import FunctionNode
from hypergraph.nodes.gates import IfElseNode, RouteNode
from hypergraph.nodes.graph_node import GraphNode

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.runners.capabilities import RunnerCapabilities

__all__ = ["BaseRunner"]


class BaseRunner(ABC):
    """A runner executes graphs: ``run()`` once, ``map()`` over many inputs.

    Subclasses declare ``capabilities``; the kernel checks every graph against them before a run
    and uses ``capabilities.returns_coroutine`` to decide how to call a nested runner.
    """

    default_max_iterations: ClassVar[int] = 1000
    supported_node_types: ClassVar[frozenset[type]] = frozenset(
        {FunctionNode, GraphNode, IfElseNode, RouteNode}
    )

    @property
    @abstractmethod
    def capabilities(self) -> RunnerCapabilities:
        """What this runner can execute."""

    @abstractmethod
    def run(self, graph: Graph, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Execute ``graph`` once."""

    @abstractmethod
    def map(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        map_over: str | list[str],
        **kwargs: Any,
    ) -> Any:
        """Execute ``graph`` once per item of the ``map_over`` inputs."""
