"""``InMemoryCheckpointer``: the embedded default, with no dependency and nothing written to disk.

Records live in dicts for the life of the object, so resume, fork and retry work within one
process (a notebook, a test, a server keeping its checkpointer). Values are kept by reference,
not copied or serialized: any value can be checkpointed, and mutating a value after its node
returned also changes what the checkpoint holds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import attrs

from hypergraph.checkpointers.base import CheckpointerBase, duplicate_run_error, status_of
from hypergraph.checkpointers.records import (
    Checkpoint,
    RunRecord,
    StepRecord,
    StepStatus,
    WorkflowStatus,
    utc_now,
)
from hypergraph.exceptions import RunNotFoundError

__all__ = ["InMemoryCheckpointer"]


class InMemoryCheckpointer(CheckpointerBase):
    """Both checkpointer protocols over in-process dicts; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunRecord] = {}
        self._steps: dict[str, list[StepRecord]] = {}
        # run id -> superstep -> (values changed in it, loop state after it)
        self._checkpoints: dict[str, dict[int, tuple[dict[str, Any], dict[str, Any]]]] = {}

    def __repr__(self) -> str:
        return f"InMemoryCheckpointer(runs={len(self._runs)})"

    # -- writes -------------------------------------------------------------------------------

    def create_run_sync(self, run: RunRecord) -> None:
        """Record a new run; ``WorkflowForkError`` if its id exists."""
        with self._lock:
            if run.id in self._runs:
                raise duplicate_run_error(run.id)
            self._runs[run.id] = run

    def save_superstep_sync(
        self, run_id: str, steps: Sequence[StepRecord], checkpoint: Checkpoint | None
    ) -> None:
        """Record a superstep's steps and checkpoint (kept by reference)."""
        with self._lock:
            if steps:
                self._steps.setdefault(run_id, []).extend(steps)
            if checkpoint is not None and checkpoint.superstep is not None:
                self._checkpoints.setdefault(run_id, {})[checkpoint.superstep] = (
                    checkpoint.values,
                    checkpoint.state,
                )

    def update_run_status_sync(
        self,
        run_id: str,
        status: WorkflowStatus,
        *,
        error: str | None = None,
        duration_ms: float | None = None,
    ) -> None:
        """Set a run's status, step counts and (unless ACTIVE) its completion time."""
        status = status_of(status)
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                raise RunNotFoundError(run_id, self._where())
            steps = self._steps.get(run_id, ())
            completed = sum(1 for s in steps if s.status is StepStatus.COMPLETED)
            failed = sum(1 for s in steps if s.status is StepStatus.FAILED)
            if status is WorkflowStatus.ACTIVE:
                changes: dict[str, Any] = {"completed_at": None, "error": None}
            else:
                now = utc_now()
                if duration_ms is None:
                    duration_ms = (now - run.created_at).total_seconds() * 1000
                changes = {"completed_at": now, "duration_ms": duration_ms, "error": error}
            self._runs[run_id] = attrs.evolve(
                run, status=status, node_count=completed, error_count=failed, **changes
            )

    def _create_derived_run(self, run: RunRecord, checkpoint: Checkpoint) -> None:
        with self._lock:
            if run.id in self._runs:
                raise duplicate_run_error(run.id)
            self._runs[run.id] = run
            if checkpoint.superstep is not None:
                self._checkpoints[run.id] = {
                    checkpoint.superstep: (dict(checkpoint.values), dict(checkpoint.state))
                }

    # -- reads --------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run record, or ``None``."""
        return self._runs.get(run_id)

    def steps(self, run_id: str, *, superstep: int | None = None) -> list[StepRecord]:
        """The run's steps in execution order (up to ``superstep`` if given)."""
        with self._lock:
            if run_id not in self._runs:
                raise RunNotFoundError(run_id, self._where())
            found = list(self._steps.get(run_id, ()))
        if superstep is not None:
            found = [s for s in found if s.superstep <= superstep]
        return found

    def checkpoint(self, run_id: str, *, superstep: int | None = None) -> Checkpoint:
        """The run's checkpoint after ``superstep`` (default: the latest)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                raise RunNotFoundError(run_id, self._where())
            saved = dict(self._checkpoints.get(run_id, {}))
        values: dict[str, Any] = {}
        state: dict[str, Any] = {}
        last: int | None = None
        for number in sorted(saved):
            if superstep is not None and number > superstep:
                break
            delta, state = saved[number]
            values.update(delta)
            last = number
        return Checkpoint(run_id, last, values, dict(state), dict(run.inputs))

    def checkpoint_states(self, run_id: str, *, after: int, before: int) -> list[dict[str, Any]]:
        """The loop states of ``run_id``'s checkpoints strictly between two supersteps, in order."""
        with self._lock:
            saved = dict(self._checkpoints.get(run_id, {}))
        return [dict(saved[n][1]) for n in sorted(saved) if after < n < before]

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
        wanted = status_of(status) if status is not None else None
        with self._lock:
            found = list(self._runs.values())
        selected = [
            run
            for run in found
            if (wanted is None or run.status is wanted)
            and (graph_name is None or run.graph_name == graph_name)
            and (parent is None or run.parent_run_id == parent)
            and not (top_level and run.parent_run_id is not None)
        ]
        selected.sort(key=lambda run: run.created_at)
        return selected if limit is None else selected[:limit]

    def _derived_runs(self, run_id: str) -> list[RunRecord]:
        with self._lock:
            found = [
                run
                for run in self._runs.values()
                if run.forked_from == run_id or run.retry_of == run_id
            ]
        found.sort(key=lambda run: run.created_at)
        return found
