"""What runs return: RunResult, MapResult, RunStatus, PauseInfo."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Sequence, ValuesView
from enum import Enum
from typing import Any, Literal, overload

import attrs

__all__ = [
    "ErrorHandling",
    "MapMode",
    "OnMissing",
    "MapResult",
    "OutputValues",
    "PauseInfo",
    "PauseReason",
    "RunResult",
    "RunStatus",
]

ErrorHandling = Literal["raise", "continue"]
"""``"raise"`` re-raises a node's own exception; ``"continue"`` returns a FAILED result."""

OnMissing = Literal["ignore", "warn", "error"]
"""What ``run()`` does when a selected output was not produced."""

MapMode = Literal["zip", "product"]
"""How ``map()`` combines several ``map_over`` inputs: element-wise, or every combination."""


class RunStatus(str, Enum):
    """Outcome of a run; compares equal to its string value (``status == "completed"``)."""

    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"
    # ended by cancellation or a signal (KeyboardInterrupt, SystemExit), not by a node error
    STOPPED = "stopped"

    def __str__(self) -> str:
        return f"RunStatus.{self.name}"


class PauseReason(str, Enum):
    """Why a run paused."""

    HUMAN_INPUT = "human_input"

    def __str__(self) -> str:
        return f"PauseReason.{self.name}"


@attrs.frozen
class PauseInfo:
    """Where a run paused for a human answer and how to resume it (SPEC HI4, HI6)."""

    node_name: str
    output_param: str
    value: Any = None
    output_params: tuple[str, ...] | None = None
    values: dict[str, Any] | None = None
    reason: PauseReason = PauseReason.HUMAN_INPUT

    @property
    def response_key(self) -> str:
        """The key that answers this pause in ``values`` (``"review.decision"`` when nested)."""
        return self._key_for(self.output_param)

    @property
    def response_param(self) -> str:
        """Alias of :attr:`response_key`."""
        return self.response_key

    @property
    def response_keys(self) -> dict[str, str]:
        """Resume key of every output of the interrupt."""
        outputs = self.output_params or (self.output_param,)
        return {name: self._key_for(name) for name in outputs}

    def _key_for(self, output: str) -> str:
        path = self.node_name.split("/")[:-1]
        return ".".join([*path, output])


class _StatusFlags:
    """``completed`` / ``failed`` / ``paused`` read off a ``status`` attribute."""

    __slots__ = ()
    status: RunStatus

    @property
    def completed(self) -> bool:
        return self.status is RunStatus.COMPLETED

    @property
    def failed(self) -> bool:
        return self.status is RunStatus.FAILED

    @property
    def paused(self) -> bool:
        return self.status is RunStatus.PAUSED


class OutputValues(dict):  # type: ignore[type-arg]
    """A run's outputs: a dict that can also be *called* (``result.values()``), as some docs do."""

    def __call__(self) -> ValuesView[Any]:
        return dict.values(self)


def _output_values(values: Any) -> OutputValues:
    """``values`` as OutputValues; one built by the runtime is taken as it is, not copied."""
    return values if type(values) is OutputValues else OutputValues(values)


@attrs.frozen(eq=False)
class RunResult(_StatusFlags):
    """Outputs and outcome of one run. Dict-like over its output values."""

    values: OutputValues = attrs.field(converter=_output_values)
    status: RunStatus
    run_id: str
    graph_name: str | None = None
    workflow_id: str | None = None
    session_id: str | None = None
    span_id: str | None = None
    error: BaseException | None = None
    pause: PauseInfo | None = None
    # the run's restorable state, or a function computing it on first access
    _checkpoint: Any = attrs.field(default=None, repr=False, alias="checkpoint")

    @property
    def checkpoint(self) -> Any:
        """The run's restorable ``RunSnapshot``: ``run(graph, answers, checkpoint=...)`` continues
        from it (R2-4). ``None`` for map items and nested runs that completed."""
        value = self._checkpoint
        if callable(value):
            value = value()
            object.__setattr__(self, "_checkpoint", value)
        return value

    def __getitem__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            available = ", ".join(map(repr, self.values)) or "(none)"
            detail = f" The run failed: {self.error!r}." if self.error is not None else ""
            raise KeyError(f"{key!r} is not in the result. Available outputs: {available}.{detail}") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def keys(self) -> KeysView[str]:
        return self.values.keys()

    def items(self) -> ItemsView[str, Any]:
        return self.values.items()

    def __repr__(self) -> str:
        extra = f", error={self.error!r}" if self.error is not None else ""
        extra += f", pause={self.pause!r}" if self.pause is not None else ""
        return f"RunResult(status={self.status.value!r}, values={dict(self.values)!r}{extra})"


