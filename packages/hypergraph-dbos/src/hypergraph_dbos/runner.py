"""DBOSAsyncRunner: AsyncRunner whose runs are DBOS workflows and whose node executions are steps.

AsyncRunner's scheduling, events, caching and limits are the shared run loop's, unchanged. This
module decides only where a run executes: ``execute_run`` starts (or continues) the run's
workflow and awaits its outcome; the workflow body drives the loop with the durable driver
(:mod:`hypergraph_dbos._driver`), which runs every node call as a DBOS step named by its task
id. ``execute_map`` queues one workflow per item.
"""

from __future__ import annotations

import asyncio
import copy
import os
import pickle
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from hypergraph import runtime
from hypergraph.exceptions import (
    GraphChangedError,
    InputOverrideRequiresForkError,
    UnserializableValueError,
)
from hypergraph.results import MapMode, MapResult, PauseInfo, RunResult, RunStatus
from hypergraph_async.runner import AsyncRunner
from hypergraph_dbos import _app, _cancel, _steps
from hypergraph_dbos._dbos_import import WorkflowHandleAsyncTask, dbos
from hypergraph_dbos._driver import DBOSDriver
from hypergraph_dbos._forward import ForwardingEmitter
from hypergraph_dbos._workflow import run_graph_workflow
from hypergraph_dbos.plugin import DBOS_CAPABILITIES

if TYPE_CHECKING:
    from hypergraph.cache import CacheBackend
    from hypergraph.graph import Graph
    from hypergraph.runners.capabilities import RunnerCapabilities

__all__ = ["DBOSAsyncRunner"]

DBOS = dbos.DBOS

PAUSE_EVENT = "hypergraph.pause."
"""Workflow event ``hypergraph.pause.<n>``: the n-th pause of a run (payload: values + PauseInfo)."""

ANSWER_TOPIC = "hypergraph.answer:"
"""Message topic ``hypergraph.answer:<response_key>`` carrying an interrupt's answer."""

_POLL_SECONDS = 0.2
"""How often a caller looks for the pause of a run executing in another process or loop."""

_WAIT_SECONDS = 3600.0
"""How long one durable wait for an answer lasts before it is renewed (each renewal is a step)."""


class _Binding:
    """The live caller of a workflow in this process: where its events go."""

    __slots__ = ("expected", "graph", "info", "loop", "paused", "runner")

    def __init__(self, info: runtime.RunContext, graph: Graph, runner: DBOSAsyncRunner) -> None:
        self.info = info
        # the caller's own graph and runner: graphs of equal structure share a registry key
        self.graph = graph
        self.runner = runner
        self.expected = 1  # the pause this caller waits for (earlier ones replay on recovery)
        self.loop = asyncio.get_running_loop()
        self.paused: asyncio.Future[dict[str, Any]] = self.loop.create_future()

    def notify_pause(self, number: int, payload: dict[str, Any]) -> None:
        if number < self.expected:
            return

        def deliver() -> None:
            if not self.paused.done():
                self.paused.set_result(payload)

        self.loop.call_soon_threadsafe(deliver)


_LIVE: dict[str, _Binding] = {}
_RUNNING: set[str] = set()
"""Workflows whose body executes in this process right now (any event loop)."""
_STARTED: set[str] = set()
"""Workflows this process started or continued (after a restart, recovery continues the rest)."""


