"""Fixtures for the OpenTelemetry plugin's tests: a local SDK tracer provider with an in-memory exporter.

The imports below are the folder's dependency check: these tests need ``hypergraph-otel`` and the
OpenTelemetry SDK installed (the workspace installs both).
"""

from __future__ import annotations

import attrs
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import hypergraph_otel

__all__ = ["SpanTree", "Tracing"]


@attrs.frozen
class SpanTree:
    """The finished spans of one test, with helpers to read their parentage."""

    spans: tuple[ReadableSpan, ...]

    def named(self, name: str) -> ReadableSpan:
        """The one span called ``name``."""
        found = [s for s in self.spans if s.name == name]
        assert len(found) == 1, f"{len(found)} spans named {name!r} in {[s.name for s in self.spans]}"
        return found[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """Spans whose parent is ``parent``, in start order."""
        return sorted(
            (s for s in self.spans if s.parent and s.parent.span_id == parent.context.span_id),
            key=lambda s: s.start_time or 0,
        )

    def roots(self) -> list[ReadableSpan]:
        """Spans without a parent."""
        return [s for s in self.spans if s.parent is None]

    def shape(self, span: ReadableSpan) -> tuple:
        """``(name, [children's shapes])``: the tree under ``span`` in one comparable value."""
        return (span.name, [self.shape(child) for child in self.children(span)])


class Tracing:
    """A local ``TracerProvider`` (never the global one) exporting to memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def processor(self, **options):
        """An ``OpenTelemetryProcessor`` bound to this provider."""
        return hypergraph_otel.OpenTelemetryProcessor(tracer_provider=self.provider, **options)

    def tree(self) -> SpanTree:
        """Every span finished so far."""
        return SpanTree(tuple(self.exporter.get_finished_spans()))


@pytest.fixture
def tracing() -> Tracing:
    """A fresh in-memory tracing setup for one test."""
    return Tracing()
