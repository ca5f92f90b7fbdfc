"""The checkpointer protocols: what a run loop writes and what users read back (SPEC CP1, CP10).

``SyncCheckpointer`` is what ``SyncRunner`` needs; ``Checkpointer`` is the async twin
``AsyncRunner`` uses. Both checkpointers that ship (``InMemoryCheckpointer``,
``SqliteCheckpointer``) implement both; ``hypergraph.testing.CheckpointerContract`` checks a
backend against them.

Write protocol, per run: ``create_run`` once (or ``update_run_status(id, ACTIVE)`` when resuming),
``save_superstep`` once per superstep (every step record of the superstep plus its checkpoint, in
one transaction), ``update_run_status`` when the run completes, fails, pauses or stops. A
checkpointer may hold the records and the checkpoint it was given until they are written, so
the caller must not mutate them afterwards. ``update_run_status`` with any status other than
``ACTIVE`` returns only once everything saved before it is durable, in every durability mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from hypergraph.checkpointers.records import (
    Checkpoint,
    LineageNode,
    RunRecord,
    StepRecord,
    WorkflowStatus,
)

__all__ = ["Checkpointer", "SyncCheckpointer", "require_checkpointer"]


@runtime_checkable
class SyncCheckpointer(Protocol):
    """The blocking write and read path (SyncRunner, scripts, the CLI)."""

    def create_run_sync(self, run: RunRecord) -> None:
        """Record a new run. Raises ``WorkflowForkError`` if the id is already recorded."""
        ...

    def save_superstep_sync(
        self, run_id: str, steps: Sequence[StepRecord], checkpoint: Checkpoint | None
    ) -> None:
        """Record a superstep's steps and its checkpoint (values it changed + state) atomically.

        Raises ``CheckpointSerializationError`` naming the node and output of a value that can't
        be stored; then nothing of the superstep is written.
        """
        ...

    def save_step_sync(self, step: StepRecord) -> None:
        """Record one step without a checkpoint (``save_superstep_sync(id, [step], None)``)."""
        ...

    def update_run_status_sync(
        self,
        run_id: str,
        status: WorkflowStatus,
        *,
        error: str | None = None,
        duration_ms: float | None = None,
    ) -> None:
        """Set a run's status; counts its steps and stamps ``completed_at`` unless ``ACTIVE``."""
        ...

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run record, or ``None`` when no such run is recorded."""
        ...

    def steps(self, run_id: str, *, superstep: int | None = None) -> list[StepRecord]:
        """The run's steps in execution order (up to ``superstep`` if given)."""
        ...

    def checkpoint(self, run_id: str, *, superstep: int | None = None) -> Checkpoint:
        """The run's checkpoint after ``superstep`` (default: the latest one)."""
        ...

    def values(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """The run's values after ``superstep`` (default: the latest), without its inputs."""
        ...

    def state(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """The run's inputs overlaid with its values: everything a resume starts from."""
        ...

    def runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        parent: str | None = None,
        top_level: bool = False,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Recorded runs, oldest first, filtered; ``parent=id`` lists every child of ``id``."""
        ...

    def children(self, parent_id: str) -> list[tuple[RunRecord, dict[str, Any]]]:
        """Every child run of ``parent_id`` with its latest values, oldest first, unpaged."""
        ...

    def lineage(self, run_id: str) -> LineageNode:
        """The tree of forks and retries ``run_id`` belongs to, from its root."""
        ...

    def fork_workflow(
        self, source_id: str, *, workflow_id: str | None = None, superstep: int | None = None
    ) -> tuple[str, Checkpoint]:
        """Record a new run forked from ``source_id``'s checkpoint; return its id and checkpoint."""
        ...

    def retry_workflow(
        self, source_id: str, *, workflow_id: str | None = None
    ) -> tuple[str, Checkpoint]:
        """Record a new run retrying ``source_id`` from its latest checkpoint; id and checkpoint."""
        ...

    def flush(self) -> None:
        """Return once everything saved so far is written."""
        ...


@runtime_checkable
class Checkpointer(Protocol):
    """The awaitable write and read path (AsyncRunner)."""

    async def create_run(self, run: RunRecord) -> None:
        """Async :meth:`SyncCheckpointer.create_run_sync`."""
        ...

    async def save_superstep(
        self, run_id: str, steps: Sequence[StepRecord], checkpoint: Checkpoint | None
    ) -> None:
        """Async :meth:`SyncCheckpointer.save_superstep_sync`."""
        ...

    async def save_step(self, step: StepRecord) -> None:
        """Async :meth:`SyncCheckpointer.save_step_sync`."""
        ...

    async def update_run_status(
        self,
        run_id: str,
        status: WorkflowStatus,
        *,
        error: str | None = None,
        duration_ms: float | None = None,
    ) -> None:
        """Async :meth:`SyncCheckpointer.update_run_status_sync`."""
        ...

    async def get_run_async(self, run_id: str) -> RunRecord | None:
        """Async :meth:`SyncCheckpointer.get_run`."""
        ...

    async def get_steps(self, run_id: str, *, superstep: int | None = None) -> list[StepRecord]:
        """Async :meth:`SyncCheckpointer.steps`."""
        ...

    async def get_state(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """Async :meth:`SyncCheckpointer.state`."""
        ...

    async def get_values(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """Async :meth:`SyncCheckpointer.values`."""
        ...

    async def get_checkpoint(self, run_id: str, *, superstep: int | None = None) -> Checkpoint:
        """Async :meth:`SyncCheckpointer.checkpoint`."""
        ...

    async def get_runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        parent: str | None = None,
        top_level: bool = False,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Async :meth:`SyncCheckpointer.runs`."""
        ...

    async def get_children(self, parent_id: str) -> list[tuple[RunRecord, dict[str, Any]]]:
        """Async :meth:`SyncCheckpointer.children`."""
        ...

    async def get_lineage(self, run_id: str) -> LineageNode:
        """Async :meth:`SyncCheckpointer.lineage`."""
        ...

    async def fork_workflow_async(
        self, source_id: str, *, workflow_id: str | None = None, superstep: int | None = None
    ) -> tuple[str, Checkpoint]:
        """Async :meth:`SyncCheckpointer.fork_workflow`."""
        ...

    async def retry_workflow_async(
        self, source_id: str, *, workflow_id: str | None = None
    ) -> tuple[str, Checkpoint]:
        """Async :meth:`SyncCheckpointer.retry_workflow`."""
        ...

    async def flush_async(self) -> None:
        """Async :meth:`SyncCheckpointer.flush`."""
        ...


_SYNC_WRITES = ("create_run_sync", "save_superstep_sync", "update_run_status_sync", "get_run",
                "checkpoint")
_ASYNC_WRITES = ("create_run", "save_superstep", "update_run_status", "get_run_async",
                 "get_checkpoint")


def require_checkpointer(checkpointer: object, *, runner: str, sync: bool) -> None:
    """Raise ``TypeError`` unless ``checkpointer`` has the path ``runner`` uses (SPEC CP1).

    ``sync=True`` checks the blocking path (SyncRunner), ``sync=False`` the awaitable one.
    Only the methods a run loop calls are checked, so a partial third-party backend gets a
    message listing exactly what it lacks.
    """
    names = _SYNC_WRITES if sync else _ASYNC_WRITES
    missing = [name for name in names if not callable(getattr(checkpointer, name, None))]
    if missing:
        path = "sync" if sync else "async"
        protocol = "SyncCheckpointer" if sync else "Checkpointer"
        raise TypeError(
            f"{runner} needs a checkpointer with the {path} path, but "
            f"{type(checkpointer).__name__} has no {', '.join(missing)}. Implement "
            f"hypergraph.checkpointers.{protocol} (subclassing CheckpointerBase provides it), "
            "or use InMemoryCheckpointer / SqliteCheckpointer."
        )
