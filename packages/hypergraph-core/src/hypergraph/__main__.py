"""Command line: ``python -m hypergraph plugins`` lists the installed plugins and what they provide."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hypergraph.runners.capabilities import RunnerCapabilities

USAGE = """\
usage: python -m hypergraph <command>

commands:
  plugins    list plugin distributions, their versions, registered names, kinds and
             runner capabilities
  runs       list the runs in a checkpoint file, or show one run
             (python -m hypergraph runs PATH [WORKFLOW_ID] [--json]; see runs --help)
"""

_HEADER = ("distribution", "version", "entry point", "name", "kind", "capabilities")


def _capability_flags(capabilities: RunnerCapabilities | None) -> str:
    if capabilities is None:
        return ""
    return ", ".join(capabilities.enabled()) or "-"


def plugin_rows() -> list[tuple[str, ...]]:
    """One row per registered name (or per failed plugin), distribution columns shown once."""
    from hypergraph.plugins import list_plugins

    rows: list[tuple[str, ...]] = []
    for plugin in list_plugins():
        head = (plugin.distribution, plugin.version, plugin.entry_point)
        if plugin.error is not None:
            rows.append((*head, "-", "FAILED", plugin.error))
            continue
        if not plugin.registrations:
            rows.append((*head, "-", "", ""))
        for index, reg in enumerate(plugin.registrations):
            shown_head = head if index == 0 else ("", "", "")
            rows.append((*shown_head, reg.name, reg.kind, _capability_flags(reg.capabilities)))
    return rows


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a header and a rule."""
    table = [_HEADER, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named in ``argv``; return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["plugins"]:
        from hypergraph.exceptions import DuplicatePluginError, PluginLoadError

        try:
            rows = plugin_rows()
        except (DuplicatePluginError, PluginLoadError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(format_table(rows))
        return 0
    if args[:1] == ["runs"]:
        from hypergraph.checkpointers._cli import main as runs_main

        return runs_main(args[1:])
    if args in (["-h"], ["--help"], ["help"]):
        print(USAGE, end="")
        return 0
    print(USAGE, end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
