"""Who a run is: workflow, run id, path from the top, map item; and the task ids it derives.

Identity is a value, separate from the live resources of a run (emitter, cache, limiter,
checkpointer), so a durable driver or a checkpointer can name a node execution the same way in
every process that replays it.
"""

from __future__ import annotations

import attrs

__all__ = ["RunIdentity", "task_id"]


@attrs.frozen(slots=True)
class RunIdentity:
    """Where a run sits: ``path`` holds graph-node names (and map item indices) from the top."""

    run_id: str
    workflow_id: str | None = None
    path: tuple[str, ...] = ()
    item_index: int | None = None

    def child(self, run_id: str, segment: str, item_index: int | None = None) -> RunIdentity:
        """The identity of a run nested under this one at ``segment`` (a node name or index)."""
        return RunIdentity(run_id, self.workflow_id, (*self.path, segment), item_index)

    @property
    def child_workflow_id(self) -> str | None:
        """``<workflow>/<path>`` for nested runs and map items (SPEC CP8, CP9)."""
        if self.workflow_id is None or not self.path:
            return self.workflow_id
        return "/".join((self.workflow_id, *self.path))


def task_id(path: tuple[str, ...], node_name: str, superstep: int, visit: int) -> str:
    """``outer/retrieval/embed@3.1``: path, node, superstep and visit count, all deterministic.

    The same graph, inputs and history give the same ids in every process, which is what a
    durable driver needs to name its steps and a checkpointer its records.
    """
    where = "/".join((*path, node_name)) if path else node_name
    return f"{where}@{superstep}.{visit}"
