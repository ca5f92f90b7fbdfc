"""The workspace's packaging rules: one entry point per package, no plugin imports in core."""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import tomllib
from pathlib import Path

from hypergraph.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
CORE_SOURCE = ROOT / "packages" / "hypergraph-core" / "src" / "hypergraph"
WORKSPACE_PYPROJECTS = sorted(
    [*ROOT.glob("packages/*/pyproject.toml"), *ROOT.glob("examples/plugins/*/pyproject.toml")]
)


def _runtime_plugin_imports(path: Path) -> list[str]:
    """``hypergraph_*`` imports that run: those under ``if TYPE_CHECKING:`` only inform checkers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for block in ast.walk(tree):
        if isinstance(block, ast.If) and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            typing_only.update(id(n) for stmt in block.body for n in ast.walk(stmt))
    found = []
    for item in ast.walk(tree):
        if id(item) in typing_only:
            continue
        if isinstance(item, ast.Import):
            names = [a.name for a in item.names]
        elif isinstance(item, ast.ImportFrom) and item.module:
            names = [item.module]
        else:
            continue
        found += [n for n in names if n.startswith("hypergraph_")]
    return found


def test_core_source_never_imports_a_plugin_package():
    """No module of hypergraph-core imports a ``hypergraph_*`` package at run time."""
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in CORE_SOURCE.rglob("*.py")
        for name in _runtime_plugin_imports(path)
    ]
    assert offenders == []


def test_plugin_import_check_catches_a_runtime_import(tmp_path):
    """The layout check flags a plain ``import hypergraph_x`` and spares a TYPE_CHECKING one."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import hypergraph_a\n"
        "import hypergraph_b\n"
    )
    assert _runtime_plugin_imports(sample) == ["hypergraph_b"]


def test_workspace_has_core_and_the_example_plugin():
    """The checks below really cover core and hypergraph-echo (the globs found them)."""
    names = {tomllib.loads(p.read_text())["project"]["name"] for p in WORKSPACE_PYPROJECTS}
    assert {"hypergraph-core", "hypergraph-echo"} <= names


def test_every_workspace_package_declares_exactly_one_entry_point():
    """Each member's pyproject declares one ``hypergraph`` entry point, and the installed one agrees."""
    for pyproject in WORKSPACE_PYPROJECTS:
        project = tomllib.loads(pyproject.read_text())["project"]
        declared = project.get("entry-points", {}).get("hypergraph", {})
        assert len(declared) == 1, f"{pyproject.relative_to(ROOT)} declares {declared}"
        installed = importlib.metadata.distribution(project["name"]).entry_points.select(
            group="hypergraph"
        )
        assert {(ep.name, ep.value) for ep in installed} == set(declared.items())


def test_every_hookspec_has_a_one_line_docstring():
    """Each ``hypergraph_*`` hook specification documents itself in one summary line."""
    specs = [
        (name, obj)
        for name, obj in vars(hookspecs).items()
        if name.startswith("hypergraph_") and inspect.isfunction(obj)
    ]
    assert len(specs) == 5
    for name, spec in specs:
        doc = inspect.getdoc(spec) or ""
        assert doc and "\n" not in doc, f"{name} needs a one-line docstring"
