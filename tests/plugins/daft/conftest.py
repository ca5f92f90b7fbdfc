"""Shared setup for the DaftRunner tests: real Daft (native runner), real Ray in one test file."""

from __future__ import annotations

import os

# Daft phones home on import and Ray warns about token auth unless told otherwise.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import daft  # noqa: F401  (the plugin's dependency must be installed, never skipped)
import pytest

import hypergraph_daft  # noqa: F401
from hypergraph import DaftRunner


@pytest.fixture
def runner() -> DaftRunner:
    return DaftRunner()
