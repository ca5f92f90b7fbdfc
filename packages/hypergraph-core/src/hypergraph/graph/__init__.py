"""Graph construction: nodes wired by name into a validated, immutable structure."""

from hypergraph.graph._graph import Graph
from hypergraph.graph.input_spec import InputSpec

__all__ = ["Graph", "InputSpec"]
