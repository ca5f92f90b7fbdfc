"""``CheckpointerBase``: the part of a checkpointer that does not depend on where records live.

A backend implements the storage primitives (create, save a superstep, set a status, read runs,
steps and checkpoints, list the runs derived from one, record a derived run); the base class adds
the rest of both protocols on top: the async twins, ``values``/``state``, lineage trees, fork and
retry, ``close()`` and the context managers.

The async methods call the blocking ones directly instead of hopping to a worker thread: a write
is a few microseconds of work (or a queue put), far less than a thread hop costs.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Generator, Sequence
from types import TracebackType
from typing import Any

import attrs

from hypergraph.checkpointers.records import (
    Checkpoint,
    ChildRun,
    FinishedRuns,
    LineageNode,
    RunRecord,
    StepRecord,
    WorkflowStatus,
    child_runs_of,
    new_workflow_id,
)
from hypergraph.exceptions import RunNotFoundError, WorkflowForkError

__all__ = [
    "CheckpointerBase", "Closing", "duplicate_run_error", "save_each", "save_each_sync", "status_of",
]


class Closing:
    """What ``close()`` returns: already done, and awaitable so ``await cp.close()`` works too."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover  (makes this a generator)

    def __repr__(self) -> str:
        return "<closed>"


def save_each_sync(checkpointer: Any, runs: FinishedRuns) -> None:
    """``runs`` through the primitives every ``SyncCheckpointer`` has: per run, create it, save
    its steps and last checkpoint, mark it COMPLETED (what ``save_runs_sync`` does by default)."""
    completed = WorkflowStatus.COMPLETED
    for record, steps, checkpoint in runs:
        checkpointer.create_run_sync(record)
        checkpointer.save_superstep_sync(record.id, steps, checkpoint)
        checkpointer.update_run_status_sync(record.id, completed)


async def save_each(checkpointer: Any, runs: FinishedRuns) -> None:
    """``save_each_sync`` through a ``Checkpointer``'s awaitable primitives."""
    completed = WorkflowStatus.COMPLETED
    for record, steps, checkpoint in runs:
        await checkpointer.create_run(record)
        await checkpointer.save_superstep(record.id, steps, checkpoint)
        await checkpointer.update_run_status(record.id, completed)


