"""hypergraph-core installs from its wheel and runs graphs with no plugin package present."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    from hypergraph import Graph, node, SyncRunner, MissingPluginError

    @node(output_name="doubled")
    def double(x: int) -> int:
        return x * 2

    assert SyncRunner().run(Graph([double]), {"x": 21})["doubled"] == 42
    try:
        from hypergraph import AsyncRunner
    except MissingPluginError as exc:
        print("missing:", exc)
    assert not [m for m in sys.modules if m.startswith("hypergraph_")]
    print("ok")
    """
)


@pytest.fixture(scope="module")
def core_only_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the hypergraph-core wheel (and its dependencies)."""
    uv = shutil.which("uv")
    assert uv is not None, "uv is on PATH wherever the test suite runs (see README)"
    work = tmp_path_factory.mktemp("core-alone")
    subprocess.run(
        [uv, "build", "--package", "hypergraph-core", "--wheel", "-o", str(work / "dist")],
        cwd=ROOT, check=True, capture_output=True,
    )
    wheel = next((work / "dist").glob("hypergraph_core-*.whl"))
    venv = work / "venv"
    subprocess.run([uv, "venv", "--python", sys.executable, str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "--python", str(python), str(wheel)], check=True, capture_output=True
    )
    return python


def test_core_wheel_runs_a_graph_without_any_plugin(core_only_python: Path) -> None:
    """SyncRunner works from the core wheel alone; no plugin module is imported."""
    done = subprocess.run(
        [str(core_only_python), "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().endswith("ok")


def test_core_alone_names_the_package_to_install(core_only_python: Path) -> None:
    """With hypergraph-async truly absent, importing AsyncRunner gives the install command."""
    done = subprocess.run(
        [str(core_only_python), "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    assert (
        "missing: AsyncRunner is provided by 'hypergraph-async', which is not installed. "
        "Install it with `pip install hypergraph-async`" in done.stdout
    )
