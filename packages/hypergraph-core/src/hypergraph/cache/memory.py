"""``InMemoryCache``: a lock-protected dict with optional LRU eviction (SPEC CA6)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

__all__ = ["InMemoryCache", "MemoryCache"]


class InMemoryCache:
    """Node results in this process's memory; evicts the least recently used beyond ``max_size``.

    ``max_size=None`` keeps everything. Both ``get`` (on a hit) and ``set`` make a key the most
    recently used. Values are stored as they are, not copied: a runner hands the same objects to
    every hit. All operations hold one lock, so the cache is safe for concurrent callers.
    """

    def __init__(self, max_size: int | None = None) -> None:
        if max_size is not None and (isinstance(max_size, bool) or max_size < 1):
            raise ValueError(f"max_size must be a positive int or None, got {max_size!r}")
        self.max_size = max_size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` and mark ``key`` recently used, or ``(False, None)``."""
        with self._lock:
            try:
                value = self._entries[key]
            except KeyError:
                return False, None
            self._entries.move_to_end(key)
            return True, value

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` as the most recently used entry, evicting the oldest beyond ``max_size``."""
        with self._lock:
            self._entries[key] = value
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
