"""``InMemoryCache``: a lock-protected dict of pickled values with optional LRU eviction (SPEC CA6)."""

from __future__ import annotations

import logging
import pickle
import threading
from collections import OrderedDict
from typing import Any

from hypergraph.cache.entries import dump_entry

__all__ = ["InMemoryCache", "MemoryCache"]

logger = logging.getLogger("hypergraph.cache.memory")


class InMemoryCache:
    """Node results in this process's memory; evicts the least recently used beyond ``max_size``.

    ``max_size=None`` keeps everything; ``max_size=0`` stores nothing (every lookup misses), a
    handy way to switch caching off without touching the runner. Both ``get`` (on a hit) and ``set`` make a key the most
    recently used. All operations hold one lock, so the cache is safe for concurrent callers.

    Values are stored pickled, like ``DiskCache`` stores them: ``set`` takes a snapshot and every
    hit unpickles an independent copy, so a consumer that mutates a cached list or dict cannot
    change what the next hit returns (nor can the producer, after ``set``). Hence values must be
    picklable: one that is not is skipped with a warning on the ``hypergraph.cache.memory``
    logger — nothing is stored and nothing is raised — and the node simply runs again next time.
    """

    def __init__(self, max_size: int | None = None) -> None:
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0
        ):
            raise ValueError(f"max_size must be an int >= 0 or None, got {max_size!r}")
        self.max_size = max_size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> tuple[bool, Any]:
        """Return ``(True, a fresh copy of the value)`` and mark ``key`` recently used, or ``(False, None)``.

        An entry that cannot be unpickled any more (its class was removed or redefined
        incompatibly) is dropped with a warning and reported as a miss.
        """
        with self._lock:
            try:
                payload = self._entries[key]
            except KeyError:
                return False, None
            self._entries.move_to_end(key)
        try:
            return True, pickle.loads(payload)
        except Exception as exc:
            logger.warning("Cache entry %s cannot be unpickled (%s: %s); evicting it.",
                           key, type(exc).__name__, exc)
            with self._lock:
                if self._entries.get(key) is payload:
                    del self._entries[key]
            return False, None

    def set(self, key: str, value: Any) -> None:
        """Store a pickled snapshot of ``value`` as the most recently used entry.

        Evicts the oldest entries beyond ``max_size``. A value that cannot be pickled is skipped
        with a warning; any previous entry under ``key`` is left as it was.
        """
        if self.max_size == 0:
            return
        payload = dump_entry(key, value)
        if payload is None:
            return
        with self._lock:
            self._entries[key] = payload
            self._entries.move_to_end(key)
            if self.max_size is not None:
                while len(self._entries) > self.max_size:
                    self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: object) -> bool:
        # membership does not count as a use: it leaves the LRU order alone
        with self._lock:
            return key in self._entries

    def __repr__(self) -> str:
        return f"InMemoryCache(max_size={self.max_size!r})"


MemoryCache = InMemoryCache
"""Alias of :class:`InMemoryCache` (SPEC CA6)."""