class DBOSAsyncRunner(AsyncRunner):
    """Durable AsyncRunner on DBOS Transact: runs survive crashes and restarts.

    It overrides AsyncRunner's two seams: ``execute_run`` (a run becomes a workflow, whose body
    drives the shared loop with :class:`~hypergraph_dbos._driver.DBOSDriver`) and
    ``execute_map`` (items become queued workflows). Everything else is AsyncRunner's.
    """

    def __init__(
        self,
        cache: CacheBackend | None = None,
        *,
        system_database_url: str | None = None,
        application_name: str = "hypergraph",
        application_version: str | None = None,
        queue: str = "hypergraph",
        queue_concurrency: int | None = None,
        worker_concurrency: int | None = None,
        executor_id: str | None = None,
        dbos_config: dict[str, Any] | None = None,
        sqlite_wal: bool = True,
        graphs: Iterable[Graph] = (),
        checkpointer: object = None,
    ) -> None:
        super().__init__(cache, checkpointer)
        self.system_database_url = system_database_url
        self.application_name = application_name
        self.application_version = application_version
        self.queue = queue
        self.queue_concurrency = queue_concurrency
        self.worker_concurrency = worker_concurrency
        self.executor_id = executor_id
        self.dbos_config = dict(dbos_config or {})
        self.sqlite_wal = sqlite_wal
        for graph in graphs:
            _app.register_graph(graph, self)

    @property
    def capabilities(self) -> RunnerCapabilities:
        """AsyncRunner's capabilities plus ``supports_durable_execution``."""
        return DBOS_CAPABILITIES

    def __repr__(self) -> str:
        return "DBOSAsyncRunner()" if self.cache is None else f"DBOSAsyncRunner(cache={self.cache!r})"

    # ------------------------------------------------------------------ DBOS lifecycle
    def register(self, *graphs: Graph) -> None:
        """Make graphs known before DBOS launches, so their pending runs are recovered (DB3)."""
        for graph in graphs:
            _app.register_graph(graph, self)

    def launch(self) -> None:
        """Launch DBOS now (recovering pending runs of registered graphs) and serve the queue.

        ``run()`` and ``map()`` call this themselves; call it directly in a worker process that
        only serves map items, or to recover pending runs at start-up. Inside a running event
        loop it launches from a worker thread (DBOS's launch API is synchronous).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._launch()
            return
        with ThreadPoolExecutor(1) as pool:
            pool.submit(self._launch).result()

    def _launch(self) -> None:
        _app.ensure_launched(
            system_database_url=self.system_database_url,
            application_name=self.application_name,
            application_version=self.application_version,
            executor_id=self.executor_id,
            config=self.dbos_config,
            sqlite_wal=self.sqlite_wal,
        )
        _app.ensure_queue(self.queue, self.queue_concurrency, self.worker_concurrency)

    async def _launch_async(self) -> None:
        if not _app.is_launched() or self.queue not in _app._STATE["queues"]:
            await asyncio.to_thread(self._launch)

    # ------------------------------------------------------------------ public API
    async def run(  # type: ignore[override]
        self, graph: Graph, values: dict[str, Any] | None = None, **options: Any
    ) -> RunResult:
        """AsyncRunner's ``run``; an existing ``workflow_id`` continues that durable run (HI9).

        The stored inputs of an existing workflow fill in whatever ``values`` leaves out, so
        ``run(graph, {response_key: answer}, workflow_id=...)`` is enough to answer a pause.
        """
        workflow_id = options.get("workflow_id")
        if workflow_id is not None and "/" not in str(workflow_id):
            stored = await self._stored_values(graph, str(workflow_id))
            if stored:
                values = {**stored, **(values or {})}
        return await super().run(graph, values, **options)

    arun = run

    async def _stored_values(self, graph: Graph, workflow_id: str) -> dict[str, Any]:
        """The inputs an existing workflow was started with (empty for a new id)."""
        _app.register_graph(graph, self)
        await self._launch_async()
        status = await DBOS.get_workflow_status_async(workflow_id)
        if status is None:
            return {}
        args = _stored_args(status)
        if len(args) < 2:
            return {}
        inputs = args[1]
        flat = dict(inputs["provided"])
        for head, scoped in inputs["scoped"].items():
            for name, value in scoped.items():
                flat[f"{head}.{name}"] = value
        return flat

    # ------------------------------------------------------------------ the seam
    async def execute_run(
        self,
        graph: Graph,
        parts: Any,
        info: runtime.RunContext,
        checkpoint: Any = None,
    ) -> RunResult:
        """A top-level run is a workflow: start or continue it, await its outcome or pause."""
        if _steps.in_step():  # below a nested graph on another runner: part of its step
            return await super().execute_run(graph, parts, info, checkpoint)
        if checkpoint is not None:
            raise NotImplementedError(
                "DBOSAsyncRunner resumes runs by workflow_id, not from a checkpoint: run again "
                "with the same workflow_id (and the interrupt's answer) to continue a paused run."
            )
        return await self._execute_durable(graph, parts, info)

    async def execute_map(
        self,
        graph: Graph,
        items: list[dict[str, Any]],
        names: tuple[str, ...],
        map_mode: MapMode,
        info: runtime.RunContext,
    ) -> MapResult:
        """A map's items are workflows ``<workflow_id>/<i>`` on the DBOS queue."""
        if _steps.in_step():  # below a nested graph on another runner: part of its step
            return await super().execute_map(graph, items, names, map_mode, info)
        driver = DBOSDriver(self, info.emitter, map_source=(graph, items, info))
        steps = runtime.MapLoop(graph, items, names, map_mode, info, driver).steps()
        return await driver.drive(steps)  # type: ignore[no-any-return]

    def _item_ready(self, graph: Graph, item: dict[str, Any]) -> bool:
        """Whether a map item's values are valid (else the loop reports it as not started)."""
        try:
            runtime.prepare_values(graph, item)
        except Exception:
            return False
        return True

    async def _start_item(
        self, graph: Graph, item: dict[str, Any], info: runtime.RunContext, index: int
    ) -> RunResult:
        item_info = info.item(index)
        item_info.error_handling = "continue"  # MP8: a failed item is a FAILED result
        return await self._execute_durable(graph, runtime.prepare_values(graph, item), item_info)

    # ------------------------------------------------------------------ workflows
    async def _execute_durable(
        self, graph: Graph, parts: runtime.PartitionedValues, info: runtime.RunContext
    ) -> RunResult:
        """A top-level run (or map item) as a workflow: start or continue it, await its outcome."""
        key = _app.register_graph(graph, self)
        await self._launch_async()
        workflow_id = info.workflow_id
        queued = info.item_index is not None and workflow_id is not None
        if queued:
            workflow_id = f"{workflow_id}/{info.item_index}"
        elif workflow_id is None:
            workflow_id = _auto_id()
            info.workflow_id = workflow_id
        inputs = _encode(parts)
        options = _options(info, root=True)
        status = await DBOS.get_workflow_status_async(workflow_id)
        answers: dict[str, Any] = {}
        if status is not None:
            answers = _check_existing(graph, key, workflow_id, status, inputs)
            _check_same_version(workflow_id, status)
        else:
            _check_serializable(inputs)
        binding = _Binding(info, graph, self)
        _LIVE[workflow_id] = binding
        _STARTED.add(workflow_id)
        try:
            seen = await _pause_count(workflow_id) if status is not None else 0
            binding.expected = seen + 1
            for topic, value in answers.items():
                await DBOS.send_async(workflow_id, value, topic=ANSWER_TOPIC + topic)
            if status is not None and status.status == "CANCELLED":
                # its caller stopped it (iter() left early, a timeout, Ctrl-C): run it again
                handle: Any = await _cancel.resume(workflow_id, self.queue)
            elif (
                status is not None
                and status.status == "PENDING"
                and workflow_id not in _RUNNING
                and workflow_id in _STARTED
            ):
                # started by this process, which no longer executes it (the event loop that ran it
                # ended while it waited for an answer): continue it here
                handle = await DBOS.resume_workflow_async(workflow_id, queue_name=self.queue)
            elif status is not None:
                # it runs (or ran) already: here, in a recovery, or in another process
                handle = await DBOS.retrieve_workflow_async(workflow_id)
            else:
                with dbos.SetWorkflowID(workflow_id):
                    if queued:
                        queue = _app.ensure_queue(
                            self.queue, self.queue_concurrency, self.worker_concurrency
                        )
                        handle = await queue.enqueue_async(run_graph_workflow, key, inputs, options)
                    else:
                        handle = await DBOS.start_workflow_async(
                            run_graph_workflow, key, inputs, options
                        )
            outcome = await _await_outcome(workflow_id, handle, binding, seen)
        finally:
            if _LIVE.get(workflow_id) is binding:
                del _LIVE[workflow_id]
        return _result(info, outcome)

    async def _workflow_body(
        self, graph: Graph, inputs: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, Any]:
        """Inside the workflow: drive the graph; at a pause, wait durably for the answer."""
        workflow_id = DBOS.workflow_id
        assert workflow_id is not None
        scope = _steps.Scope(workflow_id)
        token = _steps._SCOPE.set(scope)
        _RUNNING.add(workflow_id)
        body = asyncio.current_task()
        if body is not None:
            _cancel.track(workflow_id, body)
        answers: dict[str, Any] = {}
        pauses = 0
        try:
            while True:
                info = _info_for(graph, workflow_id, options)
                parts = _decode(inputs, answers)
                driver = DBOSDriver(self, info.emitter, scope=scope, depth=len(info.path))
                driver.graph_key = _app.graph_key(graph)
                driver.caller_id = workflow_id
                driver.run_options = {
                    "max_iterations": options["max_iterations"],
                    "session_id": options.get("session_id"),
                }
                loop = runtime.RunLoop(graph, parts, info, driver)
                try:
                    result: RunResult = await driver.drive(loop.run_steps())
                except Exception as exc:
                    return {"status": "failed", "values": {}, "error": portable_error(exc)}
                if result.status is not RunStatus.PAUSED or not options.get("root"):
                    return _outcome(result)
                pause = result.pause
                assert pause is not None
                pauses += 1
                payload = _outcome(result)
                await DBOS.set_event_async(PAUSE_EVENT + str(pauses), payload)
                binding = _LIVE.get(workflow_id)
                if binding is not None:
                    binding.notify_pause(pauses, payload)
                for key in pause.response_keys.values():
                    answers[key] = await _receive(key)
        finally:
            _RUNNING.discard(workflow_id)
            if body is not None:
                _cancel.untrack(workflow_id, body)
            _steps._SCOPE.reset(token)


