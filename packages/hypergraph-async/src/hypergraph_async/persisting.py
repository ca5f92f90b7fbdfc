"""``PersistingAsyncDriver``: AsyncRunner's driver when it has a checkpointer.

The same effects as ``AsyncDriver``, plus the awaited writes of a ``runtime.WorkflowRecorder``:
every committed superstep, child runs of nested graphs (restored when the parent resumes) and
map items (``<id>/<i>``).
"""

from __future__ import annotations

from typing import Any

from hypergraph import runtime
from hypergraph_async.driver import AsyncDriver, AsyncExecutor

__all__ = ["PersistingAsyncDriver"]


class PersistingAsyncDriver(AsyncDriver):
    """``AsyncDriver`` that records every superstep of every run it drives."""

    persists = True

    def __init__(
        self,
        runner: Any,
        emitter: Any,
        recorder: runtime.WorkflowRecorder,
        executor: AsyncExecutor | None = None,
    ) -> None:
        super().__init__(runner, emitter, executor)
        self.observed = True
        self.recorder = recorder
        self.journals_at_end = recorder.defer

    async def handle(self, effect: Any) -> Any:
        kind = type(effect)
        recorder = self.recorder
        if kind is runtime.Journaled:
            await recorder.apply_async(recorder.flushed(effect))
            return None
        if kind is runtime.Committed:
            await recorder.apply_async(recorder.committed(effect))
            return None
        if kind is runtime.ExecuteBatch:
            effect = runtime.ExecuteBatch(effect.tasks, recorder.timed(effect.run_task))
        elif kind is runtime.Write:
            await recorder.apply_async(effect.ops)
            return None
        elif kind is runtime.ExecuteItems:
            if effect.timed is not None:
                effect.timed.flush = recorder.item_writer(blocking=False)
                try:
                    return await super().handle(effect)
                finally:  # the items that ran are written even when the map stops
                    await recorder.apply_async(recorder.items_ended(effect.timed))
            effect = runtime.recorded_items(effect, recorder, runtime.Write)
        elif kind is runtime.RunChild and (effect.runner is None or effect.runner is self.runner):
            return await self._run_child(effect)
        return await super().handle(effect)

    def journal(self, loop: Any) -> tuple[list[Any], runtime.Journaled | None]:
        """The recorder's journal for ``loop`` and its flush effect (None in "exit" mode)."""
        return self.recorder.journal(loop)

    def records_items(self, identity: Any) -> bool:
        """"exit" durability: a top-level map's compiled items are written from what they did."""
        return self.recorder.records_items(identity)

    async def _run_child(self, effect: runtime.RunChild) -> Any:
        """A nested graph as the child run ``<parent>/<node>``, restored when it was recorded."""
        recorder = self.recorder
        task = effect.task
        cp = recorder.checkpointer
        reads = runtime.child_reads(recorder.child_id(task))
        record, stored, base, count = await runtime.read_async(cp, reads)
        plan = recorder.child_plan(task, effect.values, record, stored, count, base)
        if plan.restored is not None:
            return plan.restored
        path = (*task.identity.path, task.plan.name)
        try:
            steps = effect.steps(plan.snapshot, plan.rerun)
            result = await self.drive(steps)
        except BaseException as exc:
            await recorder.apply_async(recorder.ended(path, None, exc))
            raise
        await recorder.apply_async(recorder.ended(path, result))
        return result
