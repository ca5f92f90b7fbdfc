"""``EchoCache``: the smallest correct cache backend (SPEC CA5)."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["EchoCache"]


class EchoCache:
    """A dict behind a lock: ``get(key) -> (hit, value)`` and ``set(key, value)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {}

    def get(self, key: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` for a stored key, ``(False, None)`` otherwise."""
        with self._lock:
            if key in self._data:
                return True, self._data[key]
            return False, None

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""
        with self._lock:
            self._data[key] = value

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