# ---------------------------------------------------------------------- helpers
def _auto_id() -> str:
    """``run-YYYYMMDD-<6 hex>`` (SPEC CP3)."""
    return time.strftime("run-%Y%m%d-", time.gmtime()) + os.urandom(3).hex()


def _options(info: runtime.RunContext, *, root: bool) -> dict[str, Any]:
    return {
        "root": root,
        "max_iterations": info.max_iterations,
        "on_missing": info.on_missing,
        "error_handling": info.error_handling,
        "session_id": info.session_id,
        "item_index": info.item_index,
    }


def caller_of(workflow_id: str) -> tuple[asyncio.AbstractEventLoop, runtime.Emitter] | None:
    """The loop and emitter of the caller waiting for ``workflow_id`` right now, if any."""
    binding = _LIVE.get(workflow_id)
    if binding is None or binding.info.emitter is None or binding.loop.is_closed():
        return None
    return binding.loop, binding.info.emitter


def live_target(workflow_id: str | None) -> tuple[Graph, DBOSAsyncRunner] | None:
    """The graph and runner of a caller in this process waiting for ``workflow_id``, if any."""
    binding = _LIVE.get(workflow_id) if workflow_id is not None else None
    return None if binding is None else (binding.graph, binding.runner)


def _info_for(graph: Graph, workflow_id: str, options: dict[str, Any]) -> runtime.RunContext:
    """The RunContext a workflow body runs with: its caller's, wherever the caller waits.

    A body on its caller's loop uses the caller's context as it is. A body on another loop
    (DBOS's own, for recovered, resumed and queued workflows) emits through a forwarding
    emitter to the caller's loop; with no caller yet (a recovery at launch) it forwards to
    whichever caller attaches later.
    """
    binding = _LIVE.get(workflow_id)
    if binding is not None:
        if binding.loop is asyncio.get_running_loop():
            return binding.info
        info = copy.copy(binding.info)  # the caller's run id and spans
        if info.emitter is not None:
            info.emitter = ForwardingEmitter(lambda: caller_of(workflow_id))
        return info
    item_index = options.get("item_index")
    return runtime.RunContext(
        graph_name=graph.name, emitter=ForwardingEmitter(lambda: caller_of(workflow_id)),
        max_iterations=options["max_iterations"],
        error_handling=options["error_handling"], on_missing=options["on_missing"],
        workflow_id=workflow_id.rsplit("/", 1)[0] if item_index is not None else workflow_id,
        session_id=options.get("session_id"), item_index=item_index,
    )


