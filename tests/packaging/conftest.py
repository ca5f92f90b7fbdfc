"""Fixtures for packaging tests: fresh interpreters, fake installed distributions, a clean registry."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from hypergraph import plugins

PLUGIN_ENV_VARS = (
    "HYPERGRAPH_DISABLE_PLUGIN_AUTOLOAD",
    "HYPERGRAPH_PLUGINS",
    "HYPERGRAPH_TRACE_PLUGINS",
)

RunPython = Callable[..., subprocess.CompletedProcess[str]]
FakeDistribution = Callable[..., Path]


@pytest.fixture
def run_python() -> RunPython:
    """Run a snippet in a fresh interpreter (this venv), with the plugin env vars cleared."""

    def run(
        code: str,
        env: Mapping[str, str] | None = None,
        path: Path | None = None,
        args: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if k not in PLUGIN_ENV_VARS}
        full_env.update(env or {})
        if path is not None:
            full_env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(path), full_env.get("PYTHONPATH")])
            )
        command = [sys.executable, *args] if args else [sys.executable, "-c", textwrap.dedent(code)]
        return subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=60)

    return run


@pytest.fixture
def fake_distribution(tmp_path: Path) -> FakeDistribution:
    """Install a throw-away distribution (dist-info + one module) into a directory for PYTHONPATH."""

    def make(name: str, entry_point: str, module_source: str) -> Path:
        module = name.replace("-", "_") + "_plugin"
        dist_info = tmp_path / f"{name.replace('-', '_')}-9.9.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9\n")
        (dist_info / "entry_points.txt").write_text(f"[hypergraph]\n{entry_point} = {module}\n")
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(module_source))
        return tmp_path

    return make


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process-wide registry, rescanned with no HYPERGRAPH_* variables set, and reset after."""
    for name in PLUGIN_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    plugins._reset_for_tests()
    yield
    plugins._reset_for_tests()