class ItemColumns:
    """Map items kept as columns: one list per output, ids derived from the map's (no per-item
    objects). ``explicit`` holds the items that are full ``RunResult`` values (failures)."""

    __slots__ = ("columns", "count", "explicit", "graph_name", "names", "run_bits", "session_id",
                 "span_bits", "workflow_id")

    def __init__(
        self,
        names: tuple[str, ...],
        columns: list[list[Any]],
        count: int,
        *,
        run_bits: int,
        span_bits: int,
        graph_name: str | None,
        workflow_id: str | None,
        session_id: str | None,
    ) -> None:
        self.names = names
        self.columns = columns
        self.count = count
        self.explicit: dict[int, RunResult] = {}
        self.run_bits = run_bits
        self.span_bits = span_bits
        self.graph_name = graph_name
        self.workflow_id = workflow_id
        self.session_id = session_id

    def ids(self, index: int) -> tuple[str, str]:
        """Item ``index``'s run id and span id: the map's random bits plus the index."""
        run = (self.run_bits + index + 1) & 0xFFFFFFFFFFFF
        span = (self.span_bits + index + 1) & 0xFFFFFFFFFFFFFFFF
        return f"run-{run:012x}", f"{span:016x}"

    def build(self, index: int) -> RunResult:
        """Item ``index`` as the ``RunResult`` the generic loop would have returned."""
        explicit = self.explicit.get(index)
        if explicit is not None:
            return explicit
        values = {}
        for name, column in zip(self.names, self.columns, strict=True):
            value = column[index]
            if value is not _MISSING:
                values[name] = value
        run_id, span_id = self.ids(index)
        return RunResult(
            values, RunStatus.COMPLETED, run_id, graph_name=self.graph_name,
            workflow_id=self.workflow_id, session_id=self.session_id, span_id=span_id,
        )

    def column(self, name: str, default: Any) -> list[Any]:
        """Output ``name`` across items, ``default`` where an item lacks it."""
        explicit = self.explicit
        if name in self.names:
            column = self.columns[self.names.index(name)]
            out = [default if v is _MISSING else v for v in column]
        else:
            out = [default] * self.count
        for index, result in explicit.items():
            out[index] = result.values.get(name, default)
        return out


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()


