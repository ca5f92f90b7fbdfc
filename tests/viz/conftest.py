"""Fixtures for the picture tests: a Mermaid flowchart grammar and Graphviz's own DOT parser.

The grammar covers the Mermaid flowchart subset hypergraph writes.

It accepts what Mermaid's flowchart parser accepts for these statements and rejects what would
break a diagram: unbalanced ``subgraph``/``end``, unquoted or broken labels, keyword ids, arrows
to undeclared nodes, classes that were never defined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

ID = r"[A-Za-z_][A-Za-z0-9_]*"
LABEL = r'"([^"]*)"'  # quoted label: no raw double quote inside (entity codes are fine)
SHAPES = {
    "rect": (r"\[", r"\]"),
    "rhombus": (r"\{", r"\}"),
    "hexagon": (r"\{\{", r"\}\}"),
    "subroutine": (r"\[\[", r"\]\]"),
    "parallelogram": (r"\[/", r"/\]"),
    "stadium": (r"\(\[", r"\]\)"),
    "circle": (r"\(\(", r"\)\)"),
}
ARROWS = {"-->": "solid", "-.->": "dotted", "--o": "circle", "==>": "thick"}
KEYWORDS = {"end", "graph", "subgraph", "flowchart", "class", "classDef", "style", "click",
            "direction", "default"}
DIRECTIONS = {"TD", "TB", "BT", "LR", "RL"}

NODE_RE = [
    (shape, re.compile(rf"^({ID}){o}{LABEL}{c}$"))
    # longest brackets first so "{{" is not read as "{"
    for shape, (o, c) in sorted(SHAPES.items(), key=lambda kv: -len(kv[1][0]))
]
EDGE_RE = re.compile(
    rf"^({ID}) (-->|-\.->|--o|==>)(?:\|{LABEL}\|)? ({ID})$"
)
SUBGRAPH_RE = re.compile(rf"^subgraph ({ID})\[{LABEL}\]$")
CLASSDEF_RE = re.compile(rf"^classDef ({ID}) ([a-z-]+:[^,;\s]+(?: [^,;\s]+)*(?:,[a-z-]+:[^,;\s]+(?: [^,;\s]+)*)*)$")
CLASS_RE = re.compile(rf"^class ({ID}(?:,{ID})*) ({ID})$")
ENTITY_RE = re.compile(r"#\d+;")


class MermaidSyntaxError(ValueError):
    """The text is not a valid flowchart of the supported subset."""


@dataclass
class Flowchart:
    title: str | None = None
    direction: str = ""
    nodes: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    subgraphs: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)
    classes: dict[str, set[str]] = field(default_factory=dict)

    def node_id(self, label: str, within: str | None = None) -> str:
        """The id of the one node whose first label line is ``label`` (inside ``within``)."""
        found = [
            i for i, (_, text, sub) in self.nodes.items()
            if text.split("<br/>")[0] == label and (within is None or sub == within)
        ]
        if len(found) != 1:
            raise KeyError(f"{len(found)} nodes labelled {label!r}")
        return found[0]

    def edges_between(self, src: str, dst: str) -> list[tuple[str, str]]:
        """``(arrow style, label)`` of every arrow from ``src`` to ``dst``."""
        return [(style, label) for s, style, label, d in self.edges if (s, d) == (src, dst)]

    def has_cycle(self) -> bool:
        succ: dict[str, set[str]] = {}
        for s, _, _, d in self.edges:
            succ.setdefault(s, set()).add(d)
        state: dict[str, int] = {}

        def visit(v: str) -> bool:
            state[v] = 1
            for w in succ.get(v, ()):
                if state.get(w) == 1 or (w not in state and visit(w)):
                    return True
            state[v] = 2
            return False

        return any(v not in state and visit(v) for v in list(succ))


def _check_id(ident: str, line: str) -> None:
    if ident.lower() in {k.lower() for k in KEYWORDS} and ident != "END":
        raise MermaidSyntaxError(f"keyword used as an id: {line!r}")


def _check_label(text: str, line: str) -> str:
    stripped = ENTITY_RE.sub("", text).replace("<br/>", "").replace("<small>", "").replace(
        "</small>", ""
    )
    if re.search(r"[<>\"]", stripped):
        raise MermaidSyntaxError(f"unescaped markup in label: {line!r}")
    return text


def parse_flowchart(text: str) -> Flowchart:
    """Parse ``text``; raise MermaidSyntaxError on the first line outside the grammar."""
    chart = Flowchart()
    lines = text.splitlines()
    if lines[:1] == ["---"]:
        close = lines.index("---", 1)
        for meta in lines[1:close]:
            key, _, value = meta.partition(": ")
            if key != "title":
                raise MermaidSyntaxError(f"unknown front matter {meta!r}")
            chart.title = value
        lines = lines[close + 1 :]
    header = lines[0].split()
    if len(header) != 2 or header[0] != "flowchart" or header[1] not in DIRECTIONS:
        raise MermaidSyntaxError(f"bad header {lines[0]!r}")
    chart.direction = header[1]
    stack: list[str] = []
    defined: set[str] = set()
    class_uses: list[tuple[list[str], str, str]] = []
    for raw in lines[1:]:
        line = raw.strip()
        if not line or line.startswith("%%"):
            continue
        if line == "end":
            if not stack:
                raise MermaidSyntaxError("'end' without 'subgraph'")
            stack.pop()
            continue
        if m := SUBGRAPH_RE.match(line):
            ident = m.group(1)
            _check_id(ident, line)
            if ident in chart.nodes or ident in chart.subgraphs:
                raise MermaidSyntaxError(f"duplicate id {ident!r}")
            chart.subgraphs[ident] = (_check_label(m.group(2), line), stack[-1] if stack else None)
            stack.append(ident)
            continue
        if m := CLASSDEF_RE.match(line):
            defined.add(m.group(1))
            continue
        if m := CLASS_RE.match(line):
            class_uses.append((m.group(1).split(","), m.group(2), line))
            continue
        if m := EDGE_RE.match(line):
            chart.edges.append(
                (m.group(1), ARROWS[m.group(2)], _check_label(m.group(3) or "", line), m.group(4))
            )
            continue
        for shape, pattern in NODE_RE:
            if m := pattern.match(line):
                ident = m.group(1)
                _check_id(ident, line)
                if ident in chart.nodes or ident in chart.subgraphs:
                    raise MermaidSyntaxError(f"duplicate id {ident!r}")
                chart.nodes[ident] = (shape, _check_label(m.group(2), line), stack[-1] if stack else None)
                break
        else:
            raise MermaidSyntaxError(f"not a flowchart statement: {line!r}")
    if stack:
        raise MermaidSyntaxError(f"unclosed subgraph {stack[-1]!r}")
    known = set(chart.nodes) | set(chart.subgraphs)
    for src, _, _, dst in chart.edges:
        for end in (src, dst):
            if end not in known:
                raise MermaidSyntaxError(f"arrow to undeclared {end!r}")
    for ids, name, line in class_uses:
        if name not in defined:
            raise MermaidSyntaxError(f"class {name!r} used before classDef: {line!r}")
        for ident in ids:
            if ident not in chart.nodes:
                raise MermaidSyntaxError(f"class on undeclared node {ident!r}")
            chart.classes.setdefault(ident, set()).add(name)
    return chart


@pytest.fixture
def mermaid() -> Callable[[str], Flowchart]:
    """Parse Mermaid flowchart text with the grammar above."""
    return parse_flowchart


@dataclass
class DotGraph:
    """What Graphviz itself read from DOT text: node labels and classes, clusters, edges."""

    nodes: dict[str, dict[str, Any]]
    clusters: dict[str, set[str]]
    edges: list[tuple[str, str, str, str]]

    def node_id(self, label: str) -> str:
        found = [n for n, attrs in self.nodes.items() if attrs["label"].split("\\n")[0] == label]
        if len(found) != 1:
            raise KeyError(f"{len(found)} nodes labelled {label!r}")
        return found[0]


def parse_dot(text: str) -> DotGraph:
    """Lay out ``text`` with the real ``dot`` program and read back its JSON."""
    import graphviz

    data = json.loads(graphviz.Source(text).pipe(format="json"))
    objects = data.get("objects", [])
    names = [o["name"] for o in objects]
    nodes = {o["name"]: o for o in objects if "nodes" not in o}
    clusters = {o["name"]: {names[i] for i in o.get("nodes", [])} for o in objects if "nodes" in o}
    edges = [
        (names[e["tail"]], names[e["head"]], e.get("class", ""), e.get("label", ""))
        for e in data.get("edges", [])
    ]
    return DotGraph(nodes, clusters, edges)


@pytest.fixture
def dot() -> Callable[[str], DotGraph]:
    """Parse DOT text with Graphviz."""
    return parse_dot
