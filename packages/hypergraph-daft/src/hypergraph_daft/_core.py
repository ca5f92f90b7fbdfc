"""Everything hypergraph-daft takes from core's runner-building modules, in one place.

Option checks and value preparation come from the public ``hypergraph.runtime``; the rest are
public value types and the plan's fallback kinds.
"""

from __future__ import annotations

import os
from typing import Any

from hypergraph.cache import InMemoryCache, NodeCache
from hypergraph.runners.base import BaseRunner
from hypergraph.runtime import (
    MAP_OPTIONS,
    RUN_OPTIONS,
    UNSET,
    call_from_sync,
    expand_items,
    join_chunks,
    map_outputs,
    normalize_map_over,
    prepare_map,
    prepare_run,
    prepare_values,
    refuse_unread_options,
    run_result,
)

__all__ = [
    "MAP_OPTIONS",
    "RUN_OPTIONS",
    "UNSET",
    "call_from_sync",
    "BaseRunner",
    "InMemoryCache",
    "NodeCache",
    "expand_items",
    "join_chunks",
    "map_outputs",
    "nested_map_items",
    "new_run_id",
    "normalize_map_over",
    "prepare_map",
    "prepare_run",
    "prepare_values",
    "refuse_unread_options",
    "run_result",
]


def new_run_id() -> str:
    """``"run-"`` and 12 hex digits, like every runner's run ids."""
    return "run-" + os.urandom(6).hex()


def nested_map_items(gn: Any, values: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """A mapped graph node's inner map for one row: its error handling and items (MP11)."""
    assert gn.map_config is not None
    params, mode, error_handling = gn.map_config
    names = tuple(gn.inner_input(p) for p in params)
    labels = {gn.inner_input(p): p for p in params}
    return error_handling, expand_items(values, names, mode, gn.map_clone, labels)
