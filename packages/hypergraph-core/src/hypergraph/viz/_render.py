"""Rendering DOT to SVG/PNG through the ``graphviz`` package and the Graphviz ``dot`` program."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hypergraph.exceptions import MissingGraphvizError

__all__ = ["FORMATS", "graphviz_available", "render"]

FORMATS = ("svg", "png", "pdf")


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise MissingGraphvizError("package") from None
    return graphviz


def graphviz_available() -> bool:
    """True when both the ``graphviz`` package imports and the ``dot`` program is on PATH."""
    try:
        _graphviz()
    except MissingGraphvizError:
        return False
    return shutil.which("dot") is not None


def render(dot_source: str, fmt: str) -> bytes:
    """``dot_source`` rendered as ``fmt`` bytes; MissingGraphvizError names what is missing."""
    if fmt not in FORMATS:
        raise ValueError(f"Cannot render {fmt!r}; choose one of {', '.join(map(repr, FORMATS))}.")
    graphviz = _graphviz()
    try:
        data: bytes = graphviz.Source(dot_source).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise MissingGraphvizError("binary") from None
    return data


def format_for(path: Path, fmt: str | None) -> str:
    """The output format: ``fmt`` when given, else the file suffix (``.svg`` when there is none)."""
    if fmt is not None:
        return fmt
    suffix = path.suffix.lower().lstrip(".")
    if not suffix:
        return "svg"
    if suffix not in FORMATS:
        raise ValueError(
            f"Cannot tell the format from {path.name!r}: use a .svg, .png or .pdf file name, or "
            "pass format='svg'."
        )
    return suffix