def _encode(parts: runtime.PartitionedValues) -> dict[str, Any]:
    return {
        "provided": dict(parts.provided),
        "answers": dict(parts.answers),
        "scoped": {k: dict(v) for k, v in parts.scoped.items()},
        "nested_answers": {k: dict(v) for k, v in parts.nested_answers.items()},
    }


def _decode(inputs: dict[str, Any], answers: dict[str, Any]) -> runtime.PartitionedValues:
    parts = runtime.PartitionedValues()
    parts.provided = dict(inputs["provided"])
    parts.answers = dict(inputs["answers"])
    parts.scoped = {k: dict(v) for k, v in inputs["scoped"].items()}
    parts.nested_answers = {k: dict(v) for k, v in inputs["nested_answers"].items()}
    for key, value in answers.items():
        head, dot, rest = key.partition(".")
        if dot:
            parts.nested_answers.setdefault(head, {})[rest] = value
        else:
            parts.answers[key] = value
    return parts


def _check_serializable(inputs: dict[str, Any]) -> None:
    """Run inputs are stored with the workflow: name the one that cannot be (DB8)."""
    for role in ("provided", "answers"):
        for name, value in inputs[role].items():
            try:
                pickle.dumps(value)
            except Exception as exc:
                raise UnserializableValueError(
                    f"Input {name!r} cannot be stored with the durable run "
                    f"({type(exc).__name__}: {exc}). DBOSAsyncRunner records run inputs with "
                    "pickle: pass plain data or instances of importable classes."
                ) from exc


