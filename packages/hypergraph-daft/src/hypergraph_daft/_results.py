"""A MapResult backed by the collected columns.

Building 100k RunResult objects costs more than Daft's whole plan for a light graph, so the
per-item results of a Daft map are made when first touched; a column (``result["name"]``), the
status and the failures are answered from the columns directly. It is a MapResult in every
other respect (same fields, sequence protocol and summary).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from hypergraph import MapResult, RunResult, RunStatus

__all__ = ["ColumnarMapResult", "ColumnarResults"]


class ColumnarResults(Sequence[RunResult]):
    """A read-only sequence of RunResults, each made (once) from row ``i`` of the columns."""

    __slots__ = ("_built", "_identity", "columns", "failures", "size")

    def __init__(
        self,
        columns: dict[str, list[Any]],
        failures: dict[int, BaseException],
        size: int,
        identity: tuple[str | None, str | None, str | None],
    ) -> None:
        self.columns = columns
        self.failures = failures
        self.size = size
        self._identity = identity
        self._built: list[RunResult | None] = [None] * size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> RunResult: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[RunResult, ...]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return tuple(self._item(i) for i in range(*index.indices(self.size)))
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(f"map result index {index} out of range ({self.size} items)")
        return self._item(index)

    def __iter__(self) -> Iterator[RunResult]:
        for i in range(self.size):
            yield self._item(i)

    def _item(self, i: int) -> RunResult:
        built = self._built[i]
        if built is None:
            built = self._built[i] = self._make(i)
        return built

    def _make(self, i: int) -> RunResult:
        from hypergraph_daft._core import new_run_id

        graph_name, workflow_id, session_id = self._identity
        error = self.failures.get(i)
        if error is not None:
            return RunResult(
                {}, RunStatus.FAILED, new_run_id(), graph_name=graph_name,
                workflow_id=workflow_id, session_id=session_id, error=error,
            )
        values = {name: column[i] for name, column in self.columns.items()}
        return RunResult(
            values, RunStatus.COMPLETED, new_run_id(), graph_name=graph_name,
            workflow_id=workflow_id, session_id=session_id,
        )

    def column(self, name: str, default: Any = None) -> list[Any]:
        """One output across items; ``default`` for failed items and unknown names."""
        values = self.columns.get(name)
        if values is None:
            return [default] * self.size
        if not self.failures:
            return list(values)
        out = list(values)
        for i in self.failures:
            out[i] = default
        return out


class ColumnarMapResult(MapResult):
    """MapResult whose per-item results are made on first access (see module docstring)."""

    __slots__ = ()

    def __init__(
        self,
        results: ColumnarResults,
        run_id: str | None,
        total_duration_ms: float,
        map_over: tuple[str, ...],
        map_mode: str,
        graph_name: str | None = None,
    ) -> None:
        super().__init__((), run_id, total_duration_ms, map_over, map_mode, graph_name)
        # the columns stand in for the tuple of RunResults: read through the sequence protocol
        object.__setattr__(self, "_results", results)

    @property
    def status(self) -> RunStatus:  # type: ignore[override]
        """FAILED if any item failed, else COMPLETED (a Daft map never pauses)."""
        results = self.results
        if isinstance(results, ColumnarResults):
            return RunStatus.FAILED if results.failures else RunStatus.COMPLETED
        return super().status

    @property
    def failures(self) -> list[RunResult]:
        """The items that failed, in index order."""
        results = self.results
        if isinstance(results, ColumnarResults):
            return [results[i] for i in sorted(results.failures)]
        return super().failures

    @overload
    def __getitem__(self, key: int) -> RunResult: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[RunResult, ...]: ...
    @overload
    def __getitem__(self, key: str) -> list[Any]: ...
    def __getitem__(self, key: int | slice | str) -> Any:
        results = self.results
        if isinstance(key, str) and isinstance(results, ColumnarResults):
            return results.column(key)
        return super().__getitem__(key)

    def get(self, name: str, default: Any = None) -> list[Any]:
        """One output across items, ``default`` where an item lacks it."""
        results = self.results
        if isinstance(results, ColumnarResults):
            return results.column(name, default)
        return super().get(name, default)


def columnar_map_result(
    results: ColumnarResults,
    run_id: str,
    duration_ms: float,
    map_over: tuple[str, ...],
    map_mode: str,
    graph_name: str | None,
) -> MapResult:
    """The MapResult of a columnar map."""
    rows: Any = results  # read through the sequence protocol, like the tuple it stands for
    return ColumnarMapResult(rows, run_id, duration_ms, map_over, map_mode, graph_name=graph_name)
