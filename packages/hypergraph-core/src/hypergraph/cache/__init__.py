"""Node-result caching: the backend protocol, the in-memory backend, keys and the runner helper.

Users see ``CacheBackend``, ``InMemoryCache``/``MemoryCache`` and (from ``hypergraph-sqlite``)
``DiskCache``; a node opts in with ``@node(..., cache=True)`` and a runner with
``SyncRunner(cache=InMemoryCache())`` (SPEC CA1). Everything else here is for runners.

How a runner uses it
--------------------
Once, in ``__init__``::

    self._node_cache = NodeCache(cache) if cache is not None else None

Per node execution, after ``kwargs = engine.collect(state, np)`` and ``NodeStartEvent``::

    lookup = self._node_cache.lookup(np.node, kwargs) if self._node_cache else None
    if lookup is None:
        ...                                    # not cache-enabled (cache=False, interrupt,
                                               # GraphNode, or no backend): run as usual,
                                               # no cache events
    elif lookup.hit:
        emit(CacheHitEvent, node_name=..., graph_name=..., cache_key=lookup.key)
        outputs = lookup.outputs               # already named by this node's outputs
        decision = resolve_decision(np, lookup.decision) if np.gate_plan else None
        # gate: emit RouteDecisionEvent as after a real call (GT14)
        # NodeEndEvent(cached=True, duration_ms=0.0); the function is not called and a
        # generator emits no StreamingChunkEvent (CA4, CA9)
    else:
        emit(CacheMissEvent, node_name=..., graph_name=...,
             cache_key=lookup.key or "", reason=lookup.reason)
        raw = <call the function; drain a generator>   # as without a cache
        outputs = map_outputs(np, raw)                  # gates: outputs = {}
        # only when the call succeeded (CA3); a gate passes its *raw* return value:
        self._node_cache.store(lookup, outputs, decision=raw if np.gate_plan else None)
        # then RouteDecisionEvent / NodeEndEvent(cached=False) as usual

``lookup.key`` is ``None`` (and ``lookup.reason == UNKEYABLE``) when an input cannot be pickled;
``store`` then does nothing. Nested graphs and map items reuse the same ``NodeCache`` (CA8); a
runner given to ``as_node(runner=r)`` uses ``r``'s own. Neither method raises for backend
failures: they are logged on the ``hypergraph.cache`` logger and count as a miss / no store.

A backend that stores bytes (disk, network) turns values into bytes with ``dump_entry``, which
skips an unpicklable value with a warning instead of failing the run.
"""

from hypergraph.cache.entries import dump_entry
from hypergraph.cache.explain import CODE_CHANGED, FIRST_TIME, MissExplainer
from hypergraph.cache.keys import cache_key, fingerprint
from hypergraph.cache.memory import InMemoryCache, MemoryCache
from hypergraph.cache.node_cache import (
    UNKEYABLE,
    CachedResult,
    CacheLookup,
    NodeCache,
    is_cacheable,
    node_identity,
)
from hypergraph.cache.protocol import CacheBackend

__all__ = [
    "CacheBackend",
    "InMemoryCache",
    "MemoryCache",
    "cache_key",
    "fingerprint",
    "MissExplainer",
    "FIRST_TIME",
    "CODE_CHANGED",
    "UNKEYABLE",
    "NodeCache",
    "CacheLookup",
    "CachedResult",
    "is_cacheable",
    "node_identity",
    "dump_entry",
]
