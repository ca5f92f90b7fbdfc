"""Everything hypergraph-daft takes from core's runner-building modules, in one place.

Run/map option checks and value preparation come from ``hypergraph.runners.support`` today;
when core publishes them as ``hypergraph.runtime`` only this module changes.
"""

from __future__ import annotations

from hypergraph.cache import InMemoryCache, NodeCache
from hypergraph.engine.execution import join_chunks, map_outputs
from hypergraph.plan import CONSTANT, COPY_DEFAULT, NO_FALLBACK
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.support import (
    MAP_OPTIONS,
    RUN_OPTIONS,
    UNSET,
    check_common_options,
    check_keywords,
    check_lineage_options,
    check_structure_cached,
    expand_items,
    merge_values,
    nested_map_items,
    new_run_id,
    normalize_map_over,
    prepare_values,
    reject_interrupts_in_map,
    user_stacklevel,
)

__all__ = [
    "CONSTANT",
    "BaseRunner",
    "InMemoryCache",
    "NodeCache",
    "COPY_DEFAULT",
    "MAP_OPTIONS",
    "NO_FALLBACK",
    "RUN_OPTIONS",
    "UNSET",
    "check_common_options",
    "check_keywords",
    "check_lineage_options",
    "check_structure_cached",
    "expand_items",
    "join_chunks",
    "map_outputs",
    "merge_values",
    "nested_map_items",
    "new_run_id",
    "normalize_map_over",
    "prepare_values",
    "reject_interrupts_in_map",
    "user_stacklevel",
]
