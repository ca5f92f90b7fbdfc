"""The runner-independent engine: run state, scheduling, and turning returns into outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypergraph.engine.engine import Engine, NodeOutcome
from hypergraph.engine.state import SEED, RunState

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = ["SEED", "Engine", "NodeOutcome", "RunState", "engine_for"]


def engine_for(graph: Graph) -> Engine:
    """The engine of ``graph``'s plan, built once per graph configuration."""
    try:
        return graph.__dict__["_engine"]  # type: ignore[no-any-return]
    except KeyError:
        engine = graph.__dict__["_engine"] = Engine(graph.plan)
        return engine
