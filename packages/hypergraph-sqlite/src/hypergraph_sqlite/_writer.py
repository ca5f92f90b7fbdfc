"""The background writer behind ``durability="async"``: commits jobs in order, in one thread.

Jobs queued while a transaction is being written are committed together in the next one (group
commit), which is what lets a fast run outpace the disk. If a combined transaction fails, its
jobs are retried one by one so that only the failing job is lost; its error is raised by the
next ``wait()``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Job", "Writer"]

Job = Sequence[tuple[str, Any, bool]]
"""SQL operations written in one transaction: ``(sql, parameters, executemany?)``."""

_STOP = object()
_MAX_BATCH = 512
# a producer this far ahead of the disk waits: memory stays bounded when writes can't keep up
_MAX_PENDING = 8192


class Writer:
    """One daemon thread that runs ``execute(ops)`` for each submitted job, in order."""

    def __init__(self, execute: Callable[[Job], object], name: str) -> None:
        self._execute = execute
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._done = threading.Condition()
        self._pending = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue ``job``; it is committed after every job submitted before it."""
        with self._done:
            while self._pending >= _MAX_PENDING:
                self._done.wait()
            self._pending += 1
        self._queue.put(job)

    def wait(self) -> None:
        """Block until every submitted job is committed; raise the first error since last time."""
        with self._done:
            while self._pending:
                self._done.wait()
            error, self._error = self._error, None
        if error is not None:
            raise error

    def stop(self) -> None:
        """Commit what is queued, then end the thread."""
        self._queue.put(_STOP)
        self._thread.join()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < _MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._write(batch)
            with self._done:
                self._pending -= len(batch)
                self._done.notify_all()

    def _write(self, batch: list[Job]) -> None:
        try:
            self._execute([op for job in batch for op in job])
            return
        except BaseException as exc:
            if len(batch) == 1:
                self._record(exc)
                return
        for job in batch:
            try:
                self._execute(job)
            except BaseException as exc:
                self._record(exc)

    def _record(self, exc: BaseException) -> None:
        with self._done:
            if self._error is None:
                self._error = exc
