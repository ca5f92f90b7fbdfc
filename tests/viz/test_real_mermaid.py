"""Mermaid's own parser (the npm package, run by Node.js) accepts every flowchart hypergraph writes.

The first run installs the pinned parser with ``npm ci`` into tests/viz/mermaid/node_modules.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hypergraph import END, Graph, ifelse, interrupt, node, route

HERE = Path(__file__).parent / "mermaid"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def parse_with_mermaid():
    """A function sending [(name, text)] to Mermaid's parser; returns {name: error or None}."""
    node_bin, npm = shutil.which("node"), shutil.which("npm")
    assert node_bin and npm, "these tests need Node.js and npm (apt-get install nodejs npm)"
    if not (HERE / "node_modules" / "mermaid").is_dir():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=HERE, capture_output=True, text=True, timeout=600,
        )
        assert done.returncode == 0, done.stderr

    def parse(charts: list[tuple[str, str]]) -> dict[str, str | None]:
        done = subprocess.run(
            [node_bin, "check.mjs"], input=json.dumps(charts), cwd=HERE,
            capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    return parse


def _special_graphs() -> dict[str, Graph]:
    @node(output_name="y")
    def f(x: str = '<a href="|#">', end: int = 0) -> str:
        return x

    @ifelse(when_true="g", when_false=END)
    def ok(y: str) -> bool:
        return bool(y)

    @node(output_name="z")
    def g(y: str) -> str:
        return y

    @interrupt(output_name="answer")
    def ask(z: str) -> None:
        return None

    @route(targets={"inner": "again", END: "stop"})
    def back(answer: str) -> object:
        return END

    inner = Graph([f, ok, g], name="inner")
    outer = Graph([inner.as_node(), ask, back], name="outer", entrypoint="inner")
    spaced = Graph([inner.as_node(name="a", namespaced=True), inner.as_node(name="b").map_over("x")])
    return {
        "outer": outer,
        "outer-selected": outer.select("z"),
        "inner-bound": inner.bind(x="q"),
        "namespaced-and-mapped": spaced,
    }


def _charts() -> list[tuple[str, str]]:
    charts = []
    graphs = dict(_special_graphs())
    for path in sorted(EXAMPLES.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_mermaid_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        graphs.update({f"{path.stem}:{k}": v for k, v in vars(module).items() if isinstance(v, Graph)})
    for name, graph in graphs.items():
        for depth in (0, 1, 3):
            charts.append((f"{name} depth={depth}", graph.to_mermaid(depth=depth)))
        charts.append((f"{name} LR", graph.to_mermaid(direction="LR")))
    return charts


def test_mermaid_parser_accepts_every_chart_we_write(parse_with_mermaid, monkeypatch):
    """Example graphs and tricky ones (gates to END, nesting, interrupts, escapes) all parse."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    charts = _charts()
    assert len(charts) > 40
    errors = {name: error for name, error in parse_with_mermaid(charts).items() if error}
    assert errors == {}


def test_mermaid_parser_rejects_broken_charts(parse_with_mermaid):
    """The check can fail: Mermaid rejects a keyword id and a dangling arrow."""
    results = parse_with_mermaid(
        [("keyword id", 'flowchart TD\n    end["x"] --> b\n'),
         ("dangling", 'flowchart TD\n    a["x"] -->\n')]
    )
    assert all(results.values())
