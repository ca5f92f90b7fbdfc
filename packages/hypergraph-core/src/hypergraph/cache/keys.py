"""Cache keys and value fingerprints: SHA-256 over pickles (SPEC CA2).

A key identifies *what was computed*, not *where*: it is made of the node's ``definition_hash``
(its code), the state its function carries (closure values, bound instance, partial arguments;
``NodeCache`` folds it into the hash it passes here) and its inputs by graph-facing name. The node's name and the graph it sits
in are not part of it, so two graphs that share a node share its cached results.

Keys are deterministic for the same Python version and the same values, also across processes.
They are not guaranteed to be identical for values whose pickle depends on the process, chiefly
``set``/``frozenset`` of ``str`` (their order follows the per-process string hash); such inputs
only cause extra misses, never a wrong hit.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections.abc import Mapping
from typing import Any

__all__ = ["KEY_PICKLE_PROTOCOL", "cache_key", "fingerprint"]

logger = logging.getLogger("hypergraph.cache")

#: Pinned, so that a new Python's default protocol does not silently change every key.
KEY_PICKLE_PROTOCOL = 5


def cache_key(
    definition_hash: str, inputs: Mapping[str, Any], *, node_name: str | None = None
) -> str | None:
    """SHA-256 hex of ``definition_hash`` followed by the pickle of the sorted ``(name, value)`` pairs.

    ``inputs`` are keyed by the node's graph-facing input names (after renames). Returns ``None``
    and logs a warning on the ``hypergraph.cache`` logger (naming ``node_name`` when given, and
    the inputs) when the inputs cannot be pickled — for *any* exception pickling raises, e.g. a
    lock, a lambda, or an object whose ``__reduce__`` fails: the node then runs uncached.
    """
    try:
        data = pickle.dumps(sorted(inputs.items()), protocol=KEY_PICKLE_PROTOCOL)
    except Exception as exc:
        logger.warning(
            "Cannot compute a cache key%s: an input of %s cannot be pickled (%s: %s); "
            "the node runs uncached.",
            f" for node {node_name!r}" if node_name is not None else "",
            ", ".join(repr(name) for name in sorted(inputs)) or "(none)",
            type(exc).__name__,
            exc,
        )
        return None
    digest = hashlib.sha256(definition_hash.encode("utf-8"))
    digest.update(data)
    return digest.hexdigest()


def fingerprint(value: Any) -> str | None:
    """SHA-256 hex of the pickle of one value, or ``None`` when it cannot be pickled (any error)."""
    try:
        data = pickle.dumps(value, protocol=KEY_PICKLE_PROTOCOL)
    except Exception:
        return None
    return hashlib.sha256(data).hexdigest()
