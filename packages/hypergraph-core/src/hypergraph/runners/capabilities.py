"""What a runner can execute, and the recursive check of a graph against it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from hypergraph.exceptions import IncompatibleRunnerError

if TYPE_CHECKING:
    from hypergraph.graph import Graph

__all__ = ["RunnerCapabilities"]


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class RunnerCapabilities:
    """Feature flags a runner declares; the kernel checks graphs against them before running.

    ``returns_coroutine`` also decides how a parent runner calls a nested one (SPEC R14).
    A frozen stdlib dataclass (the one value type that is not attrs), so
    ``dataclasses.replace(caps, supports_cycles=False)`` works as the docs show.
    """

    supports_cycles: bool = True
    supports_gates: bool = True
    supports_interrupts: bool = False
    supports_async_nodes: bool = False
    supports_streaming: bool = False
    supports_distributed: bool = False
    supports_durable_execution: bool = False
    returns_coroutine: bool = False

    def __repr__(self) -> str:
        # Print the fields that differ from the defaults plus the four the docs always show,
        # so the repr matches the printouts in the user docs.
        shown = ["supports_cycles", "supports_async_nodes", "supports_streaming", "returns_coroutine"]
        defaults = dataclasses.fields(RunnerCapabilities)
        extra = [
            a.name for a in defaults if a.name not in shown and getattr(self, a.name) != a.default
        ]
        body = "".join(f"    {name}={getattr(self, name)!r},\n" for name in shown + extra)
        return f"RunnerCapabilities(\n{body})"

    def enabled(self) -> tuple[str, ...]:
        """Names of the flags that are True, in declaration order."""
        return tuple(
            f.name for f in dataclasses.fields(RunnerCapabilities) if getattr(self, f.name) is True
        )

    def validate_graph(self, graph: Graph, runner_name: str | None = None) -> None:
        """Raise ``IncompatibleRunnerError`` for the first feature of ``graph`` this runner lacks.

        Recurses into nested graphs that do not name their own runner.
        """
        runner = runner_name or "this runner"
        _check_graph(self, graph, runner)


_FIX = {
    "async nodes": " Use AsyncRunner instead.",
    "interrupts": " Use AsyncRunner instead.",
    "cycles": "",
    "gates (@route/@branch)": "",
}


def _check_graph(caps: RunnerCapabilities, graph: Graph, runner: str) -> None:
    """Check ``graph`` and every nested graph that runs on this runner (iteratively)."""
    from hypergraph.nodes.graph_node import GraphNode

    checks = (
        (caps.supports_cycles, "cycles", "supports_cycles", _cycle_nodes),
        (caps.supports_gates, "gates (@route/@branch)", "supports_gates", _gate_nodes),
        (caps.supports_async_nodes, "async nodes", "supports_async_nodes", _async_nodes),
        (caps.supports_interrupts, "interrupts", "supports_interrupts", _interrupt_nodes),
    )
    pending = [graph]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for supported, feature, capability, finder in checks:
            if supported:
                continue
            names = finder(current)
            if names:
                listed = f" ({', '.join(names)})" if capability != "supports_cycles" else ""
                short = feature.split(" (")[0]
                raise IncompatibleRunnerError(
                    f"This graph has {feature}{listed}, but {runner} doesn't support {short}."
                    + _FIX[feature],
                    node_name=names[0],
                    capability=capability,
                )
        nested = [
            n.graph for n in current._nodes.values()
            if isinstance(n, GraphNode) and n.runner is None
        ]
        pending.extend(reversed(nested))  # depth-first, in node order, like the recursion did


def _cycle_nodes(graph: Graph) -> list[str]:
    return list(graph.cycle_node_names) if graph.has_cycles else []


def _gate_nodes(graph: Graph) -> list[str]:
    return [n.name for n in graph.nodes.values() if n.is_gate]


def _async_nodes(graph: Graph) -> list[str]:
    from hypergraph.nodes.graph_node import GraphNode

    return [
        n.name
        for n in graph.nodes.values()
        if n.is_async and not (isinstance(n, GraphNode)) and not n.is_interrupt
    ]


def _interrupt_nodes(graph: Graph) -> list[str]:
    return [n.name for n in graph.nodes.values() if n.is_interrupt]
