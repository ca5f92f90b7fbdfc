"""Type checkers see real types: `mypy --strict` accepts a typed program and catches mistakes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def _mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--hide-error-context",
         "--no-error-summary", "--config-file=", str(path)],
        capture_output=True, text=True, timeout=300, cwd=HERE,
    )


def test_typed_user_program_passes_mypy_strict():
    """program.py, which pins plugin names and node signatures with assert_type, type-checks."""
    done = _mypy(HERE / "program.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_reports_every_marked_mistake_and_nothing_else():
    """Each `# E: code` line of wrong.py is reported with that code, and no other line is."""
    source = (HERE / "wrong.py").read_text().splitlines()
    expected = {
        (number, m.group(1))
        for number, line in enumerate(source, start=1)
        if (m := re.search(r"# E: ([a-z-]+)$", line))
    }
    done = _mypy(HERE / "wrong.py")
    reported = {
        (int(m.group(1)), m.group(2))
        for m in re.finditer(r"wrong\.py:(\d+): error: .*\[([a-z-]+)\]$", done.stdout, re.M)
    }
    assert len(expected) == 10
    assert reported == expected, done.stdout
