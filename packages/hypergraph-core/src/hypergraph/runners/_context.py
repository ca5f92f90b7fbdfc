"""Per-run bookkeeping shared by runners: ids, spans, timing and the run's event emitter."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

from hypergraph.events._emitter import Emitter
from hypergraph.runners._graph_node import NestedProcessor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hypergraph.events.processor import EventProcessor
    from hypergraph.runtime._identity import RunIdentity

__all__ = ["RunInfo", "make_emitter", "new_run_id", "nested_processors"]


# Run and span ids need uniqueness, not secrecy: a PRNG seeded from the OS (and reseeded in
# forked children) costs ~0.1 µs where os.urandom costs a system call per run.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def new_run_id() -> str:
    """``"run-"`` followed by 12 hex digits."""
    return f"run-{_ids.getrandbits(48):012x}"


def new_ids() -> tuple[str, str]:
    """A fresh run id and span id."""
    bits = f"{_ids.getrandbits(112):028x}"
    return "run-" + bits[:12], bits[12:]


def id_bits() -> tuple[int, int]:
    """Random bits a map derives its items' run and span ids from (48 and 64 bits)."""
    return _ids.getrandbits(48), _ids.getrandbits(64)


def make_emitter(processors: Sequence[EventProcessor] | None) -> Emitter | None:
    """An emitter for these processors, or ``None`` so that no event is ever built."""
    if not processors:
        return None
    return Emitter(list(processors))


def nested_processors(emitter: Emitter | None) -> list[EventProcessor] | None:
    """The caller's processors for a child run on another runner, without their shutdown."""
    if emitter is None:
        return None
    return [NestedProcessor(p) for p in emitter.processors]


class RunInfo:
    """Identity and options of one run (or one map item)."""

    __slots__ = (
        "_identity",
        "emitter",
        "error_handling",
        "graph_name",
        "item_index",
        "max_iterations",
        "on_missing",
        "parent_span_id",
        "path",
        "run_id",
        "session_id",
        "span_id",
        "workflow_id",
    )

    def __init__(
        self,
        *,
        graph_name: str | None,
        emitter: Emitter | None,
        max_iterations: float,
        error_handling: str,
        on_missing: str,
        parent_span_id: str | None = None,
        workflow_id: str | None = None,
        session_id: str | None = None,
        item_index: int | None = None,
        path: tuple[str, ...] = (),
    ) -> None:
        self.graph_name = graph_name
        self.emitter = emitter
        self.max_iterations = max_iterations
        self.error_handling = error_handling
        self.on_missing = on_missing
        self.parent_span_id = parent_span_id
        self.workflow_id = workflow_id
        self.session_id = session_id
        self.item_index = item_index
        self.path = path
        self._identity: RunIdentity | None = None
        self.run_id, self.span_id = new_ids()

    def item(self, index: int) -> RunInfo:
        """The info of item ``index`` of the map this info describes (its span is the parent)."""
        return RunInfo(
            graph_name=self.graph_name, emitter=self.emitter, max_iterations=self.max_iterations,
            error_handling=self.error_handling, on_missing=self.on_missing,
            parent_span_id=self.span_id, workflow_id=self.workflow_id,
            session_id=self.session_id, item_index=index, path=(*self.path, str(index)),
        )

    def child(
        self,
        graph_name: str | None,
        parent_span_id: str,
        error_handling: str = "raise",
        segment: str = "",
    ) -> RunInfo:
        """The info of a nested run (or nested map) started by graph node ``segment``."""
        return RunInfo(
            graph_name=graph_name, emitter=self.emitter, max_iterations=self.max_iterations,
            error_handling=error_handling, on_missing="ignore", parent_span_id=parent_span_id,
            workflow_id=self.workflow_id, session_id=self.session_id,
            path=(*self.path, segment) if segment else self.path,
        )

    @property
    def identity(self) -> RunIdentity:
        """This run's identity value, without the live resources (emitter, options)."""
        identity = self._identity
        if identity is None:
            from hypergraph.runtime._identity import RunIdentity

            identity = self._identity = RunIdentity(
                self.run_id, self.workflow_id, self.path, self.item_index
            )
        return identity
