"""A graph flattened into boxes, arrows and nested boxes, shared by the Mermaid and DOT writers.

Nothing here knows a drawing syntax: ``build_diagram`` walks the graph (and nested graphs up to
``depth``) once and says which box is which kind, which arrows carry which value, and which
boxes sit inside which nested-graph box. The writers only spell it out.
"""

from __future__ import annotations

import re
import reprlib
from typing import TYPE_CHECKING, Literal

import attrs

from hypergraph.nodes.gates import END, GateNode, IfElseNode, RouteNode
from hypergraph.nodes.graph_node import GraphNode

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.nodes._base import HyperNode

__all__ = ["Diagram", "DiagramCluster", "DiagramEdge", "DiagramNode", "build_diagram"]

NodeKind = Literal["function", "gate", "interrupt", "graph", "input", "end", "output"]
EdgeKind = Literal["data", "control", "ordering", "input", "output"]

_SHORT = reprlib.Repr()
_SHORT.maxstring = 24
_SHORT.maxother = 24
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4


@attrs.frozen
class DiagramNode:
    """One box: ``label`` is the node's name, ``detail`` a second, smaller line."""

    id: str
    label: str
    kind: NodeKind
    detail: str = ""
    cluster: str | None = None
    classes: tuple[str, ...] = ()


@attrs.frozen
class DiagramEdge:
    """One arrow; ``label`` names the value(s) it carries or the gate decision it stands for."""

    src: str
    dst: str
    kind: EdgeKind
    label: str = ""


@attrs.frozen
class DiagramCluster:
    """A nested graph drawn as a box; ``anchor`` is a node inside it (DOT draws arrows to it)."""

    id: str
    label: str
    parent: str | None
    anchor: str


@attrs.frozen
class Diagram:
    """Everything a writer needs, in drawing order."""

    title: str | None
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    clusters: tuple[DiagramCluster, ...]


@attrs.define
class _Level:
    """One graph being drawn: the top graph, or a nested graph opened inside its box."""

    graph: Graph
    prefix: str
    cluster: str | None
    inactive: bool
    ids: dict[str, str] = attrs.Factory(dict)
    sub: dict[str, _Level] = attrs.Factory(dict)
    end_id: str | None = None


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[DiagramNode] = []
        self.edges: dict[tuple[str, str, str], list[str]] = {}
        self.clusters: list[DiagramCluster] = []
        self._taken: set[str] = set()

    def new_id(self, base: str) -> str:
        ident = re.sub(r"\W", "_", base)
        candidate, n = ident, 1
        while candidate in self._taken:
            n += 1
            candidate = f"{ident}_{n}"
        self._taken.add(candidate)
        return candidate

    def edge(self, src: str, dst: str, kind: EdgeKind, label: str = "") -> None:
        labels = self.edges.setdefault((src, dst, kind), [])
        if label and label not in labels:
            labels.append(label)

    # ------------------------------------------------------------------ boxes
    def add_level(self, level: _Level, depth: int) -> None:
        graph = level.graph
        active = graph._active_names
        entry = set(graph.entrypoints_config)
        cyclic = set(graph.cycle_node_names)
        for name, n in graph._nodes.items():
            classes = []
            if level.inactive or name not in active:
                classes.append("inactive")
            if name in entry:
                classes.append("entrypoint")
            if name in cyclic:
                classes.append("cycle")
            if isinstance(n, GraphNode) and depth > 0:
                self._open(level, name, n, depth, classes)
                continue
            node_id = self.new_id(f"n_{level.prefix}{name}")
            level.ids[name] = node_id
            kind, detail = _describe(n)
            self.nodes.append(
                DiagramNode(node_id, name, kind, detail, level.cluster, tuple(classes))
            )

    def _open(
        self, level: _Level, name: str, gn: GraphNode, depth: int, classes: list[str]
    ) -> None:
        cluster_id = self.new_id(f"cluster_{level.prefix}{name}")
        sub = _Level(gn.graph, f"{level.prefix}{name}__", cluster_id, "inactive" in classes)
        level.sub[name] = sub
        first_node = len(self.nodes)
        self.add_level(sub, depth - 1)
        label = name
        if gn.map_config is not None:
            label += f" (map over {', '.join(gn.map_config[0])})"
        anchor = self.nodes[first_node].id if len(self.nodes) > first_node else cluster_id
        self.clusters.append(DiagramCluster(cluster_id, label, level.cluster, anchor))

    # ------------------------------------------------------------------ arrows
    def producers(self, level: _Level, name: str, value: str) -> list[str]:
        sub = level.sub.get(name)
        if sub is None:
            return [level.ids[name]]
        gn = level.graph._nodes[name]
        assert isinstance(gn, GraphNode)
        inner = gn.inner_output(value)
        return [i for p in sub.graph._producers.get(inner, ()) for i in self.producers(sub, p, inner)]

    def consumers(self, level: _Level, name: str, param: str) -> list[str]:
        sub = level.sub.get(name)
        if sub is None:
            return [level.ids[name]]
        gn = level.graph._nodes[name]
        assert isinstance(gn, GraphNode)
        inner = gn.inner_input(param)
        return [
            i
            for n in sub.graph._nodes.values()
            if inner in n.inputs
            for i in self.consumers(sub, n.name, inner)
        ]

    def box(self, level: _Level, name: str) -> str:
        """The id an ordering or control arrow points at: a node, or a nested graph's box."""
        sub = level.sub.get(name)
        return sub.cluster if sub is not None and sub.cluster is not None else level.ids[name]

    def add_arrows(self, level: _Level) -> None:
        graph = level.graph
        for src, dst, kind, values in graph.edges:
            if kind == "data":
                for value in values:
                    for s in self.producers(level, src, value):
                        for d in self.consumers(level, dst, value):
                            self.edge(s, d, "data", value)
            elif kind == "ordering":
                self.edge(self.box(level, src), self.box(level, dst), "ordering")
        for gate in graph._nodes.values():
            if isinstance(gate, GateNode):
                self._gate_arrows(level, gate)
        for sub in level.sub.values():
            self.add_arrows(sub)

    def _gate_arrows(self, level: _Level, gate: GateNode) -> None:
        src = level.ids[gate.name]
        for target, label in _decisions(gate):
            if target is END:
                if level.end_id is None:
                    level.end_id = self.new_id(f"{level.prefix}END")
                    self.nodes.append(DiagramNode(level.end_id, "END", "end", "", level.cluster))
                dst = level.end_id
            else:
                dst = self.box(level, str(target))
            self.edge(src, dst, "control", label)

    def add_inputs(self, top: _Level) -> None:
        graph = top.graph
        spec = graph.inputs
        for name in spec.all:
            consumers = [
                i
                for n in graph._nodes.values()
                if name in n.inputs and n.name in graph._active_names
                for i in self.consumers(top, n.name, name)
            ]
            if name in spec.bound or _bound_inside(graph, name):
                classes, detail = ("bound",), "bound"
            elif name in spec.optional:
                classes, detail = ("optional",), _default_text(graph, name)
            else:
                classes, detail = ("required",), ""
            input_id = self.new_id(f"in_{name}")
            self.nodes.append(DiagramNode(input_id, name, "input", detail, None, classes))
            for consumer in consumers:
                self.edge(input_id, consumer, "input")
        if graph.selected is not None:
            for name in graph.selected:
                out_id = self.new_id(f"out_{name}")
                self.nodes.append(DiagramNode(out_id, name, "output", "selected", None))
                for p in graph._active_producers(name):
                    for s in self.producers(top, p, name):
                        self.edge(s, out_id, "output")


