"""Helpers for DBOSAsyncRunner tests: child programs run with this interpreter, marker files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).resolve().parent / "programs"

RunProgram = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_program() -> RunProgram:
    """Run ``programs/<name>`` in a fresh interpreter, returning the finished process."""

    def run(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, str(PROGRAMS / name), *args], capture_output=True, text=True,
            timeout=120, env=full_env, check=False,
        )

    return run


@pytest.fixture
def markers() -> Callable[[Path, str], list[int]]:
    """``markers(dir, name)``: pids of the processes in which node ``name`` ran, one per run."""

    def pids(directory: Path, name: str) -> list[int]:
        return sorted(int(p.suffix[1:]) for p in directory.glob(f"{name}.*"))

    return pids
