"""``CacheBackend``: the two-method protocol every node-result cache implements (SPEC CA5)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["CacheBackend"]


@runtime_checkable
class CacheBackend(Protocol):
    """Where runners keep node results: ``get(key) -> (hit, value)`` and ``set(key, value)``.

    Keys are lowercase hex strings (``hypergraph.cache.cache_key``). ``get`` returns
    ``(True, value)`` for a stored key — a stored ``None`` is a hit — and ``(False, None)``
    otherwise; a backend that cannot read an entry back (corrupt, evicted, unreadable) reports a
    miss rather than raising. ``set`` stores ``value``, replacing any previous one; a backend that
    cannot store a value skips it with a logged warning rather than raising.

    Implementations must be safe for concurrent callers: ``AsyncRunner`` and map items share one
    backend across threads. ``hypergraph.testing.CacheContract`` checks all of this.
    """

    def get(self, key: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` when ``key`` is stored, ``(False, None)`` otherwise."""
        ...

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""
        ...
