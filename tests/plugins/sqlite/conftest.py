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


class Fixable:
    """A two-node graph whose second node fails until ``broken`` is cleared; ``ran`` lists
    the node executions (the migration tests' failed-then-fixed run)."""

    def __init__(self) -> None:
        from hypergraph import Graph, node

        self.broken = True
        self.ran: list[str] = []

        @node(output_name="b")
        def first(a: int) -> int:
            self.ran.append("first")
            return a + 1

        @node(output_name="c")
        def second(b: int) -> int:
            self.ran.append("second")
            if self.broken:
                raise RuntimeError("second is broken")
            return b * 10

        self.graph = Graph([first, second], name="two")


@pytest.fixture
def fixable() -> Fixable:
    """A fresh ``Fixable`` graph."""
    return Fixable()
