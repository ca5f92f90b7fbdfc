"""Plugin packages import only core's public modules and names (DESIGN: plugins use public API)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SOURCES = sorted(
    path
    for pattern in ("packages/hypergraph-*/src/**/*.py", "examples/plugins/*/src/**/*.py")
    for path in ROOT.glob(pattern)
    if "hypergraph-core" not in path.parts
)


def core_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """Every ``(line, module, name)`` a file imports from ``hypergraph``, TYPE_CHECKING blocks too.

    ``name`` is ``None`` for ``import hypergraph.x``. Walking the whole tree (not just the top
    level) catches imports inside functions and ``if TYPE_CHECKING:``.
    """
    found: list[tuple[int, str, str | None]] = []
    for statement in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(statement, ast.Import):
            found.extend(
                (statement.lineno, alias.name, None)
                for alias in statement.names
                if alias.name == "hypergraph" or alias.name.startswith("hypergraph.")
            )
        elif isinstance(statement, ast.ImportFrom) and not statement.level:
            module = statement.module or ""
            if module == "hypergraph" or module.startswith("hypergraph."):
                found.extend((statement.lineno, module, alias.name) for alias in statement.names)
    return found


def is_private(module: str, name: str | None) -> bool:
    """A ``_``-prefixed component anywhere in ``module.name`` (``hypergraph.x._y``, ``_helper``)."""
    parts = [*module.split("."), *([name] if name and name != "*" else [])]
    return any(part.startswith("_") and not part.startswith("__") for part in parts)


def test_the_scan_covers_every_plugin_package():
    """The globs find async, sqlite, otel and the example plugin, and each imports core somewhere."""
    packages = {_package_of(p) for p in PLUGIN_SOURCES}
    assert {"hypergraph-async", "hypergraph-sqlite", "hypergraph-otel", "hypergraph-echo"} <= packages
    for package in packages:
        assert any(core_imports(p) for p in PLUGIN_SOURCES if _package_of(p) == package), package


def test_private_import_detection_sees_type_checking_blocks_and_from_imports(tmp_path: Path):
    """The checker flags ``hypergraph.x._y`` paths and ``_name`` imports, even under TYPE_CHECKING."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "import hypergraph.runners.sync\n"
        "from hypergraph.runtime import RunLoop\n"
        "if TYPE_CHECKING:\n"
        "    from hypergraph.events._emitter import Emitter\n"
        "def late():\n"
        "    from hypergraph.runners import _support\n",
        encoding="utf-8",
    )
    flagged = [found for found in core_imports(sample) if is_private(found[1], found[2])]
    assert flagged == [(5, "hypergraph.events._emitter", "Emitter"), (7, "hypergraph.runners", "_support")]


def test_plugin_packages_never_import_private_core_modules():
    """No plugin source imports a core path with a ``_``-prefixed component."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}" + (f" import {name}" if name else "")
        for path in PLUGIN_SOURCES
        for line, module, name in core_imports(path)
        if is_private(module, name)
    ]
    assert offenders == []


def test_plugin_packages_import_only_names_their_core_module_exports():
    """Each name a plugin imports from a core module is in that module's ``__all__`` (or a submodule)."""
    offenders: list[str] = []
    for path in PLUGIN_SOURCES:
        for line, module, name in core_imports(path):
            if name is None or name == "*":
                continue
            target = importlib.import_module(module)
            exported = set(getattr(target, "__all__", ()))
            if name in exported or (hasattr(target, "__path__") and _is_submodule(module, name)):
                continue
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {name} from {module}")
    assert offenders == []


def _package_of(path: Path) -> str:
    """The ``hypergraph-*`` folder a source file belongs to."""
    return next(part for part in path.relative_to(ROOT).parts if part.startswith("hypergraph-"))


def _is_submodule(package: str, name: str) -> bool:
    try:
        importlib.import_module(f"{package}.{name}")
    except ImportError:
        return False
    return True
