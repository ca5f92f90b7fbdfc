"""InputSpec: what a graph needs from the caller."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["InputSpec"]


@attrs.frozen
class InputSpec:
    """The inputs of a graph's active scope.

    ``required`` have no default and no bound value; ``optional`` have one of them; ``all`` is
    required followed by optional. ``bound`` maps bound names to their values.
    """

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    bound: dict[str, Any] = attrs.field(factory=dict)

    @property
    def all(self) -> tuple[str, ...]:
        """Required inputs first, then optional ones."""
        return self.required + self.optional
