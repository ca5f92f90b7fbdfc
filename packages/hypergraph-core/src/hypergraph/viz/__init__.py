"""Pictures of graphs: Mermaid and DOT text with no dependency, SVG/PNG through Graphviz.

``Graph.to_mermaid()``, ``Graph.to_dot()`` and ``Graph.visualize()`` call these. The pictures
show every node (gates as diamonds, nested graphs as boxes opened up to ``depth`` levels), data
edges labelled with the value they carry, gate decisions as dashed arrows (``END`` included),
the graph's inputs (bound ones dashed), entrypoints, cycles, and what ``select()`` /
``with_entrypoint()`` leave out (faded).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hypergraph.viz._dot import diagram_to_dot
from hypergraph.viz._mermaid import diagram_to_mermaid
from hypergraph.viz._model import build_diagram
from hypergraph.viz._render import FORMATS, format_for, graphviz_available, render

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = ["FORMATS", "graphviz_available", "render_graph", "to_dot", "to_mermaid", "visualize"]


def to_mermaid(graph: Graph, *, depth: int = 1, direction: str = "TD") -> str:
    """Mermaid ``flowchart`` text (paste it into Markdown inside a ```` ```mermaid ```` block)."""
    return diagram_to_mermaid(build_diagram(graph, depth), direction)


def to_dot(graph: Graph, *, depth: int = 1, rankdir: str = "TB") -> str:
    """Graphviz DOT text; ``dot -Tsvg`` renders it."""
    return diagram_to_dot(build_diagram(graph, depth), rankdir)


def render_graph(graph: Graph, fmt: str = "svg", *, depth: int = 1) -> bytes:
    """The picture as bytes in ``fmt`` (``svg``, ``png`` or ``pdf``); needs Graphviz."""
    return render(to_dot(graph, depth=depth), fmt)


def visualize(
    graph: Graph, path: str | Path, *, format: str | None = None, depth: int = 1
) -> Path:
    """Write the picture to ``path`` (format from ``format=`` or the suffix) and return the path."""
    target = Path(path)
    data = render_graph(graph, format_for(target, format), depth=depth)
    target.write_bytes(data)
    return target
