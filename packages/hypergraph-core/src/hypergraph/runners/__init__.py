"""Runners and what they return.

``AsyncRunner``, ``DaftRunner`` and ``DBOSAsyncRunner`` live in plugin packages and resolve
lazily through the plugin registry.
"""

from typing import Any

from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities
from hypergraph.results import (
    ErrorHandling,
    MapResult,
    PauseInfo,
    PauseReason,
    RunResult,
    RunStatus,
)
from hypergraph.runners.sync import SyncRunner

__all__ = [
    "BaseRunner",
    "ErrorHandling",
    "MapResult",
    "PauseInfo",
    "PauseReason",
    "RunResult",
    "RunStatus",
    "RunnerCapabilities",
    "SyncRunner",
]


def __getattr__(name: str) -> Any:
    from hypergraph.plugins import resolve_export

    value = resolve_export(name, "hypergraph")
    globals()[name] = value
    return value
