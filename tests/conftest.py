"""Session-wide settings: DBOS (a per-process singleton) gets one throwaway system database."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

_DBOS_DIR = tempfile.mkdtemp(prefix="hypergraph-dbos-tests-")


def pytest_configure(config: pytest.Config) -> None:
    """Every DBOSAsyncRunner() of this session shares one SQLite file outside the work tree."""
    os.environ.setdefault(
        "HYPERGRAPH_DBOS_SYSTEM_DATABASE_URL",
        "sqlite:///" + str(Path(_DBOS_DIR) / "session.sqlite"),
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Destroy DBOS once at the end (about a second) if a test launched it."""
    module = sys.modules.get("dbos")
    if module is not None and hasattr(module, "DBOS"):
        module.DBOS.destroy()
