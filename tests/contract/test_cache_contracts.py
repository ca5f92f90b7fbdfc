"""Every cache backend we ship or document honours the contract in ``hypergraph.testing``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypergraph import DiskCache, EchoCache, InMemoryCache
from hypergraph.testing import CacheContract


class TestInMemoryCacheContract(CacheContract):
    @pytest.fixture
    def cache(self) -> InMemoryCache:
        return InMemoryCache()


class TestBoundedInMemoryCacheContract(CacheContract):
    @pytest.fixture
    def cache(self) -> InMemoryCache:
        return InMemoryCache(max_size=1000)


class TestDiskCacheContract(CacheContract):
    @pytest.fixture
    def cache(self, tmp_path: Path) -> DiskCache:
        return DiskCache(tmp_path / "cache")


class TestEchoCacheContract(CacheContract):
    @pytest.fixture
    def cache(self) -> EchoCache:
        return EchoCache()