class MapResult(_StatusFlags, Sequence[RunResult]):
    """Per-item results of ``map()`` plus batch metadata; a read-only sequence.

    ``result["name"]`` collects one output across items (``None`` where an item lacks it).
    Items run on the compiled path are stored as columns and become ``RunResult`` values only
    when accessed.
    """

    __slots__ = ("_built", "_columns", "_results", "graph_name", "map_mode", "map_over", "run_id",
                 "total_duration_ms")
    _built: dict[int, RunResult] | None
    _columns: ItemColumns | None
    _results: tuple[RunResult, ...] | None
    run_id: str | None
    total_duration_ms: float
    map_over: tuple[str, ...]
    map_mode: str
    graph_name: str | None

    def __init__(
        self,
        results: tuple[RunResult, ...] | ItemColumns,
        run_id: str | None,
        total_duration_ms: float,
        map_over: tuple[str, ...],
        map_mode: str,
        graph_name: str | None = None,
    ) -> None:
        setattr_ = object.__setattr__
        if isinstance(results, ItemColumns):
            setattr_(self, "_columns", results)
            setattr_(self, "_results", None)
        else:
            setattr_(self, "_columns", None)
            setattr_(self, "_results", tuple(results))
        setattr_(self, "_built", None)
        setattr_(self, "run_id", run_id)
        setattr_(self, "total_duration_ms", total_duration_ms)
        setattr_(self, "map_over", map_over)
        setattr_(self, "map_mode", map_mode)
        setattr_(self, "graph_name", graph_name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise attrs.exceptions.FrozenInstanceError()

    def __delattr__(self, name: str) -> None:
        raise attrs.exceptions.FrozenInstanceError()

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled (and copied) with its items as RunResult values
        return (
            MapResult,
            (self.results, self.run_id, self.total_duration_ms, self.map_over, self.map_mode,
             self.graph_name),
        )

    @property
    def results(self) -> tuple[RunResult, ...]:
        """Every item's ``RunResult``, in item order."""
        results = self._results
        if results is None:
            results = tuple(self._item(i) for i in range(len(self)))
            object.__setattr__(self, "_results", results)
        return results

    def _item(self, index: int) -> RunResult:
        results = self._results
        if results is not None:
            return results[index]
        built = self._built
        if built is None:
            built = {}
            object.__setattr__(self, "_built", built)
        item = built.get(index)
        if item is None:
            item = built[index] = self._columns.build(index)  # type: ignore[union-attr]
        return item

    def _explicit(self) -> list[RunResult] | None:
        """The only items that can be other than COMPLETED, when stored as columns."""
        if self._results is not None:
            return None
        columns = self._columns
        assert columns is not None
        return [columns.explicit[i] for i in sorted(columns.explicit)]

    @property
    def status(self) -> RunStatus:  # type: ignore[override]
        """FAILED if any item failed, else PAUSED if any paused, else COMPLETED (SPEC MP7)."""
        explicit = self._explicit()
        statuses = {r.status for r in (self._results if explicit is None else explicit)}  # type: ignore[union-attr]
        if RunStatus.FAILED in statuses:
            return RunStatus.FAILED
        if RunStatus.PAUSED in statuses:
            return RunStatus.PAUSED
        return RunStatus.COMPLETED

    @property
    def failures(self) -> list[RunResult]:
        """The items that failed."""
        explicit = self._explicit()
        items = self.results if explicit is None else explicit
        return [r for r in items if r.status is RunStatus.FAILED]

    def __len__(self) -> int:
        results = self._results
        if results is not None:
            return len(results)
        return self._columns.count  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[RunResult]:
        if self._results is not None:
            return iter(self._results)
        return (self._item(i) for i in range(len(self)))

    @overload
    def __getitem__(self, key: int) -> RunResult: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[RunResult, ...]: ...
    @overload
    def __getitem__(self, key: str) -> list[Any]: ...
    def __getitem__(self, key: int | slice | str) -> Any:
        if isinstance(key, str):
            return self.get(key)
        results = self._results
        if results is not None:
            return results[key]
        if isinstance(key, slice):
            return tuple(self._item(i) for i in range(len(self))[key])
        count = len(self)
        index = key.__index__()
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("MapResult index out of range")
        return self._item(index)

    def get(self, name: str, default: Any = None) -> list[Any]:
        """One output across items, ``default`` where an item lacks it."""
        results = self._results
        if results is None:
            return self._columns.column(name, default)  # type: ignore[union-attr]
        return [r.values.get(name, default) for r in results]

    def summary(self) -> str:
        """One line: item counts by status and the total duration."""
        explicit = self._explicit()
        if explicit is None:
            counts = {s: sum(1 for r in self.results if r.status is s) for s in RunStatus}
        else:
            counts = {s: sum(1 for r in explicit if r.status is s) for s in RunStatus}
            counts[RunStatus.COMPLETED] += len(self) - len(explicit)
        parts = [f"{n} {s.value}" for s, n in counts.items() if n]
        return f"{len(self)} items ({', '.join(parts) or 'none'}) in {self.total_duration_ms:.1f} ms"

    def __repr__(self) -> str:
        return f"MapResult({self.summary()}, status={self.status.value!r})"
