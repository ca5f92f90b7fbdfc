"""Command line: ``hypergraph plugins`` lists plugins, ``show`` draws a graph, ``runs`` lists runs.

Also installed as the ``hypergraph`` console script; ``python -m hypergraph`` is the same.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypergraph.runners.capabilities import RunnerCapabilities

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.plugins import PluginInfo
    from hypergraph.plugins._known import KnownExport

COMMANDS = {
    "plugins": "list installed plugins (names, kinds, capabilities, whether they import) and "
    "documented ones that are not installed",
    "show": "draw a graph as Mermaid, DOT or SVG: show package.module:graph",
    "runs": "list the runs in a checkpoint file, or show one run (runs PATH [WORKFLOW_ID])",
}

_HEADER = ("distribution", "version", "entry point", "name", "kind", "capabilities", "status")


def _prog() -> str:
    return "hypergraph" if Path(sys.argv[0]).name == "hypergraph" else "python -m hypergraph"


def usage() -> str:
    """The top-level usage text: every command with one line about it."""
    lines = [f"usage: {_prog()} <command> [options]", "", "commands:"]
    lines += [f"  {name:<9}  {text}" for name, text in COMMANDS.items()]
    lines += ["", "options:", "  --version  print the installed hypergraph-core version",
              "  -h, --help show this message; COMMAND --help shows a command's options"]
    return "\n".join(lines) + "\n"


def version() -> str:
    """The installed ``hypergraph-core`` version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("hypergraph-core")
    except PackageNotFoundError:  # running from a source tree that is not installed
        from hypergraph import __version__

        return __version__


# ---------------------------------------------------------------------- plugins
def _capability_flags(capabilities: RunnerCapabilities | None) -> str:
    if capabilities is None:
        return ""
    return ", ".join(capabilities.enabled()) or "-"


def _import_status(target: str, known: KnownExport | None) -> str:
    """``ok`` when the registered target's module imports, else what it is missing."""
    try:
        importlib.import_module(target.partition(":")[0])
    except ModuleNotFoundError as exc:
        missing = (exc.name or str(exc)).partition(".")[0]
        hint = f": {_install_command(known)}" if known is not None and known.distribution == missing else ""
        return f"needs {missing}{hint}"
    except Exception as exc:
        return f"import fails: {type(exc).__name__}: {exc}"
    return "ok"


def _install_command(known: KnownExport) -> str:
    if known.extra:
        return f'pip install "hypergraph-core[{known.extra}]"'
    return f"pip install {known.distribution}"


def _installed(distribution: str) -> bool:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import distribution as find

    try:
        find(distribution)
    except PackageNotFoundError:
        return False
    return True


def plugin_rows(plugins: Sequence[PluginInfo] | None = None) -> list[tuple[str, ...]]:
    """One row per registered name (or failed plugin), then one per documented missing name."""
    from hypergraph.plugins import list_plugins
    from hypergraph.plugins._known import KNOWN_EXPORTS, known_export

    found = list(plugins) if plugins is not None else list_plugins()
    rows: list[tuple[str, ...]] = []
    registered: set[tuple[str, str]] = set()
    for plugin in found:
        head = (plugin.distribution, plugin.version, plugin.entry_point)
        if plugin.error is not None:
            rows.append((*head, "-", "FAILED", "", plugin.error))
            continue
        if not plugin.registrations:
            rows.append((*head, "-", "", "", "ok"))
        for index, reg in enumerate(plugin.registrations):
            registered.add((reg.namespace, reg.name))
            shown_head = head if index == 0 else ("", "", "")
            status = _import_status(reg.target, known_export(reg.name, reg.namespace))
            rows.append(
                (*shown_head, reg.name, reg.kind, _capability_flags(reg.capabilities), status)
            )
    for known in KNOWN_EXPORTS:
        if (known.namespace, known.name) in registered:
            continue
        loaded = next((p for p in found if p.distribution == known.provider), None)
        if loaded is not None:
            status = f"not provided by {known.provider} {loaded.version}: upgrade it"
        elif _installed(known.provider):
            status = "installed, not loaded (see HYPERGRAPH_PLUGINS)"
        else:
            status = f"not installed: pip install {known.provider}"
        rows.append((known.provider, "-", "-", known.name, known.kind, "", status))
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


def _plugins(args: argparse.Namespace) -> int:
    from hypergraph.exceptions import DuplicatePluginError, PluginLoadError

    try:
        rows = plugin_rows()
    except (DuplicatePluginError, PluginLoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_table(rows))
    return 0