def build_diagram(graph: Graph, depth: int = 1) -> Diagram:
    """Flatten ``graph`` into boxes and arrows; nested graphs open up to ``depth`` levels deep."""
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ValueError(f"depth must be an integer >= 0 (0 draws nested graphs closed); got {depth!r}")
    builder = _Builder()
    top = _Level(graph, "", None, False)
    builder.add_level(top, depth)
    builder.add_arrows(top)
    builder.add_inputs(top)
    edges = tuple(
        DiagramEdge(src, dst, kind, ", ".join(labels))  # type: ignore[arg-type]
        for (src, dst, kind), labels in builder.edges.items()
    )
    return Diagram(graph.name, tuple(builder.nodes), edges, tuple(builder.clusters))


def _describe(n: HyperNode) -> tuple[NodeKind, str]:
    if isinstance(n, GraphNode):
        size = len(n.graph._nodes)
        detail = f"graph of {size} node{'s' if size != 1 else ''}"
        if n.map_config is not None:
            detail += f", map over {', '.join(n.map_config[0])}"
        return "graph", detail
    if isinstance(n, GateNode):
        return "gate", "ifelse" if isinstance(n, IfElseNode) else "route"
    outputs = ", ".join(n.outputs)
    if n.is_interrupt:
        return "interrupt", f"pause → {outputs}"
    return "function", f"→ {outputs}" if outputs else ""


def _decisions(gate: GateNode) -> list[tuple[object, str]]:
    """Each target of ``gate`` (``END`` included) with the label of the decision that picks it."""
    if isinstance(gate, IfElseNode):
        return [(gate.when_true, "True"), (gate.when_false, "False")]
    decisions: list[tuple[object, str]] = [
        (t, gate.descriptions.get(t, "")) for t in gate.targets
    ]
    if isinstance(gate, RouteNode) and gate.fallback is not None:
        known = [t for t, _ in decisions]
        if not any(gate.fallback is t or gate.fallback == t for t in known):
            decisions.append((gate.fallback, "fallback"))
    return decisions


def _bound_inside(graph: Graph, name: str) -> bool:
    """True if the nested graph that takes ``name`` has it bound (it shows as a default outside)."""
    for n in graph._nodes.values():
        if isinstance(n, GraphNode) and name in n.inputs:
            inner = n.inner_input(name)
            if inner in n.graph.inputs.bound or _bound_inside(n.graph, inner):
                return True
    return False


def _default_text(graph: Graph, name: str) -> str:
    for n in graph._nodes.values():
        if name in n.inputs and n.has_default_for(name):
            try:
                return f"= {_SHORT.repr(n.get_default_for(name))}"
            except Exception:  # a default whose repr fails still gets drawn
                return "optional"
    return "optional"
