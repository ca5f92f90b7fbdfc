"""Tests of hypergraph-sqlite; importing it here makes the folder fail loudly if it is missing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import hypergraph_sqlite  # noqa: F401

RunPython = Callable[[str], str]


@pytest.fixture
def run_python() -> RunPython:
    """Run a snippet in a fresh interpreter of this environment and return its stdout."""

    def run(code: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """A cache folder that does not exist yet."""
    return tmp_path / "cache"
