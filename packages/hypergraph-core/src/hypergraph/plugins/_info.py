"""Read-only values describing what plugins registered (shown by ``list_plugins()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from hypergraph.runners.capabilities import RunnerCapabilities

__all__ = ["KIND_NAMESPACES", "NAMESPACES", "Kind", "PluginInfo", "Registration"]

Kind = Literal["runner", "cache", "checkpointer", "event_processor"]

#: The module each kind of registration is exported from.
KIND_NAMESPACES: dict[str, str] = {
    "runner": "hypergraph",
    "cache": "hypergraph",
    "checkpointer": "hypergraph.checkpointers",
    "event_processor": "hypergraph.events",
}

NAMESPACES: tuple[str, ...] = ("hypergraph", "hypergraph.checkpointers", "hypergraph.events")


@attrs.frozen
class Registration:
    """One public name a plugin registered: where it is exported, and what to import for it."""

    name: str
    kind: Kind
    target: str
    capabilities: RunnerCapabilities | None = None

    @property
    def namespace(self) -> str:
        """The module the name is imported from, e.g. ``"hypergraph.checkpointers"``."""
        return KIND_NAMESPACES[self.kind]


@attrs.frozen
class PluginInfo:
    """A loaded (or failed) plugin: its distribution, entry point and registrations.

    ``error`` is ``None`` for a healthy plugin; otherwise it describes why the entry point could not
    be loaded, and ``registrations`` is empty.
    """

    distribution: str
    version: str
    entry_point: str
    registrations: tuple[Registration, ...] = ()
    error: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The export names this plugin registered, in registration order."""
        return tuple(r.name for r in self.registrations)
