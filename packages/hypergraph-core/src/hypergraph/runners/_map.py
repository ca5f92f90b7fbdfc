"""Expanding map() inputs into per-item values (SPEC MP2-MP4)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from hypergraph.runners._checks import clone_value, normalize_clone

__all__ = ["expand_items", "normalize_map_over"]

_MODES = ("zip", "product")


def normalize_map_over(map_over: str | Sequence[str]) -> tuple[str, ...]:
    """``map_over`` as a tuple of names; at least one."""
    names = (map_over,) if isinstance(map_over, str) else tuple(map_over)
    if not names:
        raise ValueError("map_over needs at least one input name")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"map_over entries must be input names (str), got {name!r}")
    return names


def expand_items(
    values: dict[str, Any],
    map_over: tuple[str, ...],
    map_mode: str,
    clone: bool | Sequence[str],
    labels: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One values dict per item; broadcast values shared or deep-copied per ``clone``.

    ``labels`` maps names to what the caller calls them in error messages (the outer port of a
    renamed, mapped GraphNode).
    """
    shown = labels or {}
    if map_mode not in _MODES:
        raise ValueError(f"map_mode must be one of {', '.join(map(repr, _MODES))}; got {map_mode!r}")
    columns = []
    for name in map_over:
        if name not in values:
            raise ValueError(
                f"map_over names {shown.get(name, name)!r}, but no value for {shown.get(name, name)!r} was "
                f"provided. Pass a list: values={{{shown.get(name, name)!r}: [...]}}."
            )
        column = values[name]
        if not isinstance(column, list | tuple):
            raise TypeError(
                f"map_over input {shown.get(name, name)!r} must be a list or tuple, got "
                f"{type(column).__name__}."
            )
        columns.append(column)
    if map_mode == "zip":
        lengths = {shown.get(name, name): len(col) for name, col in zip(map_over, columns, strict=True)}
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"{k}={v}" for k, v in lengths.items())
            raise ValueError(
                f"map_mode='zip' needs lists of equal length; got {listed}. Use "
                "map_mode='product' for every combination."
            )
        rows: Iterable[tuple[Any, ...]] = zip(*columns, strict=True)
    else:
        rows = itertools.product(*columns)
    broadcast = {k: v for k, v in values.items() if k not in map_over}
    clone = normalize_clone(clone, map_over)
    if clone is True:
        cloned = set(broadcast)
    elif clone:
        cloned = set(clone) & set(broadcast)
    else:
        cloned = set()
    items = []
    for row in rows:
        item = dict(broadcast)
        for name in cloned:
            item[name] = clone_value(shown.get(name, name), broadcast[name])
        item.update(zip(map_over, row, strict=True))
        items.append(item)
    return items
