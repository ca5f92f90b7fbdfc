"""The runner-independent engine: run state, scheduling, and turning returns into outputs."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from hypergraph.engine.engine import Engine, NodeOutcome
from hypergraph.engine.state import SEED, RunState

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = ["SEED", "Engine", "NodeOutcome", "RunState", "engine_for"]


_ENGINES: weakref.WeakKeyDictionary[Graph, Engine] = weakref.WeakKeyDictionary()


def engine_for(graph: Graph) -> Engine:
    """The engine of ``graph``'s plan, built once per graph configuration."""
    try:
        return _ENGINES[graph]
    except KeyError:
        engine = _ENGINES[graph] = Engine(graph.plan)
        return engine
