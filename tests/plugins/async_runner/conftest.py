"""Shared fixtures for the AsyncRunner plugin tests (SPEC R, AC, GN, HI, EV)."""

from __future__ import annotations

from typing import Any

import pytest

import hypergraph_async  # noqa: F401  (the plugin under test must be installed, never skipped)
from hypergraph import AsyncRunner
from hypergraph.events import EventProcessor


class Recorder(EventProcessor):
    """Keeps every event it receives, in order."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def on_event(self, event: Any) -> None:
        self.events.append(event)

    def of(self, event_type: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, event_type)]

    def kinds(self, node_name: str) -> list[str]:
        """Event class names of one node, in order."""
        return [type(e).__name__ for e in self.events if getattr(e, "node_name", None) == node_name]


class InFlight:
    """Counts leaf executions in flight on one event loop and remembers the peak."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    def __enter__(self) -> InFlight:
        self.now += 1
        self.peak = max(self.peak, self.now)
        return self

    def __exit__(self, *exc: object) -> None:
        self.now -= 1


@pytest.fixture
def runner() -> AsyncRunner:
    return AsyncRunner()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def in_flight() -> InFlight:
    return InFlight()
