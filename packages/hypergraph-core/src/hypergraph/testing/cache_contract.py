"""The cache-backend contract: behaviours every ``CacheBackend`` must show, as pytest tests.

A cache plugin subclasses :class:`CacheContract` in its own test suite and provides the
``cache`` fixture (a fresh, empty backend per test)::

    from hypergraph.testing import CacheContract

    class TestMyCache(CacheContract):
        @pytest.fixture
        def cache(self, tmp_path):
            return MyCache(tmp_path)

Keys are what runners pass: lowercase SHA-256 hex strings. Values are picklable, since
persistent backends pickle them.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest

from hypergraph.cache import CacheBackend

__all__ = ["CacheContract"]


def key_for(label: str) -> str:
    """A realistic cache key (lowercase SHA-256 hex) derived from ``label``."""
    return hashlib.sha256(label.encode()).hexdigest()


class CacheContract:
    """Subclass and override the ``cache`` fixture to run the contract against a backend."""

    @pytest.fixture
    def cache(self) -> CacheBackend:
        raise NotImplementedError("override the `cache` fixture to return a fresh backend")

    def test_is_a_cache_backend(self, cache: Any) -> None:
        """The backend satisfies the ``CacheBackend`` protocol."""
        assert isinstance(cache, CacheBackend)

    def test_unknown_key_is_a_miss(self, cache: Any) -> None:
        """``get`` of a key never set returns ``(False, None)``."""
        assert cache.get(key_for("never set")) == (False, None)

    def test_set_then_get_is_a_hit(self, cache: Any) -> None:
        """After a miss, ``set`` makes the same key a hit with the stored value."""
        key = key_for("embed")
        assert cache.get(key) == (False, None)
        cache.set(key, {"embedding": [0.1, 0.2]})
        assert cache.get(key) == (True, {"embedding": [0.1, 0.2]})

    def test_none_is_a_hit(self, cache: Any) -> None:
        """A stored ``None`` is a hit, distinguishable from a miss."""
        key = key_for("none")
        cache.set(key, None)
        assert cache.get(key) == (True, None)

    def test_set_overwrites(self, cache: Any) -> None:
        """A second ``set`` of the same key replaces the first value."""
        key = key_for("overwrite")
        cache.set(key, "first")
        cache.set(key, "second")
        assert cache.get(key) == (True, "second")

    def test_nested_values_round_trip(self, cache: Any) -> None:
        """Nested containers of builtins come back equal, with their types."""
        value = {
            "list": [1, 2.5, "three", None, True],
            "tuple": (1, ("nested", b"bytes")),
            "dict": {"a": {"b": [{"c": frozenset({1, 2})}]}},
            "set": {3, 4},
        }
        key = key_for("nested")
        cache.set(key, value)
        hit, stored = cache.get(key)
        assert hit
        assert stored == value
        assert type(stored["tuple"][1]) is tuple

    def test_distinct_keys_do_not_collide(self, cache: Any) -> None:
        """Many keys hold their own values; keys differing in one digit included."""
        keys = [key_for(f"item-{i}") for i in range(50)]
        keys.append(keys[0][:-1] + ("0" if keys[0][-1] != "0" else "1"))
        for i, key in enumerate(keys):
            cache.set(key, i)
        assert [cache.get(key) for key in keys] == [(True, i) for i in range(len(keys))]

    def test_concurrent_get_and_set_from_threads_is_safe(self, cache: Any) -> None:
        """Threads setting and getting shared and own keys see only stored values or misses."""
        shared = [key_for(f"shared-{i}") for i in range(5)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def work(worker: int) -> None:
            try:
                barrier.wait()
                for i in range(40):
                    own = key_for(f"own-{worker}-{i}")
                    cache.set(own, (worker, i))
                    assert cache.get(own) == (True, (worker, i))
                    key = shared[i % len(shared)]
                    cache.set(key, {"by": worker, "i": i})
                    hit, value = cache.get(key)
                    assert hit and set(value) == {"by", "i"}
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        for worker in range(8):
            assert cache.get(key_for(f"own-{worker}-39")) == (True, (worker, 39))
