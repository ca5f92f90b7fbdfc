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


@attrs.frozen(eq=False)
class RunResult(_StatusFlags):
    """Outputs and outcome of one run. Dict-like over its output values."""

    values: OutputValues = attrs.field(converter=OutputValues)
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
    # a map item (or nested run) returned from a checkpointer without running again (CP8)
    restored: bool = False
    # nodes a resume ran again although they had completed, with the reason (code changed)
    rerun: dict[str, str] = attrs.field(factory=dict, repr=False)

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


@attrs.frozen(eq=False)
class MapResult(_StatusFlags, Sequence[RunResult]):
    """Per-item results of ``map()`` plus batch metadata; a read-only sequence.

    ``result["name"]`` collects one output across items (``None`` where an item lacks it).
    """

    results: tuple[RunResult, ...]
    run_id: str | None
    total_duration_ms: float
    map_over: tuple[str, ...]
    map_mode: str
    graph_name: str | None = None

    @property
    def status(self) -> RunStatus:  # type: ignore[override]
        """FAILED if any item failed, else PAUSED if any paused, else COMPLETED (SPEC MP7)."""
        statuses = {r.status for r in self.results}
        if RunStatus.FAILED in statuses:
            return RunStatus.FAILED
        if RunStatus.PAUSED in statuses:
            return RunStatus.PAUSED
        return RunStatus.COMPLETED

    @property
    def failures(self) -> list[RunResult]:
        """The items that failed."""
        return [r for r in self.results if r.status is RunStatus.FAILED]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[RunResult]:
        return iter(self.results)

    @overload
    def __getitem__(self, key: int) -> RunResult: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[RunResult, ...]: ...
    @overload
    def __getitem__(self, key: str) -> list[Any]: ...
    def __getitem__(self, key: int | slice | str) -> Any:
        if isinstance(key, str):
            return [r.values.get(key) for r in self.results]
        return self.results[key]

    def get(self, name: str, default: Any = None) -> list[Any]:
        """One output across items, ``default`` where an item lacks it."""
        return [r.values.get(name, default) for r in self.results]

    def summary(self) -> str:
        """One line: item counts by status and the total duration."""
        counts = {s: sum(1 for r in self.results if r.status is s) for s in RunStatus}
        parts = [f"{n} {s.value}" for s, n in counts.items() if n]
        return (
            f"{len(self.results)} items ({', '.join(parts) or 'none'}) in "
            f"{self.total_duration_ms:.1f} ms"
        )

    def __repr__(self) -> str:
        return f"MapResult({self.summary()}, status={self.status.value!r})"
