"""Runners and what they return.

``AsyncRunner``, ``DaftRunner`` and ``DBOSAsyncRunner`` live in plugin packages and resolve
lazily through the plugin registry.
"""

from hypergraph.plugins import lazy_exports as _lazy_exports
from hypergraph.results import (
    ErrorHandling,
    MapMode,
    MapResult,
    OnMissing,
    PauseInfo,
    PauseReason,
    RunResult,
    RunStatus,
)
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities
from hypergraph.runners.sync import SyncRunner

__all__ = [
    "BaseRunner",
    "ErrorHandling",
    "MapMode",
    "MapResult",
    "OnMissing",
    "PauseInfo",
    "PauseReason",
    "RunResult",
    "RunStatus",
    "RunnerCapabilities",
    "SyncRunner",
]

# AsyncRunner, DaftRunner, DBOSAsyncRunner: resolved through the plugin registry
__getattr__, __dir__ = _lazy_exports("hypergraph", globals())
