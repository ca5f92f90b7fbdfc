"""Names hypergraph documents but core does not ship, and the package that provides each.

The registry consults this table only when a name is *not* registered, to turn a bare
``AttributeError`` into a ``MissingPluginError`` that names the package and the install command.
Adding a row never imports anything.
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["KNOWN_EXPORTS", "KnownExport", "known_export"]


@attrs.frozen
class KnownExport:
    """A documented public name and where it comes from.

    ``distribution`` is what the user must install (named in the error message) and ``extra`` the
    ``hypergraph-core`` extra that pulls it in. ``provider`` is the distribution whose plugin
    registers the name; it differs from ``distribution`` only for names core registers itself but
    that need a third-party library (``RichProgressProcessor`` needs ``rich``).
    """

    name: str
    namespace: str
    distribution: str
    extra: str | None
    kind: Literal["runner", "cache", "checkpointer", "event_processor"]
    provider: str = attrs.field(
        default=attrs.Factory(lambda self: self.distribution, takes_self=True)
    )


KNOWN_EXPORTS: tuple[KnownExport, ...] = (
    KnownExport("AsyncRunner", "hypergraph", "hypergraph-async", "async", "runner"),
    KnownExport("DaftRunner", "hypergraph", "hypergraph-daft", "daft", "runner"),
    KnownExport("DBOSAsyncRunner", "hypergraph", "hypergraph-dbos", "dbos", "runner"),
    KnownExport("DiskCache", "hypergraph", "hypergraph-sqlite", "sqlite", "cache"),
    KnownExport(
        "SqliteCheckpointer", "hypergraph.checkpointers", "hypergraph-sqlite", "sqlite",
        "checkpointer",
    ),
    KnownExport(
        "OpenTelemetryProcessor", "hypergraph.events", "hypergraph-otel", "otel", "event_processor"
    ),
    KnownExport(
        "RichProgressProcessor", "hypergraph.events", "rich", "progress", "event_processor",
        provider="hypergraph-core",
    ),
)

_BY_KEY = {(k.namespace, k.name): k for k in KNOWN_EXPORTS}


def known_export(name: str, namespace: str) -> KnownExport | None:
    """Return the table row for ``name`` in ``namespace``, or ``None`` if hypergraph doesn't know it."""
    return _BY_KEY.get((namespace, name))
