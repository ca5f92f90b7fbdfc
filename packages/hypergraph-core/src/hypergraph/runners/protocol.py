"""What a nested graph node needs of a runner: a structural protocol, not a base class.

``GraphNode.runner`` is typed against it so the node layer never imports the runner layer;
any object with ``capabilities``, ``run`` and ``map`` (SPEC PL6) qualifies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.runners.capabilities import RunnerCapabilities

__all__ = ["Runner"]


@runtime_checkable
class Runner(Protocol):
    """A runner: declares ``capabilities`` and executes graphs with ``run`` and ``map``."""

    @property
    def capabilities(self) -> RunnerCapabilities: ...

    def run(self, graph: Graph, values: dict[str, Any] | None = None, **options: Any) -> Any: ...

    def map(self, graph: Graph, values: dict[str, Any] | None = None, **options: Any) -> Any: ...