# ---------------------------------------------------------------------- show
def load_graph(target: str) -> Graph:
    """Import ``package.module:attribute`` or ``path/to/file.py:attribute``; check it is a Graph.

    The attribute may be dotted (``module:holder.graph``).
    """
    from hypergraph.graph import Graph

    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(
            f"{target!r} is not MODULE:GRAPH; write it like `examples.quickstart:rag` or "
            "`examples/quickstart.py:rag` (the module or file, a colon, then the variable holding "
            "the Graph)."
        )
    if os.getcwd() not in sys.path:  # the console script, unlike `python -m`, omits the cwd
        sys.path.insert(0, os.getcwd())
    value: Any
    if module_name.endswith(".py"):
        value = _load_file(Path(module_name))
        module_name = value.__name__
    else:
        try:
            value = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise ValueError(f"Cannot import module {module_name!r}: {exc}") from exc
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ValueError(
                f"Module {module_name!r} has no attribute {attribute!r}. Graphs it defines: "
                f"{', '.join(_graph_names(sys.modules[module_name])) or '(none)'}."
            ) from None
    if not isinstance(value, Graph):
        raise ValueError(f"{target!r} is a {type(value).__name__}, not a hypergraph Graph.")
    return value


def _load_file(path: Path) -> Any:
    """Import a script by path (its folder goes on sys.path, as when Python runs it)."""
    import importlib.util

    if not path.is_file():
        raise ValueError(f"No such file: {str(path)!r}")
    sys.path.insert(0, str(path.resolve().parent))
    name = f"_hypergraph_show_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"Cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _graph_names(module: Any) -> list[str]:
    from hypergraph.graph import Graph

    return [name for name, v in vars(module).items() if isinstance(v, Graph)]


def _show(args: argparse.Namespace) -> int:
    from hypergraph.exceptions import MissingGraphvizError

    try:
        graph = load_graph(args.target)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "mermaid":
        text: str | bytes = graph.to_mermaid(depth=args.depth)
    elif args.format == "dot":
        text = graph.to_dot(depth=args.depth)
    else:
        from hypergraph.viz import render_graph

        try:
            text = render_graph(graph, args.format, depth=args.depth)
        except MissingGraphvizError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    data = text.encode() if isinstance(text, str) else text
    if args.output is not None:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


# ---------------------------------------------------------------------- dispatch
def _parser(name: str) -> tuple[argparse.ArgumentParser, Callable[[argparse.Namespace], int]]:
    parser = argparse.ArgumentParser(prog=f"{_prog()} {name}", description=COMMANDS[name])
    if name == "plugins":
        return parser, _plugins
    parser.add_argument(
        "target", help="the graph to draw: package.module:variable or path/to/file.py:variable"
    )
    parser.add_argument(
        "--format", choices=("mermaid", "dot", "svg", "png"), default="mermaid",
        help="mermaid and dot print text with no dependency; svg and png need Graphviz "
        '(pip install "hypergraph-core[viz]" and the Graphviz programs)',
    )
    parser.add_argument(
        "--depth", type=int, default=1, help="nesting levels to open (0 draws nested graphs closed)"
    )
    parser.add_argument("-o", "--output", help="write to this file instead of standard output")
    return parser, _show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named in ``argv``; return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(usage(), end="", file=sys.stderr)
        return 2
    command, rest = args[0], args[1:]
    if command in ("-h", "--help", "help"):
        print(usage(), end="")
        return 0
    if command == "--version":
        print(f"hypergraph-core {version()}")
        return 0
    if command not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(command, COMMANDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        print(
            f"error: unknown command {command!r}.{hint} Commands: {', '.join(COMMANDS)}.\n",
            file=sys.stderr,
        )
        print(usage(), end="", file=sys.stderr)
        return 2
    if command == "runs":  # its own parser, in hypergraph.checkpointers
        from hypergraph.checkpointers._cli import main as runs_main

        try:
            return runs_main(rest)
        except SystemExit as exit_:  # --help (0) or a usage error (2)
            return int(exit_.code or 0)
    parser, run = _parser(command)
    try:
        namespace = parser.parse_args(rest)
    except SystemExit as exit_:  # --help (0) or a usage error (2)
        return int(exit_.code or 0)
    return run(namespace)


if __name__ == "__main__":
    sys.exit(main())
