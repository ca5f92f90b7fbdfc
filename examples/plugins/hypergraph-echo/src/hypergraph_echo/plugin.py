"""The module named by this distribution's ``hypergraph`` entry point.

It only tells hypergraph which names exist and where they live; the targets are imported when a
user first asks for them (``from hypergraph import ThreadPoolRunner``).
"""

from __future__ import annotations

from collections.abc import Callable

from hypergraph.plugins import hookimpl
from hypergraph.runners.capabilities import RunnerCapabilities

__all__ = ["hypergraph_register_cache_backends", "hypergraph_register_runners"]


@hookimpl
def hypergraph_register_runners(register: Callable[..., None]) -> None:
    """Register ``ThreadPoolRunner``; it runs what ``SyncRunner`` runs, so it declares the same flags."""
    register(
        "ThreadPoolRunner",
        "hypergraph_echo.threads:ThreadPoolRunner",
        capabilities=RunnerCapabilities(),
    )


@hookimpl
def hypergraph_register_cache_backends(register: Callable[..., None]) -> None:
    """Register ``EchoCache``, a plain thread-safe dict."""
    register("EchoCache", "hypergraph_echo.cache:EchoCache")
