"""Mermaid flowchart text for a :class:`~hypergraph.viz._model.Diagram`."""

from __future__ import annotations

from hypergraph.viz._model import Diagram, DiagramCluster, DiagramNode

__all__ = ["diagram_to_mermaid"]

# opening and closing brackets of each box shape
_SHAPES = {
    "function": ('["', '"]'),
    "gate": ('{"', '"}'),
    "interrupt": ('{{"', '"}}'),
    "graph": ('[["', '"]]'),
    "input": ('[/"', '"/]'),
    "output": ('(["', '"])'),
    "end": ('(("', '"))'),
}

_ARROWS = {"data": "-->", "input": "-->", "output": "-->", "control": "-.->", "ordering": "--o"}

# "end" and "graph" are Mermaid keywords, so those kinds get other class names
_KIND_CLASS = {"end": "stop", "graph": "nested"}

_CLASS_STYLES = {
    "function": "fill:#eef4ff,stroke:#3b6fd8,color:#111",
    "gate": "fill:#fff4dd,stroke:#c98a00,color:#111",
    "interrupt": "fill:#fde8ef,stroke:#c2185b,color:#111",
    "nested": "fill:#eaf7ee,stroke:#2e7d4f,color:#111",
    "input": "fill:#ffffff,stroke:#777,color:#111",
    "output": "fill:#f3e9ff,stroke:#7b3fc4,color:#111",
    "stop": "fill:#333,stroke:#333,color:#fff",
    "required": "stroke-width:1.5px",
    "bound": "stroke-dasharray:4 3,color:#555",
    "optional": "stroke-dasharray:2 2",
    "entrypoint": "stroke-width:3px",
    "cycle": "stroke:#d9480f",
    "inactive": "opacity:0.35",
}


def _escape(text: str) -> str:
    """Mermaid entity codes for the characters that would end a quoted label."""
    return (
        text.replace("#", "#35;")
        .replace('"', "#34;")
        .replace("<", "#60;")
        .replace(">", "#62;")
        .replace("|", "#124;")
    )


def _label(node: DiagramNode) -> str:
    text = _escape(node.label)
    if node.detail:
        text += f"<br/><small>{_escape(node.detail)}</small>"
    return text


def diagram_to_mermaid(diagram: Diagram, direction: str = "TD") -> str:
    """The diagram as ``flowchart`` text, nested graphs as ``subgraph`` blocks."""
    lines = []
    if diagram.title:
        lines += ["---", f"title: {_escape(diagram.title)}", "---"]
    lines.append(f"flowchart {direction}")
    children: dict[str | None, list[DiagramCluster]] = {}
    for cluster in diagram.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    members: dict[str | None, list[DiagramNode]] = {}
    for node in diagram.nodes:
        members.setdefault(node.cluster, []).append(node)

    def emit(cluster: str | None, indent: str) -> None:
        for node in members.get(cluster, ()):
            opening, closing = _SHAPES[node.kind]
            lines.append(f"{indent}{node.id}{opening}{_label(node)}{closing}")
        for child in children.get(cluster, ()):
            lines.append(f'{indent}subgraph {child.id}["{_escape(child.label)}"]')
            emit(child.id, indent + "    ")
            lines.append(f"{indent}end")

    emit(None, "    ")
    for edge in diagram.edges:
        arrow = _ARROWS[edge.kind]
        label = f'|"{_escape(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.src} {arrow}{label} {edge.dst}")
    by_class: dict[str, list[str]] = {}
    for node in diagram.nodes:
        for name in (_KIND_CLASS.get(node.kind, node.kind), *node.classes):
            by_class.setdefault(name, []).append(node.id)
    for name, ids in by_class.items():
        lines.append(f"    classDef {name} {_CLASS_STYLES[name]}")
        lines.append(f"    class {','.join(ids)} {name}")
    return "\n".join(lines) + "\n"
