"""``PersistingSyncDriver``: SyncRunner's driver when it has a checkpointer.

It performs the same effects as ``SyncDriver`` and writes each committed superstep through a
``WorkflowRecorder``. Nested graphs on the same runner are recorded as child runs (restored
from their own checkpoints when the parent resumes), map items as ``<id>/<i>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypergraph.runtime._driver import SyncDriver
from hypergraph.runtime._recorder import WorkflowRecorder
from hypergraph.runtime._tasks import (
    Committed,
    ExecuteBatch,
    ExecuteItems,
    Journaled,
    RunChild,
    Steps,
)
from hypergraph.runtime._workflow import child_reads, read_sync

if TYPE_CHECKING:
    from hypergraph.cache import NodeCache
    from hypergraph.events._emitter import Emitter
    from hypergraph.runtime._driver import Executor

__all__ = ["PersistingSyncDriver", "recorded_items"]


def recorded_items(effect: ExecuteItems, recorder: WorkflowRecorder, write: Any) -> ExecuteItems:
    """``effect`` with each item's loop followed by the writes closing the item's run.

    ``write`` is an effect type the driver performs by applying the recorder's ops. Each item's
    run is dated when it starts (items start in index order on both runners, while AsyncRunner
    commits them in any order), so ``children`` lists a map's items in order and an item's
    duration counts its first superstep.
    """
    identity = effect.identity
    steps = effect.steps
    started = recorder.item_started

    def item(index: int) -> Steps[Any]:
        started(identity, index)
        result = yield from steps(index)
        ops = recorder.item_ended(identity, index, result)
        if ops:
            yield write(ops)
        return result

    return ExecuteItems(effect.count, item, effect.stop_on_failure, identity=identity)


class Write:
    """Perform these recorder ops (yielded by wrapped item loops)."""

    __slots__ = ("ops",)

    def __init__(self, ops: list[Any]) -> None:
        self.ops = ops


class PersistingSyncDriver(SyncDriver):
    """``SyncDriver`` that records every superstep of every run it drives."""

    persists = True

    def __init__(
        self,
        runner: Any,
        node_cache: NodeCache | None,
        emitter: Emitter | None,
        recorder: WorkflowRecorder,
        executor: Executor | None = None,
    ) -> None:
        super().__init__(runner, node_cache, emitter, executor, observed=True)
        self.recorder = recorder
        self.journals_at_end = recorder.defer

    def handle(self, effect: Any) -> Any:
        kind = type(effect)
        if kind is Journaled:
            self.recorder.apply_sync(self.recorder.flushed(effect))
            return None
        if kind is Committed:
            self.recorder.apply_sync(self.recorder.committed(effect))
            return None
        if kind is ExecuteBatch:
            effect = ExecuteBatch(effect.tasks, self.recorder.timed(effect.run_task))
        elif kind is Write:
            self.recorder.apply_sync(effect.ops)
            return None
        elif kind is ExecuteItems:
            if effect.timed is not None:
                effect.timed.flush = self.recorder.item_writer(blocking=True)
                try:
                    return super().handle(effect)
                finally:  # the items that ran are written even when the map stops
                    self.recorder.write_items_sync(effect.timed)
            effect = recorded_items(effect, self.recorder, Write)
        return super().handle(effect)

    def records_items(self, identity: Any) -> bool:
        """"exit" durability: a top-level map's compiled items are written from what they did."""
        return self.recorder.records_items(identity)

    def journal(self, loop: Any) -> tuple[list[Any], Journaled | None]:
        """The recorder's journal for ``loop`` and its flush effect (None in "exit" mode)."""
        return self.recorder.journal(loop)

    def run_child(self, effect: RunChild) -> Any:
        """A nested graph as the child run ``<parent>/<node>``, restored when it was recorded."""
        runner = effect.runner
        if runner is not None and runner is not self.runner:
            return super().run_child(effect)
        recorder = self.recorder
        task = effect.task
        cp = recorder.checkpointer
        record, stored, base, count = read_sync(cp, child_reads(recorder.child_id(task)))
        plan = recorder.child_plan(task, effect.values, record, stored, count, base)
        if plan.restored is not None:
            return plan.restored
        path = (*task.identity.path, task.plan.name)
        try:
            steps = effect.steps(plan.snapshot, plan.rerun)
            result = self.drive(steps)
        except BaseException as exc:
            recorder.apply_sync(recorder.ended(path, None, exc))
            raise
        recorder.apply_sync(recorder.ended(path, result))
        return result
