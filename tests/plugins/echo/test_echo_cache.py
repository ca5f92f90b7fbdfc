"""The example cache backend registered by hypergraph-echo."""

from __future__ import annotations

import threading

from hypergraph import EchoCache


def test_echo_cache_is_imported_from_hypergraph():
    """``from hypergraph import EchoCache`` resolves the plugin's class through the registry."""
    assert EchoCache.__module__ == "hypergraph_echo.cache"


def test_echo_cache_reports_a_miss_then_a_hit():
    """``get`` returns ``(False, None)`` for an unknown key and ``(True, value)`` once set."""
    cache = EchoCache()
    assert cache.get("k") == (False, None)
    cache.set("k", {"doubled": 10})
    assert cache.get("k") == (True, {"doubled": 10})


def test_echo_cache_stores_none_as_a_hit():
    """A cached ``None`` is a hit, distinguishable from a miss."""
    cache = EchoCache()
    cache.set("k", None)
    assert cache.get("k") == (True, None)


def test_echo_cache_is_safe_for_concurrent_writers():
    """Concurrent ``set`` calls from many threads all land."""
    cache = EchoCache()

    def fill(start: int) -> None:
        for i in range(start, start + 500):
            cache.set(str(i), i)

    threads = [threading.Thread(target=fill, args=(n * 500,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 4000
    assert cache.get("3999") == (True, 3999)
