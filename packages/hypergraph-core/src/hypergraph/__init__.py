"""hypergraph: plain functions become nodes, names become edges, runners execute the graph.

Runners, caches and processors that live in plugin packages (``AsyncRunner``, ``DaftRunner``,
``DBOSAsyncRunner``, ``DiskCache``, ...) resolve lazily through the plugin registry on first
access; importing this package loads no plugin.
"""

from typing import Any

from hypergraph.events import (
    AsyncEventProcessor,
    BaseEvent,
    CacheHitEvent,
    CacheMissEvent,
    EventProcessor,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    StreamingChunkEvent,
    SuperstepStartEvent,
    TypedEventProcessor,
)
from hypergraph.exceptions import (
    ConflictError,
    DuplicatePluginError,
    ExecutionError,
    GraphChangedError,
    GraphConfigError,
    HypergraphError,
    IncompatibleRunnerError,
    InfiniteLoopError,
    InputOverrideRequiresForkError,
    MissingInputError,
    MissingPluginError,
    PluginLoadError,
    RenameError,
    VersionMismatchError,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
)
from hypergraph.graph import Graph, InputSpec
from hypergraph.nodes import (
    END,
    FunctionNode,
    GateNode,
    GraphNode,
    HyperNode,
    IfElseNode,
    InterruptNode,
    RouteNode,
    branch,
    ifelse,
    interrupt,
    node,
    route,
)
from hypergraph.runners import (
    BaseRunner,
    ErrorHandling,
    MapResult,
    PauseInfo,
    PauseReason,
    RunnerCapabilities,
    RunResult,
    RunStatus,
    SyncRunner,
)

__version__ = "0.1.0"

__all__ = [
    "END",
    "AsyncEventProcessor",
    "BaseEvent",
    "BaseRunner",
    "CacheHitEvent",
    "CacheMissEvent",
    "ConflictError",
    "DuplicatePluginError",
    "ErrorHandling",
    "EventProcessor",
    "ExecutionError",
    "FunctionNode",
    "GateNode",
    "Graph",
    "GraphChangedError",
    "GraphConfigError",
    "GraphNode",
    "HyperNode",
    "HypergraphError",
    "IfElseNode",
    "IncompatibleRunnerError",
    "InfiniteLoopError",
    "InputOverrideRequiresForkError",
    "InputSpec",
    "InterruptEvent",
    "InterruptNode",
    "MapResult",
    "MissingInputError",
    "MissingPluginError",
    "NodeEndEvent",
    "NodeErrorEvent",
    "NodeStartEvent",
    "PauseInfo",
    "PauseReason",
    "PluginLoadError",
    "RenameError",
    "RouteDecisionEvent",
    "RouteNode",
    "RunEndEvent",
    "RunResult",
    "RunStartEvent",
    "RunStatus",
    "RunnerCapabilities",
    "StreamingChunkEvent",
    "SuperstepStartEvent",
    "SyncRunner",
    "TypedEventProcessor",
    "VersionMismatchError",
    "WorkflowAlreadyCompletedError",
    "WorkflowForkError",
    "branch",
    "ifelse",
    "interrupt",
    "node",
    "route",
]


def __getattr__(name: str) -> Any:
    """Resolve plugin-provided names (``AsyncRunner``, ``DiskCache``, ...) on first use."""
    from hypergraph.plugins import resolve_export

    value = resolve_export(name, "hypergraph")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    from hypergraph.plugins import export_names

    return sorted(set(globals()) | set(__all__) | set(export_names("hypergraph")))
