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

    def __init__(self, cache: CacheBackend | None = None, checkpointer: Any = None) -> None:
        support.reject_checkpointer(checkpointer, "SyncRunner", sync=True)
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
        force_resume: bool = False,
        session_id: str | None = None,
        **input_values: Any,
    ) -> RunResult:
        """Execute ``graph`` once and return its :class:`RunResult`.

        With ``error_handling="raise"`` (default) a node's own exception propagates unchanged;
        with ``"continue"`` the result is FAILED and holds the values computed before it.
        With a checkpointer, ``workflow_id`` names a recorded run (SPEC CP3).
        """
        if self.checkpointer is not None:
            return self._run_recorded(
                graph, values, input_values, select=select, on_missing=on_missing,
                on_internal_override=on_internal_override, entrypoint=entrypoint,
                max_iterations=max_iterations, error_handling=error_handling,
                event_processors=event_processors, parent_span_id=parent_span_id,
                checkpoint=checkpoint, workflow_id=workflow_id,
                override_workflow=override_workflow, fork_from=fork_from,
                retry_from=retry_from, force_resume=force_resume, session_id=session_id,
            )
        support.refuse_unread_options(on_internal_override, override_workflow)
        if force_resume:  # only means something with a checkpointer: the check raises
            from hypergraph.runtime._workflow import check_force_resume

            check_force_resume(force_resume)
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
        if self.checkpointer is not None and workflow_id is None:
            from hypergraph.checkpointers.records import new_workflow_id

            workflow_id = new_workflow_id()
        items, names, info = support.prepare_map(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            map_over=map_over, map_mode=map_mode, clone=clone, select=select,
            entrypoint=entrypoint, on_missing=on_missing, error_handling=error_handling,
            event_processors=event_processors, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id,
        )
        try:
            if self.checkpointer is not None:
                return self._map_recorded(graph, items, names, map_mode, info)
            driver = self._driver(info)
            return driver.drive(MapLoop(graph, items, names, map_mode, info, driver).steps())  # type: ignore[no-any-return]
        finally:
            if info.emitter is not None:
                info.emitter.shutdown()

    def _run_recorded(
        self,
        graph: Graph,
        values: dict[str, Any] | None,
        input_values: dict[str, Any],
        *,
        on_internal_override: Any,
        checkpoint: Any,
        workflow_id: str | None,
        override_workflow: bool,
        fork_from: str | None,
        retry_from: str | None,
        force_resume: bool,
        **options: Any,
    ) -> RunResult:
        """``run()`` with a checkpointer: resolve the workflow, record every superstep."""
        from hypergraph.runtime._persisting import PersistingSyncDriver
        from hypergraph.runtime._recorder import WorkflowRecorder
        from hypergraph.runtime._workflow import resolve_workflow

        support.refuse_unread_options(on_internal_override)
        cp = self.checkpointer
        given = {**(values or {}), **input_values}
        start = resolve_workflow(
            cp, graph, given, workflow_id=workflow_id, checkpoint=checkpoint,
            override_workflow=override_workflow, fork_from=fork_from, retry_from=retry_from,
            force_resume=force_resume,
        )
        merged = {**start.inputs, **(values or {})} if start.inputs else values
        parts, info = support.prepare_run(
            self, graph, merged, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            workflow_id=start.workflow_id, fork_from=None, retry_from=None,
            checkpoint=start.snapshot, **options,
        )
        recorder = WorkflowRecorder(cp, graph, start.workflow_id)
        driver = PersistingSyncDriver(self, self._node_cache, info.emitter, recorder)
        loop = RunLoop(
            graph, parts, info, driver, checkpoint=start.snapshot, keep_checkpoint=True,
            rerun=start.rerun,
        )
        try:
            recorder.apply_sync(recorder.begin(start, parts.provided))
            try:
                result = driver.drive(loop.run_steps())
            except BaseException as exc:
                recorder.apply_sync(recorder.ended((), None, exc))
                raise
            recorder.apply_sync(recorder.ended((), result))
            return result  # type: ignore[no-any-return]
        finally:
            if info.emitter is not None:
                info.emitter.shutdown()

    def _map_recorded(
        self,
        graph: Graph,
        items: list[dict[str, Any]],
        names: tuple[str, ...],
        map_mode: str,
        info: support.RunInfo,
    ) -> MapResult:
        """``map()`` with a checkpointer: completed items restored, the rest recorded (CP8)."""
        from hypergraph.runtime._persisting import PersistingSyncDriver
        from hypergraph.runtime._recorder import WorkflowRecorder
        from hypergraph.runtime._workflow import plan_map

        cp = self.checkpointer
        wid = info.workflow_id
        assert wid is not None
        start = plan_map(cp, graph, items, wid)
        recorder = WorkflowRecorder(cp, graph, wid)
        driver = PersistingSyncDriver(self, self._node_cache, info.emitter, recorder)
        loop = MapLoop(
            graph, items, names, map_mode, info, driver, restored=start.restored,
            resumed=start.resumed,
        )
        recorder.apply_sync(recorder.begin_map(start, names, len(items)))
        try:
            result = driver.drive(loop.steps())
        except BaseException as exc:
            recorder.apply_sync(recorder.ended((), None, exc))
            raise
        recorder.apply_sync(recorder.ended((), result))
        return result  # type: ignore[no-any-return]

    def _driver(self, info: support.RunInfo) -> SyncDriver:
        """The driver of one top-level call: this runner's cache, the call's emitter."""
        return SyncDriver(self, self._node_cache, info.emitter)
