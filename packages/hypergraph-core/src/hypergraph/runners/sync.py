"""SyncRunner: executes a graph superstep by superstep in the calling thread.

The run itself is :mod:`hypergraph.runtime`'s loop; this runner only chooses the driver that
performs its effects: in order, in this thread, stopping a superstep at its first failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import hypergraph.runners._support as support
from hypergraph.cache import CacheBackend, NodeCache
from hypergraph.results import ErrorHandling, MapMode, MapResult, OnMissing, RunResult
from hypergraph.runners._support import UNSET
from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities
from hypergraph.runtime._driver import SyncDriver
from hypergraph.runtime._loop import MapLoop, RunLoop

if TYPE_CHECKING:
    from hypergraph.events.processor import EventProcessor
    from hypergraph.graph import Graph

__all__ = ["SyncRunner"]

_CAPABILITIES = RunnerCapabilities()

RUN_OPTIONS = support.RUN_OPTIONS
MAP_OPTIONS = support.MAP_OPTIONS

class SyncRunner(BaseRunner):
    """Runs graphs of synchronous nodes, one node at a time, in graph order.

    Supports cycles, gates, sync generators and nested graphs (including nested graphs that
    name another runner). Async nodes and interrupts need AsyncRunner.
    """

    def __init__(self, cache: CacheBackend | None = None, checkpointer: object = None) -> None:
        support.reject_checkpointer(checkpointer)
        self.cache = cache
        self._node_cache = NodeCache(cache) if cache is not None else None
        self.checkpointer = checkpointer

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Cycles and gates yes; async nodes, interrupts and streaming no."""
        return _CAPABILITIES

    def __repr__(self) -> str:
        return "SyncRunner()" if self.cache is None else f"SyncRunner(cache={self.cache!r})"

    # ------------------------------------------------------------------ public API
    def run(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        select: Any = UNSET,
        on_missing: OnMissing = "ignore",
        on_internal_override: Any = None,
        entrypoint: str | None = None,
        max_iterations: float | None = None,
        error_handling: ErrorHandling = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        checkpoint: Any = None,
        workflow_id: str | None = None,
        override_workflow: bool = False,
        fork_from: str | None = None,
        retry_from: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> RunResult:
        """Execute ``graph`` once and return its :class:`RunResult`.

        With ``error_handling="raise"`` (default) a node's own exception propagates unchanged;
        with ``"continue"`` the result is FAILED and holds the values computed before it.
        """
        support.refuse_unread_options(on_internal_override, override_workflow)
        parts, info = support.prepare_run(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, max_iterations=max_iterations,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id, fork_from=fork_from,
            retry_from=retry_from, checkpoint=checkpoint,
        )
        driver = self._driver(info)
        loop = RunLoop(graph, parts, info, driver, checkpoint=checkpoint, keep_checkpoint=True)
        try:
            return driver.drive(loop.run_steps())  # type: ignore[no-any-return]
        finally:
            if info.emitter is not None:
                info.emitter.shutdown()

    def map(
        self,
        graph: Graph,
        values: dict[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: MapMode = "zip",
        clone: bool | Sequence[str] = False,
        select: Any = UNSET,
        on_missing: OnMissing = "ignore",
        on_internal_override: Any = None,
        entrypoint: str | None = None,
        error_handling: ErrorHandling = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        workflow_id: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> MapResult:
        """Execute ``graph`` once per item of the ``map_over`` inputs, in order.

        Non-mapped values are shared by every item (``clone=`` deep-copies them per item).
        """
        support.refuse_unread_options(on_internal_override)
        items, names, info = support.prepare_map(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            map_over=map_over, map_mode=map_mode, clone=clone, select=select,
            entrypoint=entrypoint, on_missing=on_missing, error_handling=error_handling,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id,
        )
        driver = self._driver(info)
        try:
            return driver.drive(MapLoop(graph, items, names, map_mode, info, driver).steps())  # type: ignore[no-any-return]
        finally:
            if info.emitter is not None:
                info.emitter.shutdown()

    def _driver(self, info: support.RunInfo) -> SyncDriver:
        """The driver of one top-level call: this runner's cache, the call's emitter."""
        return SyncDriver(self, self._node_cache, info.emitter)