class CheckpointerBase(abc.ABC):
    """Both checkpointer protocols on top of a few storage primitives."""

    # -- primitives a backend implements ------------------------------------------------------

    @abc.abstractmethod
    def create_run_sync(self, run: RunRecord) -> None:
        """Record a new run; ``WorkflowForkError`` if its id exists."""

    @abc.abstractmethod
    def save_superstep_sync(
        self, run_id: str, steps: Sequence[StepRecord], checkpoint: Checkpoint | None
    ) -> None:
        """Record a superstep's steps and checkpoint atomically."""

    @abc.abstractmethod
    def update_run_status_sync(
        self,
        run_id: str,
        status: WorkflowStatus,
        *,
        error: str | None = None,
        duration_ms: float | None = None,
    ) -> None:
        """Set a run's status, counts and completion time."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunRecord | None:
        """The run record, or ``None``."""

    @abc.abstractmethod
    def steps(self, run_id: str, *, superstep: int | None = None) -> list[StepRecord]:
        """The run's steps in execution order; ``RunNotFoundError`` for an unknown run."""

    @abc.abstractmethod
    def checkpoint(self, run_id: str, *, superstep: int | None = None) -> Checkpoint:
        """The checkpoint after ``superstep`` (latest by default); ``RunNotFoundError`` if none."""

    @abc.abstractmethod
    def runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        parent: str | None = None,
        top_level: bool = False,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Recorded runs, oldest first, filtered."""

    @abc.abstractmethod
    def _derived_runs(self, run_id: str) -> list[RunRecord]:
        """Runs forked or retried from ``run_id``, oldest first."""

    @abc.abstractmethod
    def _create_derived_run(self, run: RunRecord, checkpoint: Checkpoint) -> None:
        """Record ``run`` with ``checkpoint`` as its starting point, atomically.

        Raises ``WorkflowForkError`` if ``run.id`` is already recorded.
        """

    def flush(self) -> None:
        """Return once everything saved so far is written (nothing to do by default)."""
        return None

    def _close(self) -> None:
        """Release resources (nothing to do by default)."""
        return None

    # -- derived sync API ---------------------------------------------------------------------

    def save_step_sync(self, step: StepRecord) -> None:
        """Record one step without a checkpoint."""
        self.save_superstep_sync(step.run_id, (step,), None)

    def save_runs_sync(self, runs: FinishedRuns) -> None:
        """Record runs that started and completed here (a map's items in "exit" durability).

        By default each goes through the primitives; a backend overrides this to write them all
        as rows at once (see ``FinishedRuns``)."""
        save_each_sync(self, runs)

    def values(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """The run's values after ``superstep`` (default: the latest), without its inputs."""
        return dict(self.checkpoint(run_id, superstep=superstep).values)

    def state(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """The run's inputs overlaid with its values: everything a resume starts from."""
        found = self.checkpoint(run_id, superstep=superstep)
        return {**found.inputs, **found.values}

    def checkpoint_states(self, run_id: str, *, after: int, before: int) -> list[dict[str, Any]]:
        """The loop states of ``run_id``'s checkpoints after superstep ``after`` and before
        ``before``, in order: what a resume folds into a full record (backends read them at once).
        """
        found = []
        for superstep in range(after + 1, before):
            stored = self.checkpoint(run_id, superstep=superstep)
            if stored.superstep == superstep:
                found.append(stored.state)
        return found

    def children(self, parent_id: str) -> list[tuple[RunRecord, dict[str, Any]]]:
        """Every child run of ``parent_id`` (map items, nested graphs) with its latest values.

        Oldest first, never paged: what a re-run ``map`` restores its completed items from.
        Backends override it with a bulk read; this default reads child by child.
        """
        return [(child, self.values(child.id)) for child in self.runs(parent=parent_id)]

    def child_runs(self, parent_id: str) -> list[ChildRun]:
        """:meth:`children` as ``ChildRun`` values (id, status, input signature, values): all a
        re-run ``map`` reads. Backends override it with a read that builds no ``RunRecord``."""
        return child_runs_of(self.children(parent_id))

    def lineage(self, run_id: str) -> LineageNode:
        """The tree of forks and retries ``run_id`` belongs to, from its root run."""
        run = self._require(run_id)
        seen = {run.id}
        while True:
            origin = run.retry_of if run.retry_of is not None else run.forked_from
            if origin is None or origin in seen:
                break
            parent = self.get_run(origin)
            if parent is None:  # the source was deleted: this run is the oldest one left
                break
            seen.add(parent.id)
            run = parent
        return self._subtree(run, {run.id})

    def _subtree(self, run: RunRecord, seen: set[str]) -> LineageNode:
        children = []
        for child in self._derived_runs(run.id):
            if child.id not in seen:
                seen.add(child.id)
                children.append(self._subtree(child, seen))
        return LineageNode(run, tuple(children))

    def fork_workflow(
        self, source_id: str, *, workflow_id: str | None = None, superstep: int | None = None
    ) -> tuple[str, Checkpoint]:
        """Record a run forked from ``source_id`` after ``superstep`` (default: its latest).

        The new run (id ``<source>-fork-<6 hex>`` unless ``workflow_id`` is given) is ACTIVE, has
        the source's graph, hashes and inputs, and starts from the returned checkpoint: a runner
        continues it like a resume. ``WorkflowForkError`` if ``workflow_id`` is already recorded.
        """
        source = self._require(source_id)
        start = self.checkpoint(source_id, superstep=superstep)
        new_id = workflow_id or f"{source.id}-fork-{os.urandom(3).hex()}"
        run = _derived(source, new_id, forked_from=source.id, fork_superstep=start.superstep)
        return new_id, self._start(run, start)

    def retry_workflow(
        self, source_id: str, *, workflow_id: str | None = None
    ) -> tuple[str, Checkpoint]:
        """Record a run retrying ``source_id`` from its latest checkpoint.

        Failed and unfinished nodes run again in the new run (auto id ``run-YYYYMMDD-<6 hex>``);
        ``retry_index`` counts the retries along the chain (1 for the first).
        """
        source = self._require(source_id)
        start = self.checkpoint(source_id)
        new_id = workflow_id or new_workflow_id()
        run = _derived(
            source, new_id, retry_of=source.id, retry_index=(source.retry_index or 0) + 1
        )
        return new_id, self._start(run, start)

    def _start(self, run: RunRecord, start: Checkpoint) -> Checkpoint:
        checkpoint = attrs.evolve(start, run_id=run.id, inputs=run.inputs)
        self._create_derived_run(run, checkpoint)
        return checkpoint

    def _require(self, run_id: str) -> RunRecord:
        run = self.get_run(run_id)
        if run is None:
            raise RunNotFoundError(run_id, self._where())
        return run

    def _where(self) -> str:
        return type(self).__name__

    # -- async API ----------------------------------------------------------------------------

    async def create_run(self, run: RunRecord) -> None:
        """Async :meth:`create_run_sync`."""
        self.create_run_sync(run)

    async def save_superstep(
        self, run_id: str, steps: Sequence[StepRecord], checkpoint: Checkpoint | None
    ) -> None:
        """Async :meth:`save_superstep_sync`."""
        self.save_superstep_sync(run_id, steps, checkpoint)

    async def save_step(self, step: StepRecord) -> None:
        """Async :meth:`save_step_sync`."""
        self.save_superstep_sync(step.run_id, (step,), None)

    async def save_runs(self, runs: FinishedRuns) -> None:
        """Async :meth:`save_runs_sync`."""
        self.save_runs_sync(runs)

    async def update_run_status(
        self,
        run_id: str,
        status: WorkflowStatus,
        *,
        error: str | None = None,
        duration_ms: float | None = None,
    ) -> None:
        """Async :meth:`update_run_status_sync`."""
        self.update_run_status_sync(run_id, status, error=error, duration_ms=duration_ms)

    async def get_run_async(self, run_id: str) -> RunRecord | None:
        """Async :meth:`get_run`."""
        return self.get_run(run_id)

    async def get_steps(self, run_id: str, *, superstep: int | None = None) -> list[StepRecord]:
        """Async :meth:`steps`."""
        return self.steps(run_id, superstep=superstep)

    async def get_state(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """Async :meth:`state`."""
        return self.state(run_id, superstep=superstep)

    async def get_values(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """Async :meth:`values`."""
        return self.values(run_id, superstep=superstep)

    async def get_checkpoint(self, run_id: str, *, superstep: int | None = None) -> Checkpoint:
        """Async :meth:`checkpoint`."""
        return self.checkpoint(run_id, superstep=superstep)

    async def get_checkpoint_states(
        self, run_id: str, *, after: int, before: int
    ) -> list[dict[str, Any]]:
        """Async :meth:`checkpoint_states`."""
        return self.checkpoint_states(run_id, after=after, before=before)

    async def get_runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        parent: str | None = None,
        top_level: bool = False,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Async :meth:`runs`."""
        return self.runs(
            status=status, graph_name=graph_name, parent=parent, top_level=top_level, limit=limit
        )

    async def get_children(self, parent_id: str) -> list[tuple[RunRecord, dict[str, Any]]]:
        """Async :meth:`children`."""
        return self.children(parent_id)

    async def get_child_runs(self, parent_id: str) -> list[ChildRun]:
        """Async :meth:`child_runs`."""
        return self.child_runs(parent_id)

    async def get_lineage(self, run_id: str) -> LineageNode:
        """Async :meth:`lineage`."""
        return self.lineage(run_id)

    async def fork_workflow_async(
        self, source_id: str, *, workflow_id: str | None = None, superstep: int | None = None
    ) -> tuple[str, Checkpoint]:
        """Async :meth:`fork_workflow`."""
        return self.fork_workflow(source_id, workflow_id=workflow_id, superstep=superstep)

    async def retry_workflow_async(
        self, source_id: str, *, workflow_id: str | None = None
    ) -> tuple[str, Checkpoint]:
        """Async :meth:`retry_workflow`."""
        return self.retry_workflow(source_id, workflow_id=workflow_id)

    async def flush_async(self) -> None:
        """Async :meth:`flush`."""
        self.flush()

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> Closing:
        """Write what is pending and release the store; ``await cp.close()`` works as well."""
        self._close()
        return Closing()

    def __enter__(self) -> CheckpointerBase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    async def __aenter__(self) -> CheckpointerBase:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()


def _derived(source: RunRecord, new_id: str, **lineage: Any) -> RunRecord:
    return RunRecord(
        id=new_id,
        graph_name=source.graph_name,
        inputs=dict(source.inputs),
        graph_struct_hash=source.graph_struct_hash,
        graph_code_hash=source.graph_code_hash,
        config=dict(source.config),
        **lineage,
    )


def status_of(status: WorkflowStatus | str) -> WorkflowStatus:
    """``status`` as a ``WorkflowStatus``; ``ValueError`` listing the valid ones otherwise."""
    try:
        return WorkflowStatus(status)
    except ValueError:
        valid = ", ".join(repr(s.value) for s in WorkflowStatus)
        raise ValueError(f"Unknown run status {status!r}; use one of {valid}.") from None


def duplicate_run_error(run_id: str) -> WorkflowForkError:
    """The error for recording a run under an id that is taken (SPEC ER8)."""
    return WorkflowForkError(
        f"A run with id {run_id!r} is already recorded. Resume it by running with "
        f"workflow_id={run_id!r}, or pick a new workflow_id (fork_from={run_id!r} starts a new "
        "run from its checkpoint)."
    )
