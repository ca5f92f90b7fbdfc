"""Every error hypergraph raises on purpose.

Each class says *what* went wrong; the message at the raise site says *where* (node, parameter)
and *how to fix it*. Plain ``ValueError``/``TypeError`` are kept for argument mistakes that Python
users expect to see as such (SPEC ER9, ER10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ConflictError",
    "DuplicatePluginError",
    "ExecutionError",
    "GraphChangedError",
    "GraphConfigError",
    "HypergraphError",
    "IncompatibleRunnerError",
    "InfiniteLoopError",
    "InputOverrideRequiresForkError",
    "MissingInputError",
    "MissingPluginError",
    "PluginLoadError",
    "RenameError",
    "UnserializableValueError",
    "VersionMismatchError",
    "WorkflowAlreadyCompletedError",
    "WorkflowForkError",
]


class HypergraphError(Exception):
    """Base class of every hypergraph-specific error."""


class GraphConfigError(HypergraphError):
    """The graph's structure (or its configuration for a run) is invalid."""


class MissingInputError(HypergraphError):
    """A required input of the active graph scope was not provided."""

    def __init__(
        self,
        missing: Iterable[str],
        provided: Iterable[str] | None = None,
        message: str | None = None,
    ) -> None:
        self.missing = list(missing)
        self.provided = list(provided) if provided is not None else []
        if message is None:
            names = ", ".join(repr(m) for m in self.missing)
            message = f"Missing required inputs: {names}"
            if self.provided:
                message += f". Provided: {', '.join(repr(p) for p in self.provided)}"
            message += (
                ". Pass them in values={...} (or as keyword arguments), or give them a value "
                "with graph.bind(...) — note that bind() returns a new graph."
            )
        super().__init__(message)


class IncompatibleRunnerError(HypergraphError):
    """The runner cannot execute a feature the graph uses."""

    def __init__(
        self, message: str, *, node_name: str | None = None, capability: str | None = None
    ) -> None:
        super().__init__(message)
        self.node_name = node_name
        self.capability = capability


class InfiniteLoopError(HypergraphError):
    """A cyclic region ran more supersteps than ``max_iterations`` allows."""

    def __init__(self, max_iterations: float, region: Iterable[str] | None = None) -> None:
        self.max_iterations = max_iterations
        self.region = list(region) if region is not None else []
        shown = int(max_iterations) if max_iterations == int(max_iterations) else max_iterations
        message = (
            f"Reached max_iterations ({shown}): graph execution exceeded {shown} iterations in a "
            "cyclic region; the graph may loop forever, or max_iterations must be raised."
        )
        if self.region:
            message += f" Cyclic region: {', '.join(self.region)}."
        message += (
            " Add a termination condition with @route/@ifelse returning END, or pass a larger "
            "max_iterations."
        )
        super().__init__(message)


class ExecutionError(HypergraphError):
    """A node failure together with the state computed before it.

    Runners use it internally and custom runners may raise it; ``run()`` never lets it escape
    (SPEC R10): in raise mode the node's own exception propagates instead.
    """

    def __init__(self, message: str, partial_state: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.partial_state: dict[str, Any] = dict(partial_state or {})

    @property
    def state(self) -> dict[str, Any]:
        """Alias of ``partial_state`` (the name the overview docs use)."""
        return self.partial_state


class ConflictError(HypergraphError):
    """Two nodes of one superstep wrote different values to the same output."""

    def __init__(self, output: str, nodes: Iterable[str]) -> None:
        self.output = output
        self.nodes = list(nodes)
        names = " and ".join(repr(n) for n in self.nodes)
        super().__init__(
            f"Conflicting values for output {output!r}: {names} produced different values in the "
            "same superstep. Order them with an edge, or put them on exclusive branches of a "
            "gate."
        )


class RenameError(HypergraphError, ValueError):
    """A rename referred to a name the node does not (or no longer) have."""


class MissingPluginError(HypergraphError, ImportError):
    """A known hypergraph name whose providing package is not installed."""

    def __init__(self, name: str, distribution: str, extra: str | None = None) -> None:
        self.export_name = name
        self.distribution = distribution
        self.extra = extra
        message = (
            f"{name} is provided by {distribution!r}, which is not installed. "
            f"Install it with `pip install {distribution}`"
        )
        if extra:
            message += f' (or `pip install "hypergraph-core[{extra}]"`)'
        super().__init__(message + ".", name=name)


class PluginLoadError(HypergraphError, ImportError):
    """A plugin is installed but failed to import or register."""


class DuplicatePluginError(HypergraphError):
    """Two plugins registered the same public name."""


class WorkflowAlreadyCompletedError(HypergraphError):
    """The workflow id names a run that already completed; completed runs are terminal."""


class InputOverrideRequiresForkError(HypergraphError):
    """New input values were passed while resuming an existing workflow."""


class WorkflowForkError(HypergraphError):
    """A fork was requested into a workflow id that already exists."""


class GraphChangedError(HypergraphError):
    """The graph's structure changed since the workflow was recorded."""


class UnserializableValueError(HypergraphError, TypeError):
    """A durable runner cannot record a value (a node output or a run input) with its serializer."""


VersionMismatchError = GraphChangedError
"""Alias used by the runner design docs (SPEC CP4)."""
