"""Text and HTML renderings of checkpoint records, shared by their reprs and the runs CLI."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypergraph.checkpointers.records import (
        Checkpoint,
        ChildRun,
        LineageNode,
        RunRecord,
        StepRecord,
    )

__all__ = [
    "checkpoint_fields",
    "child_fields",
    "duration",
    "format_table",
    "preview",
    "preview_map",
    "record_html",
    "run_fields",
    "shorten",
    "step_fields",
    "timestamp",
    "tree_html",
    "tree_lines",
]

_PREVIEW = 60


def timestamp(value: datetime | None) -> str:
    """``2026-12-01 19:55:02`` (UTC, to the second), or ``-``."""
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M:%S")


def duration(ms: float | None) -> str:
    """A human duration: ``850 µs``, ``12.3 ms``, ``4.21 s``."""
    if ms is None:
        return "-"
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{ms / 1000:.2f} s"


def shorten(text: str, limit: int = _PREVIEW) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def preview(value: Any, limit: int = _PREVIEW) -> str:
    """A one-line ``repr`` of a user value, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except Exception as exc:  # a user __repr__ must not break listing a run
        text = f"<unprintable {type(value).__name__}: {type(exc).__name__}>"
    return shorten(text, limit)


def preview_map(values: Mapping[str, Any], limit: int = _PREVIEW) -> str:
    """``{'a': 1, 'b': [1, 2, …]}`` with each value previewed."""
    inner = ", ".join(f"{name!r}: {preview(v, limit)}" for name, v in values.items())
    return "{" + inner + "}"


def run_fields(run: RunRecord) -> list[tuple[str, str]]:
    """The rows of a run's detail view."""
    rows = [
        ("id", run.id),
        ("status", run.status.value),
        ("graph", run.graph_name or "-"),
        ("steps", str(run.node_count)),
        ("errors", str(run.error_count)),
        ("created", timestamp(run.created_at)),
        ("completed", timestamp(run.completed_at)),
        ("duration", duration(run.duration_ms)),
    ]
    optional = (
        ("parent", run.parent_run_id),
        ("forked from", run.forked_from),
        ("fork superstep", run.fork_superstep),
        ("retry of", run.retry_of),
        ("retry index", run.retry_index),
        ("structural hash", run.graph_struct_hash),
        ("code hash", run.graph_code_hash),
        ("error", run.error),
    )
    rows.extend((name, str(value)) for name, value in optional if value is not None)
    if run.inputs:
        rows.append(("inputs", preview_map(run.inputs)))
    return rows


def step_fields(step: StepRecord) -> list[tuple[str, str]]:
    """The rows of a step's detail view."""
    rows = [
        ("run", step.run_id),
        ("superstep", str(step.superstep)),
        ("node", step.node_name),
        ("index", str(step.index)),
        ("status", step.status.value),
        ("duration", duration(step.duration_ms)),
        ("cached", "yes" if step.cached else "no"),
        ("values", preview_map(step.values)),
    ]
    optional = (
        ("decision", step.decision),
        ("error", step.error),
        ("child run", step.child_run_id),
    )
    rows.extend((name, str(value)) for name, value in optional if value is not None)
    return rows


def checkpoint_fields(checkpoint: Checkpoint) -> list[tuple[str, str]]:
    """The rows of a checkpoint's detail view."""
    rows = [("run", checkpoint.run_id), ("superstep", str(checkpoint.superstep))]
    rows.extend((f"value {name}", preview(value)) for name, value in checkpoint.values.items())
    if checkpoint.inputs:
        rows.append(("inputs", preview_map(checkpoint.inputs)))
    rows.append(("state keys", ", ".join(sorted(checkpoint.state)) or "-"))
    return rows


def child_fields(child: ChildRun) -> list[tuple[str, str]]:
    """The rows of a child run's detail view."""
    rows = [("run", child.id), ("status", child.status.value)]
    if child.input_signature is not None:
        rows.append(("input signature", child.input_signature))
    rows.extend((f"value {name}", preview(value)) for name, value in child.values.items())
    return rows


def record_html(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """A two-column HTML table for notebooks, every cell escaped."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'><code>{html.escape(v)}</code></td></tr>"
        for k, v in rows
    )
    return f"<table><caption>{html.escape(title)}</caption>{body}</table>"


def _tree_label(node: LineageNode) -> str:
    run = node.run
    label = f"{run.id}  [{run.status.value}]"
    if node.relation == "fork":
        at = "its start" if run.fork_superstep is None else f"superstep {run.fork_superstep}"
        label += f"  fork of {run.forked_from} at {at}"
    elif node.relation == "retry":
        label += f"  retry #{run.retry_index} of {run.retry_of}"
    return label


def tree_lines(root: LineageNode) -> Iterator[str]:
    """``root`` and its descendants as box-drawing tree lines."""
    yield _tree_label(root)
    yield from _subtree(root, "")


def _subtree(node: LineageNode, prefix: str) -> Iterator[str]:
    for position, child in enumerate(node.children):
        last = position == len(node.children) - 1
        yield f"{prefix}{'└── ' if last else '├── '}{_tree_label(child)}"
        yield from _subtree(child, prefix + ("    " if last else "│   "))


def tree_html(root: LineageNode) -> str:
    """The lineage tree as nested HTML lists."""

    def item(node: LineageNode) -> str:
        inner = "".join(item(child) for child in node.children)
        nested = f"<ul>{inner}</ul>" if inner else ""
        return f"<li><code>{html.escape(_tree_label(node))}</code>{nested}</li>"

    return f"<ul>{item(root)}</ul>"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a header and a rule."""
    table = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
