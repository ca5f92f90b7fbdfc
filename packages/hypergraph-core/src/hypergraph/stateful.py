"""``@stateful``: a class whose instances hold a heavy resource (a model, a connection).

A marker, nothing more. Columnar runners (DaftRunner) see a stateful instance passed as a value
and build a fresh one per worker with ``type(value)()`` instead of shipping the instance, so the
resource is created once per worker rather than once per row. Other runners pass the instance
through unchanged, like any value.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

__all__ = ["is_stateful", "stateful"]

T = TypeVar("T", bound=type)

_MARK = "__hypergraph_stateful__"


def stateful(cls: T) -> T:
    """Mark ``cls`` as a once-per-worker resource; it must be constructible with no arguments."""
    if not isinstance(cls, type):
        raise TypeError(f"@stateful decorates classes, got {cls!r}")
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # builtin-backed classes: trust them
        signature = None
    if signature is not None:
        required = [
            p.name
            for p in signature.parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if required:
            raise TypeError(
                f"@stateful class {cls.__name__!r} needs arguments {required!r} to be "
                "constructed, but workers re-create it with no arguments. Give those parameters "
                "defaults (or read them from the environment inside __init__)."
            )
    setattr(cls, _MARK, True)
    return cls


def is_stateful(value: Any) -> bool:
    """True for instances of a ``@stateful`` class (not for the class itself)."""
    return not isinstance(value, type) and getattr(type(value), _MARK, False) is True
