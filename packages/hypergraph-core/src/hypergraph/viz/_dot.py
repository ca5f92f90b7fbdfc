"""Graphviz DOT text for a :class:`~hypergraph.viz._model.Diagram`."""

from __future__ import annotations

from hypergraph.viz._model import Diagram, DiagramCluster, DiagramNode

__all__ = ["diagram_to_dot"]

_NODE_ATTRS = {
    "function": 'shape=box, style="rounded,filled", fillcolor="#eef4ff", color="#3b6fd8"',
    "gate": 'shape=diamond, style=filled, fillcolor="#fff4dd", color="#c98a00"',
    "interrupt": 'shape=hexagon, style=filled, fillcolor="#fde8ef", color="#c2185b"',
    "graph": 'shape=box3d, style=filled, fillcolor="#eaf7ee", color="#2e7d4f"',
    "input": 'shape=parallelogram, style=filled, fillcolor="#ffffff", color="#777777"',
    "output": 'shape=box, style="rounded,filled", fillcolor="#f3e9ff", color="#7b3fc4"',
    "end": 'shape=doublecircle, style=filled, fillcolor="#333333", fontcolor="#ffffff", '
    "width=0.3",
}

_EXTRA_STYLE = {
    "bound": ("style", "dashed"),
    "optional": ("style", "dashed"),
    "entrypoint": ("penwidth", "3"),
    "cycle": ("color", "#d9480f"),
    "inactive": ("fontcolor", "#aaaaaa"),
}

_EDGE_ATTRS = {
    "data": "",
    "input": 'color="#777777"',
    "output": 'color="#7b3fc4"',
    "control": 'style=dashed, color="#c98a00"',
    "ordering": "arrowhead=odot",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_line(node: DiagramNode) -> str:
    label = node.label if not node.detail else f"{node.label}\n{node.detail}"
    attrs = [f"label={_quote(label)}", _NODE_ATTRS[node.kind]]
    classes = " ".join((node.kind, *node.classes))
    attrs.append(f"class={_quote(classes)}")
    for name in node.classes:
        if name == "bound" or name == "optional":
            attrs[1] = attrs[1].replace("style=filled", 'style="dashed,filled"')
        elif name in _EXTRA_STYLE:
            key, value = _EXTRA_STYLE[name]
            attrs.append(f"{key}={_quote(value)}")
    return f"{_quote(node.id)} [{', '.join(attrs)}]"


def diagram_to_dot(diagram: Diagram, rankdir: str = "TB") -> str:
    """The diagram as a ``digraph``; nested graphs become ``cluster_`` subgraphs."""
    name = _quote(diagram.title or "graph")
    lines = [
        f"digraph {name} {{",
        f'    graph [rankdir={rankdir}, compound=true, fontname="Helvetica", fontsize=12'
        + (f", label={name}, labelloc=t" if diagram.title else "")
        + "]",
        '    node [fontname="Helvetica", fontsize=11]',
        '    edge [fontname="Helvetica", fontsize=9]',
    ]
    children: dict[str | None, list[DiagramCluster]] = {}
    for cluster in diagram.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    members: dict[str | None, list[DiagramNode]] = {}
    for node in diagram.nodes:
        members.setdefault(node.cluster, []).append(node)

    def emit(cluster: str | None, indent: str) -> None:
        for node in members.get(cluster, ()):
            lines.append(indent + _node_line(node))
        for child in children.get(cluster, ()):
            lines.append(f"{indent}subgraph {_quote(child.id)} {{")
            lines.append(
                f'{indent}    label={_quote(child.label)}; style="rounded,dashed"; '
                'color="#2e7d4f"; fontcolor="#2e7d4f"'
            )
            emit(child.id, indent + "    ")
            lines.append(f"{indent}}}")

    emit(None, "    ")
    anchors = {c.id: c.anchor for c in diagram.clusters}
    for edge in diagram.edges:
        attrs = [a for a in (_EDGE_ATTRS[edge.kind],) if a]
        if edge.label:
            attrs.insert(0, f"label={_quote(edge.label)}")
        src, dst = edge.src, edge.dst
        if src in anchors:
            attrs.append(f"ltail={_quote(src)}")
            src = anchors[src]
        if dst in anchors:
            attrs.append(f"lhead={_quote(dst)}")
            dst = anchors[dst]
        attrs.append(f"class={_quote(edge.kind)}")
        lines.append(f"    {_quote(src)} -> {_quote(dst)} [{', '.join(attrs)}]")
    lines.append("}")
    return "\n".join(lines) + "\n"
