"""``python -m hypergraph runs PATH [WORKFLOW_ID]``: what a checkpoint file holds, for people and scripts.

``runs PATH`` lists the runs (top-level ones unless ``--all``); ``runs PATH ID`` shows one run:
its record, its steps, its latest values, its lineage tree and its child runs. ``--json`` prints
the same as one JSON document. The file is opened read-only; values that can't be restored in
this process (a class it can't import, a pickled value without ``--pickle``) are shown as
placeholders instead of failing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from hypergraph.checkpointers import _display

__all__ = ["main"]

_LIST_HEADER = ("id", "status", "graph", "steps", "errors", "children", "created", "duration",
                "origin")
_STEP_HEADER = ("#", "superstep", "node", "status", "duration", "cached", "values / error")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hypergraph runs",
        description="List the runs recorded in a SqliteCheckpointer file, or show one run.",
    )
    parser.add_argument("path", metavar="PATH", help="the checkpoint file (SqliteCheckpointer)")
    parser.add_argument("workflow_id", metavar="WORKFLOW_ID", nargs="?",
                        help="show this run: steps, values, lineage and children")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--status", help="only runs with this status (active, paused, ...)")
    parser.add_argument("--graph", help="only runs of this graph")
    parser.add_argument("--all", action="store_true",
                        help="also list child runs (map items, nested graphs)")
    parser.add_argument("--pickle", action="store_true",
                        help="unpickle values stored with serializer='pickle' (trusted files only)")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run the ``runs`` command; return the process exit code."""
    args = _parser().parse_args(list(argv))
    from hypergraph.exceptions import HypergraphError

    try:
        from hypergraph.checkpointers import SqliteCheckpointer

        store = SqliteCheckpointer(
            args.path, readonly=True, serializer="pickle" if args.pickle else "json"
        )
    except (HypergraphError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        if args.workflow_id is None:
            output = _list(store, args)
        else:
            output = _show(store, args.workflow_id, as_json=args.json)
    except (HypergraphError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(output)
    return 0


def _list(store: Any, args: argparse.Namespace) -> str:
    runs = store.runs(status=args.status, graph_name=args.graph, top_level=not args.all)
    children = store.child_counts()
    if args.json:
        return _dumps({"path": store.path, "runs": [
            {**_run_json(run), "children": children.get(run.id, 0)} for run in runs
        ]})
    if not runs:
        return f"No runs recorded in {store.path}."
    rows = [
        (
            run.id,
            run.status.value,
            run.graph_name or "-",
            str(run.node_count),
            str(run.error_count),
            str(children.get(run.id, 0)),
            _display.timestamp(run.created_at),
            _display.duration(run.duration_ms),
            _origin(run),
        )
        for run in runs
    ]
    return _display.format_table(_LIST_HEADER, rows)


def _origin(run: Any) -> str:
    if run.retry_of is not None:
        return f"retry #{run.retry_index} of {run.retry_of}"
    if run.forked_from is not None:
        at = "start" if run.fork_superstep is None else f"superstep {run.fork_superstep}"
        return f"fork of {run.forked_from} at {at}"
    if run.parent_run_id is not None:
        return f"child of {run.parent_run_id}"
    return "-"


def _show(store: Any, run_id: str, *, as_json: bool) -> str:
    from hypergraph.exceptions import RunNotFoundError

    run = store.get_run(run_id)
    if run is None:
        raise RunNotFoundError(run_id, f"the checkpoint file {store.path}")
    steps = store.steps(run_id)
    checkpoint = store.checkpoint(run_id)
    tree = store.lineage(run_id)
    children = store.runs(parent=run_id)
    if as_json:
        return _dumps({
            "run": _run_json(run),
            "steps": [_step_json(step) for step in steps],
            "checkpoint": {
                "superstep": checkpoint.superstep,
                "values": _values_json(checkpoint.values),
                "state": checkpoint.state,
            },
            "lineage": _tree_json(tree),
            "children": [_run_json(child) for child in children],
        })
    sections = [
        "\n".join(f"{name + ':':<17}{value}" for name, value in _display.run_fields(run)),
        f"Steps ({len(steps)})\n" + (
            _display.format_table(_STEP_HEADER, [_step_row(step) for step in steps])
            if steps else "  none"
        ),
        f"Values after superstep {checkpoint.superstep}\n" + (
            "\n".join(f"  {name} = {_display.preview(value, 100)}"
                      for name, value in checkpoint.values.items())
            if checkpoint.values else "  none"
        ),
        "Lineage\n" + "\n".join(f"  {line}" for line in tree.render().splitlines()),
    ]
    if children:
        sections.append(f"Children ({len(children)})\n" + _display.format_table(
            ("id", "status", "steps", "errors", "duration"),
            [(c.id, c.status.value, str(c.node_count), str(c.error_count),
              _display.duration(c.duration_ms)) for c in children],
        ))
    return "\n\n".join(sections)


def _step_row(step: Any) -> tuple[str, ...]:
    detail = step.error if step.error is not None else _display.preview_map(step.values)
    if step.decision is not None:
        detail += f" -> {step.decision}"
    return (
        str(step.index),
        str(step.superstep),
        step.node_name,
        step.status.value,
        _display.duration(step.duration_ms),
        "yes" if step.cached else "",
        _display.shorten(detail, 70),
    )


# -- JSON -------------------------------------------------------------------------------------


def _converter() -> Any:
    from hypergraph.serde import make_converter

    global _CONVERTER
    if _CONVERTER is None:
        _CONVERTER = make_converter()
    return _CONVERTER


_CONVERTER: Any = None


def _values_json(values: dict[str, Any]) -> dict[str, Any]:
    """User values as JSON: plain where JSON can hold them, tagged otherwise, repr as a last resort."""
    from hypergraph.checkpointers.values import UnreadableValue, ValueCodec

    codec = ValueCodec("json")
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, UnreadableValue):
            out[name] = {"__unreadable__": value.type_name or value.kind, "reason": value.reason}
            continue
        try:
            out[name] = json.loads(codec.encode_value(value))
        except Exception:
            out[name] = {"__repr__": _display.preview(value, 200)}
    return out


def _run_json(run: Any) -> dict[str, Any]:
    data: dict[str, Any] = _converter().unstructure(run)
    data["inputs"] = _values_json(run.inputs)
    return data


def _step_json(step: Any) -> dict[str, Any]:
    data: dict[str, Any] = _converter().unstructure(step)
    data["values"] = _values_json(step.values)
    return data


def _tree_json(node: Any) -> dict[str, Any]:
    return {
        "id": node.run.id,
        "status": node.run.status.value,
        "relation": node.relation,
        "children": [_tree_json(child) for child in node.children],
    }


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
