"""Turning a cache entry into bytes, for backends that store bytes (memory, disk, network).

Storing bytes rather than objects makes every hit an independent copy, so a consumer that
mutates a cached value cannot change the next hit.
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

__all__ = ["dump_entry"]

logger = logging.getLogger("hypergraph.cache")


def dump_entry(key: str, value: Any) -> bytes | None:
    """The pickle of ``value``, or ``None`` (with a warning) when it cannot be pickled."""
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        logger.warning(
            "Not caching entry %s: the value cannot be pickled (%s: %s).",
            key, type(exc).__name__, exc,
        )
        return None
