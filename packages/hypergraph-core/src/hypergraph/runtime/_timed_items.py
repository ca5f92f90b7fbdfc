"""``TimedItems``: a map's compiled items when a checkpointer writes runs as they end.

With ``durability="exit"`` an item is written when it ends, so it needs neither a run loop
nor a result object of its own: it runs on the plan's timed code (``run_timed``) like the
unrecorded compiled path and keeps its outputs and call times. After each item the persisting
driver's writer (``WorkflowRecorder.item_writer``) hands what ended to the checkpointer as a
``FinishedRuns``, whose rows a backend writes without a record object per run. An item that
fails, or the first one whose end the plan has not learned yet (``CompiledEnd``), gets a run
loop of its own and is recorded the generic way.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING, Any

from hypergraph.results import RunStatus
from hypergraph.runtime._checkpoint_state import compiled_end
from hypergraph.runtime._loop import _DONE, RunLoop, _LightItems

if TYPE_CHECKING:
    from collections.abc import Callable

    from hypergraph.runtime._loop import MapLoop

__all__ = ["TimedItems"]


class TimedItems(_LightItems):
    """Compiled map items, timed; what each did, kept until the driver writes it."""

    __slots__ = ("compiled", "end", "flush", "others", "ran", "run_timed")
    timed = True

    def __init__(self, loop: MapLoop, compiled: Any, count: int) -> None:
        super().__init__(loop, compiled, count)
        self.compiled = compiled
        self.run_timed = compiled.run_timed
        # items that ran and ended as ``end`` (the plan's ``CompiledEnd`` for their input names
        # in their order): (index, start, outputs by position, call times)
        self.ran: list[tuple[Any, ...]] = []
        self.end: Any = None
        # the driver's writer of what ended so far, called after each item (None: the driver
        # writes them once all ran)
        self.flush: Callable[[TimedItems], None] | None = None
        # items recorded the generic way (their run loop is the recorder's): (index, start, result)
        self.others: list[tuple[int, float, Any]] = []

    def item(self, index: int) -> Any:
        """Run item ``index``; its outputs go into the columns, what it did into ``ran``."""
        values = self.loop.items[index]
        started = perf_counter()
        out = self.run_timed(values, self._fail, index)
        if type(out) is not tuple:
            self.others.append((index, started, out))
            if self.flush is not None:
                self.flush(self)
            return out
        columns, record, times = out
        for column, value in zip(self.store.columns, columns):  # noqa: B905
            column[index] = value
        end = self.compiled.ends.get(tuple(values))
        if end is not None and self.end is None:
            self.end = end
        if end is None or end is not self.end:
            # the first of its input names (or of another order of them): recorded from a
            # run loop, which teaches the plan how such runs end
            run, journal = self._loop_of(index, values)
            run._ensure_state()
            run._commit_recorded(record, 0, len(self.compiled.batch_start), journal, times)
            compiled_end(run, self.compiled)
            self.others.append((index, started, _DONE))
        else:
            self.ran.append((index, started, record, times))
        if self.flush is not None:
            self.flush(self)
        return _DONE

    def _loop_of(self, index: int, values: dict[str, Any]) -> tuple[RunLoop, list[Any]]:
        """Item ``index`` as a run loop of the recording driver, and the journal it records."""
        run = self.item_loop(index, values)
        journaling = self.loop.driver.journal(run)
        assert journaling is not None  # drivers that record items journal
        return run, journaling[0]

    def _fail(
        self, values: dict[str, Any], batch: int, pos: int, exc: BaseException,
        recorded: tuple[Any, ...], at_collect: bool, index: int, times: tuple[float, ...],
    ) -> Any:
        """The failed item's ``RunResult``, its state and journal as the generic loop leaves
        them (an interrupt, not an ``Exception``, raises on as it does there)."""
        run, journal = self._loop_of(index, values)
        try:
            run._failed_at(values, batch, pos, exc, recorded, at_collect, journal, times)
        except Exception as error:
            result = run._result(run.engine.output_values(run.state), RunStatus.FAILED, error=error)
        self.store.explicit[index] = result
        return result
