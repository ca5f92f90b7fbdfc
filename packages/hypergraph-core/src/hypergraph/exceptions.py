"""Every error hypergraph raises on purpose.

Each class says *what* went wrong; the message at the raise site says *where* (node, parameter)
and *how to fix it*. Plain ``ValueError``/``TypeError`` are kept for argument mistakes that Python
users expect to see as such (SPEC ER9, ER10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "CheckpointError",
    "CheckpointSerializationError",
    "CheckpointStoreError",
    "ConflictError",
    "DuplicatePluginError",
    "ExecutionError",
    "GraphChangedError",
    "GraphConfigError",
    "HypergraphError",
    "IncompatibleRunnerError",
    "InfiniteLoopError",
    "InputOverrideRequiresForkError",
    "InterruptAnswerError",
    "MissingGraphvizError",
    "MissingInputError",
    "MissingPluginError",
    "NodeTimeoutError",
    "PluginLoadError",
    "PolicyError",
    "RenameError",
    "RunNotFoundError",
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
        *,
        hints: Mapping[str, str] | None = None,
    ) -> None:
        self.missing = list(missing)
        self.provided = list(provided) if provided is not None else []
        #: missing name -> a sentence suggesting the near name the caller probably meant
        self.hints: dict[str, str] = dict(hints or {})
        if message is None:
            names = ", ".join(repr(m) for m in self.missing)
            message = f"Missing required inputs: {names}"
            if self.provided:
                message += f". Provided: {', '.join(repr(p) for p in self.provided)}"
            for hint in self.hints.values():
                message += f". {hint}"
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


class MissingGraphvizError(HypergraphError, ImportError):
    """Drawing a graph to SVG/PNG needs Graphviz: the ``graphviz`` package and the ``dot`` program.

    ``missing`` is ``"package"`` or ``"binary"``. Mermaid and DOT text need neither.
    """

    def __init__(self, missing: str) -> None:
        self.missing = missing
        if missing == "package":
            what = (
                "the graphviz Python package, which is not installed. Install it with "
                '`pip install "hypergraph-core[viz]"` (or `pip install graphviz`), and the '
                "Graphviz programs with your system's package manager (e.g. `apt-get install "
                "graphviz`, `brew install graphviz`)"
            )
        else:
            what = (
                "the Graphviz `dot` program, which is not on PATH. Install Graphviz with your "
                "system's package manager (e.g. `apt-get install graphviz`, `brew install "
                "graphviz`)"
            )
        super().__init__(
            f"Rendering a graph picture needs {what}. Without Graphviz, graph.to_mermaid() "
            "returns the diagram as Mermaid text and graph.to_dot() as DOT text.",
            name="graphviz",
        )


class PluginLoadError(HypergraphError, ImportError):
    """A plugin is installed but failed to import or register."""


class DuplicatePluginError(HypergraphError):
    """Two plugins registered the same public name."""


class PolicyError(HypergraphError, ValueError):
    """A retry policy or a timeout is invalid, or was given where it cannot apply."""


class NodeTimeoutError(HypergraphError, TimeoutError):
    """A node ran longer than its ``timeout=``; retried when its ``retry_on`` includes it."""

    def __init__(self, node_name: str, timeout: float) -> None:
        self.node_name = node_name
        self.timeout = timeout
        super().__init__(
            f"Node {node_name!r} timed out after {timeout:g} s and was cancelled; raise its "
            "timeout= if the work needs longer, or retry timeouts with a RetryPolicy whose "
            "retry_on includes TimeoutError."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # the state keeps PEP 678 notes (one per retried attempt) across processes
        return (type(self), (self.node_name, self.timeout), self.__dict__)


class WorkflowAlreadyCompletedError(HypergraphError):
    """The workflow id names a run that already completed; completed runs are terminal."""


class InputOverrideRequiresForkError(HypergraphError):
    """New input values were passed while resuming an existing workflow."""


class InterruptAnswerError(HypergraphError, ValueError):
    """An answer passed by re-running would be used at an earlier visit than the pause it answers.

    Re-running with ``{pause.response_key: answer}`` answers the *first* visit of an interrupt.
    When that interrupt is reached again in the same run and pauses, the answer was meant for a
    later turn: continue from ``checkpoint=result.checkpoint`` or with a checkpointer and
    ``workflow_id`` instead (SPEC HI9, R2-4). ``result`` is the paused run and ``checkpoint``
    its snapshot, so the pause can still be answered with ``checkpoint=error.checkpoint``.
    """

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result

    @property
    def checkpoint(self) -> Any:
        """The paused run's snapshot: ``run(graph, {key: answer}, checkpoint=...)`` continues it."""
        return None if self.result is None else self.result.checkpoint


class WorkflowForkError(HypergraphError):
    """A fork was requested into a workflow id that already exists."""


class GraphChangedError(HypergraphError):
    """The graph's structure changed since the workflow was recorded."""


class UnserializableValueError(HypergraphError, TypeError):
    """A durable runner cannot record a value (a node output or a run input) with its serializer."""


VersionMismatchError = GraphChangedError
"""Alias used by the runner design docs (SPEC CP4)."""


class CheckpointError(HypergraphError):
    """Base class of the errors a checkpointer raises about what it stores."""


class CheckpointSerializationError(CheckpointError):
    """A value could not be stored in (or restored from) a checkpoint.

    ``node_name`` is the node whose output it is (``None`` for a run input), ``output`` the
    output or input name, ``run_id`` the run being written or read. Nothing of the superstep
    that held the value was written.
    """

    def __init__(
        self,
        message: str,
        *,
        run_id: str | None = None,
        node_name: str | None = None,
        output: str | None = None,
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.node_name = node_name
        self.output = output


class CheckpointStoreError(CheckpointError):
    """The checkpoint store can't be used: corrupt, truncated, foreign or of another schema.

    ``path`` is the file concerned. Raised instead of the storage library's own errors, so the
    message says what is wrong with the file and what to do about it.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class RunNotFoundError(CheckpointError, LookupError):
    """No run with this id is recorded in the checkpointer."""

    def __init__(self, run_id: str, where: str | None = None) -> None:
        self.run_id = run_id
        place = f" in {where}" if where else ""
        super().__init__(
            f"No run with id {run_id!r} is recorded{place}. List the recorded runs with "
            "checkpointer.runs() (or `python -m hypergraph runs PATH` for a SQLite file)."
        )
