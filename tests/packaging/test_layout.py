"""The workspace's packaging rules: one entry point per package, no plugin imports in core."""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import tomllib
from pathlib import Path

from hypergraph.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
CORE_SOURCE = ROOT / "packages" / "hypergraph-core" / "src" / "hypergraph"
WORKSPACE_PYPROJECTS = sorted(
    [*ROOT.glob("packages/*/pyproject.toml"), *ROOT.glob("examples/plugins/*/pyproject.toml")]
)
PLUGIN_IMPORT = re.compile(r"^\s*(from|import)\s+hypergraph_\w+", re.MULTILINE)


def test_core_source_never_imports_a_plugin_package():
    """No module of hypergraph-core imports a ``hypergraph_*`` package; plugins come via the registry."""
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in CORE_SOURCE.rglob("*.py")
        for match in PLUGIN_IMPORT.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


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