def _check_existing(
    graph: Graph, key: str, workflow_id: str, status: Any, inputs: dict[str, Any]
) -> dict[str, Any]:
    """CP3/R2-5 for an existing workflow id: same graph, same inputs; returns answers to send."""
    args = _stored_args(status)
    if len(args) < 2:
        return {}
    stored_key, stored_inputs = args[0], args[1]
    if stored_key != key:
        raise GraphChangedError(
            f"Workflow {workflow_id!r} was recorded for graph {stored_key!r}, but graph "
            f"{key!r} was given: its structure changed (or it is another graph). A changed "
            "graph never resumes an old run; fork instead: run it under a new workflow_id."
        )
    answer_keys = set(_answer_keys(graph))
    answers: dict[str, Any] = {}
    overrides: list[str] = []
    for name, value in inputs["provided"].items():
        if not _same(stored_inputs["provided"].get(name, _MISSING), value):
            overrides.append(name)
    for name, value in inputs["answers"].items():
        answers[name] = value
    for head, nested in inputs["nested_answers"].items():
        for rest, value in nested.items():
            answers[f"{head}.{rest}"] = value
    for head, scoped in inputs["scoped"].items():
        for rest, value in scoped.items():
            if not _same(stored_inputs["scoped"].get(head, {}).get(rest, _MISSING), value):
                overrides.append(f"{head}.{rest}")
    if answers and status.status == "SUCCESS":
        overrides.extend(answers)
        answers = {}
    unknown = [k for k in answers if k not in answer_keys and k.split(".")[-1] not in answer_keys]
    overrides.extend(unknown)
    if overrides:
        listed = ", ".join(repr(n) for n in sorted(set(overrides)))
        raise InputOverrideRequiresForkError(
            f"Workflow {workflow_id!r} already exists; values for {listed} differ from the ones "
            "it was started with. Resuming accepts only interrupt answers (and the same inputs "
            "again). To run with new inputs, fork: use a new workflow_id."
        )
    return answers


_MISSING = object()


def _check_same_version(workflow_id: str, status: Any) -> None:
    """DB5: DBOS continues a pending run only under the application version that started it."""
    if status.status not in ("PENDING", "ENQUEUED"):
        return
    from dbos._utils import GlobalParams

    recorded, current = status.app_version, GlobalParams.app_version
    if recorded is None or recorded == current:
        return
    raise GraphChangedError(
        f"Workflow {workflow_id!r} is pending under application version {recorded!r}, but this "
        f"program runs {current!r}: the set of graphs registered before launch changed "
        "structure. DBOS continues a run only under its own version: start the program with "
        "the graphs it had, or fork the run (run the graph under a new workflow_id)."
    )


