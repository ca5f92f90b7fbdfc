"""hypergraph: plain functions become nodes, names become edges, runners execute the graph.

Runners, caches and processors that live in plugin packages (``AsyncRunner``, ``DaftRunner``,
``DBOSAsyncRunner``, ``DiskCache``, ...) resolve lazily through the plugin registry on first
access; importing this package loads no plugin.
"""

from typing import TYPE_CHECKING

from hypergraph.cache import CacheBackend, InMemoryCache, MemoryCache
from hypergraph.events import (
    AsyncEventProcessor,
    BaseEvent,
    CacheHitEvent,
    CacheMissEvent,
    EventProcessor,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeRetryEvent,
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
    MissingGraphvizError,
    MissingInputError,
    MissingPluginError,
    NodeTimeoutError,
    PluginLoadError,
    PolicyError,
    RenameError,
    UnserializableValueError,
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
from hypergraph.plugins import lazy_exports as _lazy_exports
from hypergraph.policies import RetryPolicy
from hypergraph.runners import (
    BaseRunner,
    ErrorHandling,
    MapMode,
    MapResult,
    OnMissing,
    PauseInfo,
    PauseReason,
    RunnerCapabilities,
    RunResult,
    RunStatus,
    SyncRunner,
)
from hypergraph.stateful import stateful

# Type checkers see the plugin names with their real types; at run time they resolve lazily
# through the plugin registry (below), so `import hypergraph` imports none of these packages.
# One guarded line each: the kernel holds no import statement of a plugin package.
if TYPE_CHECKING: from hypergraph_async.runner import AsyncRunner as AsyncRunner  # noqa: E701, I001
if TYPE_CHECKING: from hypergraph_daft.runner import DaftRunner as DaftRunner  # noqa: E701, I001
if TYPE_CHECKING: from hypergraph_dbos.runner import DBOSAsyncRunner as DBOSAsyncRunner  # noqa: E701, I001
if TYPE_CHECKING: from hypergraph_sqlite.disk_cache import DiskCache as DiskCache  # noqa: E701, I001

__version__ = "0.1.0"

__all__ = [
    "END",
    "AsyncEventProcessor",
    "BaseEvent",
    "BaseRunner",
    "CacheBackend",
    "CacheHitEvent",
    "CacheMissEvent",
    "ConflictError",
    "DuplicatePluginError",
    "ErrorHandling",
    "MapMode",
    "OnMissing",
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
    "InMemoryCache",
    "InputSpec",
    "InterruptEvent",
    "InterruptNode",
    "MapResult",
    "MemoryCache",
    "MissingGraphvizError",
    "MissingInputError",
    "MissingPluginError",
    "NodeEndEvent",
    "NodeErrorEvent",
    "NodeRetryEvent",
    "NodeStartEvent",
    "NodeTimeoutError",
    "PauseInfo",
    "PauseReason",
    "PluginLoadError",
    "PolicyError",
    "RenameError",
    "RetryPolicy",
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
    "UnserializableValueError",
    "VersionMismatchError",
    "WorkflowAlreadyCompletedError",
    "WorkflowForkError",
    "branch",
    "ifelse",
    "interrupt",
    "node",
    "route",
    "stateful",
]

# AsyncRunner, DaftRunner, DBOSAsyncRunner, DiskCache, ...: resolved through the plugin registry
__getattr__, __dir__ = _lazy_exports("hypergraph", globals())
