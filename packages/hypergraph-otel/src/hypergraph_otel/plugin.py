"""The module named by this distribution's ``hypergraph`` entry point.

It only names ``OpenTelemetryProcessor`` and where it lives; OpenTelemetry is imported when a user
first asks for the processor (``from hypergraph.events import OpenTelemetryProcessor``).
"""

from __future__ import annotations

from collections.abc import Callable

from hypergraph.plugins import hookimpl

__all__ = ["hypergraph_register_event_processors"]


@hookimpl
def hypergraph_register_event_processors(register: Callable[..., None]) -> None:
    """Register ``OpenTelemetryProcessor`` in ``hypergraph.events``."""
    register("OpenTelemetryProcessor", "hypergraph_otel.processor:OpenTelemetryProcessor")