def _stored_args(status: Any) -> tuple[Any, ...]:
    """The positional arguments a workflow was started with (key, inputs, options)."""
    stored = status.input or {}
    args = stored.get("args", ()) if isinstance(stored, dict) else getattr(stored, "args", ())
    return tuple(args or ())


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING:
        return False
    try:
        return bool(a == b)
    except Exception:
        return a is b


def _answer_keys(graph: Graph) -> list[str]:
    from hypergraph.nodes.graph_node import GraphNode

    keys: list[str] = []
    for node in graph.nodes.values():
        if node.is_interrupt:
            keys.extend(node.outputs)
        elif isinstance(node, GraphNode):
            keys.extend(f"{node.name}.{k}" for k in _answer_keys(node.graph))
    return keys


async def _pause_count(workflow_id: str) -> int:
    """How many times the run has paused so far (its ``hypergraph.pause.<n>`` events)."""
    count = 0
    while await DBOS.get_event_async(workflow_id, PAUSE_EVENT + str(count + 1), 0) is not None:
        count += 1
    return count


async def _receive(key: str) -> Any:
    """Durable wait for the answer to ``key`` (renewed until it arrives, across restarts)."""
    while True:
        message = await DBOS.recv_async(ANSWER_TOPIC + key, timeout_seconds=_WAIT_SECONDS)
        if message is not None:
            return message


async def _await_outcome(
    workflow_id: str, handle: Any, binding: _Binding, seen: int
) -> dict[str, Any]:
    """The workflow's final outcome, or its next pause, whichever comes first."""
    result = asyncio.ensure_future(handle.get_result())
    waits: set[asyncio.Future[Any]] = {result, binding.paused}
    remote: asyncio.Future[dict[str, Any]] | None = None
    if not isinstance(handle, WorkflowHandleAsyncTask):
        # it executes elsewhere (a recovery, another process): its pause shows up as an event
        remote = asyncio.ensure_future(_next_pause(workflow_id, seen + 1))
        waits.add(remote)
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        # the caller gave up (iter() left early, a timeout, Ctrl-C): stop the run, as AsyncRunner
        # does; DBOS records it CANCELLED (no recovery continues it), the same id resumes it
        await _cancel.stop(workflow_id)
        raise
    finally:
        # nothing of this wait outlives it (the workflow's own task is not one of these)
        for waiter in (result, remote):
            if waiter is not None and not waiter.done():
                waiter.cancel()
                await asyncio.wait({waiter})
    if result in done:
        outcome: dict[str, Any] = result.result()
        return outcome
    if binding.paused.done():
        return binding.paused.result()
    assert remote is not None
    paused: dict[str, Any] = remote.result()
    return paused


async def _next_pause(workflow_id: str, number: int) -> dict[str, Any]:
    """Poll for the run's ``number``-th pause when it executes elsewhere (another process, loop)."""
    key = PAUSE_EVENT + str(number)
    while True:
        await asyncio.sleep(_POLL_SECONDS)  # a run in this loop reports its pause directly
        payload = await DBOS.get_event_async(workflow_id, key, 0)
        if payload is not None:
            return dict(payload)


def _outcome(result: RunResult) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "values": dict(result.values),
        "error": portable_error(result.error) if result.error is not None else None,
        "pause": result.pause,
    }


def portable_error(exc: BaseException) -> BaseException:
    """The node's own exception if it pickles (so callers catch its type), else a description
    (with the exception's notes, e.g. one per retried attempt)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        stand_in = RuntimeError(f"{type(exc).__name__}: {exc}")
        for note in getattr(exc, "__notes__", ()):
            stand_in.add_note(note)
        return stand_in
    return exc


def _result(info: runtime.RunContext, outcome: dict[str, Any]) -> RunResult:
    status = RunStatus(outcome["status"])
    error = outcome.get("error")
    if status is RunStatus.FAILED and info.error_handling == "raise" and error is not None:
        raise error
    pause: PauseInfo | None = outcome.get("pause")
    return runtime.run_result(info, dict(outcome["values"]), status, error=error, pause=pause)
