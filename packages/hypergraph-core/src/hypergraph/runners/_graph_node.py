"""Running a nested graph node: values in, outputs (or a pause) out. Shared by all runners."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from hypergraph.events.processor import AsyncEventProcessor
from hypergraph.results import MapResult, PauseInfo, RunResult, RunStatus

if TYPE_CHECKING:
    from hypergraph.engine.state import RunState
    from hypergraph.events.processor import EventProcessor
    from hypergraph.events.types import BaseEvent
    from hypergraph.nodes.graph_node import GraphNode

__all__ = [
    "NestedProcessor",
    "PauseSignal",
    "child_values",
    "mapped_outputs",
    "single_outputs",
]


class PauseSignal(Exception):
    """Raised inside a runner when a node (or a nested run) paused; never escapes ``run()``."""

    def __init__(self, pause: PauseInfo) -> None:
        super().__init__(pause.node_name)
        self.pause = pause


def child_values(gn: GraphNode, kwargs: dict[str, Any], state: RunState) -> dict[str, Any]:
    """Inputs of the inner run: collected ports, values addressed to ``gn`` by dotted keys, and
    interrupt answers for it (handed over once: a later visit asks again, HI2)."""
    scoped = state.scoped.get(gn.name) if state.scoped else None
    answers = state.nested_answers.pop(gn.name, None) if state.nested_answers else None
    if not scoped and not answers:
        return kwargs
    values = dict(kwargs)
    if scoped:
        values.update(scoped)
    if answers:
        values.update(answers)
    return values


def single_outputs(gn: GraphNode, result: RunResult) -> dict[str, Any]:
    """Outer outputs of a finished inner run; raises its error or pause into the parent."""
    if result.status is RunStatus.PAUSED and result.pause is not None:
        pause = result.pause
        raise PauseSignal(attrs.evolve(pause, node_name=f"{gn.name}/{pause.node_name}"))
    if result.status is RunStatus.FAILED and result.error is not None:
        raise result.error
    values = result.values
    return {port: values[inner] for port, inner in gn._output_of.items() if inner in values}


def mapped_outputs(gn: GraphNode, result: MapResult) -> dict[str, Any]:
    """One list per output, aligned with the items; ``None`` for failed or missing (MP11)."""
    outputs: dict[str, Any] = {}
    for port, inner in gn._output_of.items():
        outputs[port] = [
            r.values.get(inner) if r.status is RunStatus.COMPLETED else None for r in result.results
        ]
    return outputs


class NestedProcessor(AsyncEventProcessor):
    """Forwards events to a parent's processor but leaves shutdown to the top-level run (EV5)."""

    def __init__(self, inner: EventProcessor) -> None:
        self.inner = inner

    def on_event(self, event: BaseEvent) -> None:
        self.inner.on_event(event)

    async def on_event_async(self, event: BaseEvent) -> None:
        if isinstance(self.inner, AsyncEventProcessor):
            await self.inner.on_event_async(event)
        else:
            self.inner.on_event(event)

    def shutdown(self) -> None:
        """Nested runs never shut the caller's processors down."""

    def shutdown_run(self, run_id: str) -> None:
        """Nested runs never shut the caller's processors down."""

    async def shutdown_async(self) -> None:
        """Nested runs never shut the caller's processors down."""

    async def shutdown_run_async(self, run_id: str) -> None:
        """Nested runs never shut the caller's processors down."""
