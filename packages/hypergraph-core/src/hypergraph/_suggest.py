""""Did you mean ...?" for misspelled names: the closest candidate by difflib's ratio."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most similar to ``name`` (never ``name`` itself), or ``None``."""
    pool = list(dict.fromkeys(c for c in candidates if c != name))
    found = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` (with a leading space), or ``""`` when nothing is close."""
    match = closest(name, candidates)
    return f" Did you mean {match!r}?" if match else ""
