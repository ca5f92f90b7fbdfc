"""Building blocks for runners: the steps every runner shares, so plugins never fork them.

SyncRunner and AsyncRunner are written with these, and a third-party runner can be too: option
checks, input normalization, structural validation, per-run ids and events, nested graph
nodes, interrupts, and result assembly. The scheduling itself is :mod:`hypergraph.engine`.
"""

from __future__ import annotations

import warnings
from time import perf_counter
from typing import TYPE_CHECKING, Any

from hypergraph._notes import add_node_note
from hypergraph.engine.execution import resolve_decision
from hypergraph.exceptions import GraphConfigError
from hypergraph.nodes.gates import END
from hypergraph.plan import GRAPH
from hypergraph.results import PauseInfo, RunResult, RunStatus
from hypergraph.runners._checks import (
    check_graph_argument,
    check_map_over_names,
    warn_inner_bind_overrides,
)
from hypergraph.runners._context import RunInfo, make_emitter, nested_processors, new_run_id
from hypergraph.runners._graph_node import (
    NestedProcessor,
    PauseSignal,
    child_values,
    mapped_outputs,
    single_outputs,
)
from hypergraph.runners._map import expand_items, normalize_map_over
from hypergraph.runners._options import (
    UNSET,
    PartitionedValues,
    check_common_options,
    check_defaults_copyable,
    check_keywords,
    check_missing,
    check_structure,
    check_structure_cached,
    merge_values,
    partition_values,
    user_stacklevel,
    value_roles,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from hypergraph.cache import CacheLookup
    from hypergraph.engine import NodeOutcome
    from hypergraph.events.processor import EventProcessor
    from hypergraph.graph import Graph
    from hypergraph.nodes.graph_node import GraphNode
    from hypergraph.plan import NodePlan
    from hypergraph.runners.base import BaseRunner

__all__ = [
    "MAP_OPTIONS",
    "RUN_OPTIONS",
    "UNSET",
    "NestedProcessor",
    "PartitionedValues",
    "PauseSignal",
    "RunInfo",
    "aggregate_status",
    "cached_outcome",
    "check_common_options",
    "check_defaults_copyable",
    "check_keywords",
    "check_lineage_options",
    "check_missing",
    "check_selected_present",
    "check_structure",
    "check_structure_cached",
    "child_outputs",
    "child_values",
    "decision_label",
    "elapsed_ms",
    "error_text",
    "expand_items",
    "failed_before_start",
    "foreign_child_call",
    "interrupt_outputs",
    "make_emitter",
    "mapped_outputs",
    "merge_values",
    "note_node_failure",
    "nested_processors",
    "nested_map_items",
    "new_run_id",
    "normalize_map_over",
    "partition_values",
    "pause_info",
    "prepare_map",
    "prepare_run",
    "prepare_values",
    "refuse_unread_options",
    "reject_checkpointer",
    "reject_interrupts_in_map",
    "run_result",
    "single_outputs",
    "user_stacklevel",
]

RUN_OPTIONS = (
    "select", "on_missing", "on_internal_override", "entrypoint", "max_iterations",
    "error_handling", "event_processors", "parent_span_id", "checkpoint", "workflow_id",
    "override_workflow", "fork_from", "retry_from", "session_id",
)
"""Keyword-only options of ``run()`` common to all runners (reserved as input keywords)."""

MAP_OPTIONS = (
    "map_over", "map_mode", "clone", "select", "on_missing", "on_internal_override",
    "entrypoint", "error_handling", "event_processors", "parent_span_id", "workflow_id",
    "session_id",
)
"""Keyword-only options of ``map()`` common to all runners (reserved as input keywords)."""


def prepare_values(graph: Graph, values: dict[str, Any]) -> PartitionedValues:
    """One run's (or map item's) values, sorted by role and checked: X13, X17, X12."""
    try:
        inputs, required, uncopyable = graph.__dict__["_plain_values"]
    except KeyError:
        roles = value_roles(graph)
        plain = None if roles[2] else (
            roles[0], graph.inputs.required, tuple(p for _, p in graph.plan.uncopyable)
        )
        graph.__dict__["_plain_values"] = plain
        inputs, required, uncopyable = plain or (None, (), ())
    except TypeError:  # cached as None: the graph has dotted bound values
        inputs = None
    if (
        inputs is not None and values and inputs.issuperset(values)
        and all(name in values for name in required)
        and all(param in values for param in uncopyable)
    ):
        # the common case, checked in one place: every key an input, nothing missing
        parts = PartitionedValues()
        parts.provided = dict(values)
        return parts
    parts = partition_values(graph, values)
    check_missing(graph, parts)
    check_defaults_copyable(graph, parts)
    return parts


def note_node_failure(
    exc: BaseException, np: NodePlan, kwargs: Mapping[str, Any], superstep: int, info: RunInfo
) -> None:
    """Add the PEP 678 note naming the failed node, its graph path, superstep and inputs.

    Runners call it on the failure path only; pauses and cancellations get no note.
    """
    if isinstance(exc, Exception) and not isinstance(exc, PauseSignal):
        add_node_note(
            exc, np.name, info.graph_name, superstep, kwargs, info.item_index,
            nested=np.kind == GRAPH,
        )


def prepare_run(
    runner: BaseRunner,
    graph: Graph,
    values: Mapping[str, Any] | None,
    input_values: dict[str, Any],
    *,
    run_options: tuple[str, ...] = RUN_OPTIONS,
    map_options: tuple[str, ...] = MAP_OPTIONS,
    select: Any = UNSET,
    entrypoint: Any = None,
    on_missing: str = "ignore",
    error_handling: str = "raise",
    max_iterations: float | None = None,
    event_processors: Sequence[EventProcessor] | None = None,
    parent_span_id: str | None = None,
    workflow_id: str | None = None,
    session_id: str | None = None,
    fork_from: str | None = None,
    retry_from: str | None = None,
    checkpoint: Any = None,
) -> tuple[PartitionedValues, RunInfo]:
    """Everything ``run()`` does before the first event, in SPEC X16's order.

    Options default to ``run()``'s defaults, so a runner passes on only what it was given.
    """
    check_graph_argument(graph, "run")
    check_common_options(
        select=select, entrypoint=entrypoint, on_missing=on_missing,
        error_handling=error_handling, max_iterations=max_iterations,
    )
    check_lineage_options(workflow_id, fork_from, retry_from, checkpoint)
    merged = merge_values(
        graph, values, input_values, method="run", own_options=run_options,
        other_method="map", other_options=map_options,
    )
    if checkpoint is not None:
        merged = resume_values(graph, checkpoint, merged)
    check_keywords(graph, input_values, run_options)
    check_structure_cached(runner, graph)
    warn_inner_bind_overrides(graph, merged)
    parts = prepare_values(graph, merged)
    info = RunInfo(
        graph_name=graph.name, emitter=make_emitter(event_processors),
        max_iterations=max_iterations or runner.default_max_iterations,
        error_handling=error_handling, on_missing=on_missing, parent_span_id=parent_span_id,
        workflow_id=workflow_id, session_id=session_id,
    )
    if info.emitter is not None:
        info.emitter.run_id = info.run_id  # shutdown_run(run_id) at the end (EV5)
    return parts, info


def prepare_map(
    runner: BaseRunner,
    graph: Graph,
    values: Mapping[str, Any] | None,
    input_values: dict[str, Any],
    *,
    map_over: str | Sequence[str],
    run_options: tuple[str, ...] = RUN_OPTIONS,
    map_options: tuple[str, ...] = MAP_OPTIONS,
    map_mode: str = "zip",
    clone: bool | Sequence[str] = False,
    select: Any = UNSET,
    entrypoint: Any = None,
    on_missing: str = "ignore",
    error_handling: str = "raise",
    event_processors: Sequence[EventProcessor] | None = None,
    parent_span_id: str | None = None,
    workflow_id: str | None = None,
    session_id: str | None = None,
) -> tuple[list[dict[str, Any]], tuple[str, ...], RunInfo]:
    """Everything ``map()`` does before the first event: the items, map_over names, map info.

    Options other than ``map_over`` default to ``map()``'s defaults.
    """
    check_graph_argument(graph, "map")
    check_common_options(
        select=select, entrypoint=entrypoint, on_missing=on_missing,
        error_handling=error_handling,
    )
    check_lineage_options(workflow_id, None, None, None)
    names = normalize_map_over(map_over)
    merged = merge_values(
        graph, values, input_values, method="map", own_options=map_options,
        other_method="run", other_options=run_options,
    )
    check_keywords(graph, input_values, map_options)
    check_structure_cached(runner, graph)
    reject_interrupts_in_map(graph)
    check_map_over_names(graph, names)
    warn_inner_bind_overrides(graph, merged)
    items = expand_items(merged, names, map_mode, clone)
    info = RunInfo(
        graph_name=graph.name, emitter=make_emitter(event_processors),
        max_iterations=runner.default_max_iterations, error_handling=error_handling,
        on_missing=on_missing, parent_span_id=parent_span_id, workflow_id=workflow_id,
        session_id=session_id,
    )
    if info.emitter is not None:
        info.emitter.run_id = info.run_id
    return items, names, info


def reject_checkpointer(checkpointer: Any) -> None:
    """Persistence is not part of this release: say so at construction, not mid-run."""
    if checkpointer is not None:
        raise NotImplementedError(
            "Checkpointing is not available in this release of hypergraph; run without "
            "checkpointer= (workflow_id is still echoed on results)."
        )


def check_lineage_options(
    workflow_id: str | None, fork_from: str | None, retry_from: str | None, checkpoint: Any
) -> None:
    """ER9, CP2: '/' is reserved in workflow ids; fork/retry need a checkpointer."""
    if workflow_id is not None and "/" in workflow_id:
        raise ValueError(
            f"workflow_id {workflow_id!r} contains '/', which is reserved for child runs "
            "('<parent>/<child>'). Use another separator."
        )
    for name, value in (("fork_from", fork_from), ("retry_from", retry_from)):
        if value is not None:
            raise ValueError(
                f"{name}= needs a checkpointer: create the runner with checkpointer=... to fork "
                "or retry persisted runs."
            )


def refuse_unread_options(on_internal_override: Any, override_workflow: bool = False) -> None:
    """Options the docs name but this release does not act on fail loudly, never silently."""
    if on_internal_override not in (None, "error"):
        raise ValueError(
            f"on_internal_override={on_internal_override!r} is not supported: a value given for "
            "an output that a node of the graph produces is always refused (the 'error' "
            "behaviour, SPEC X13). Slice the graph with with_entrypoint(...) to start from that "
            "value instead."
        )
    if override_workflow:
        raise ValueError(
            "override_workflow=True needs a checkpointer holding the workflow to fork; create the "
            "runner with checkpointer=... (or pass a new workflow_id)."
        )


def resume_values(graph: Graph, checkpoint: Any, given: dict[str, Any]) -> dict[str, Any]:
    """R2-4: a run continued from ``checkpoint`` keeps the inputs it was started with.

    Values given now are added (answers) or override restored inputs (a fork).
    """
    from hypergraph.runtime._snapshot import RunSnapshot, check_compatible

    if not isinstance(checkpoint, RunSnapshot):
        raise TypeError(
            f"checkpoint= takes a RunSnapshot (a RunResult's .checkpoint), got "
            f"{type(checkpoint).__name__}."
        )
    check_compatible(checkpoint, graph)
    return {**checkpoint.inputs, **given}


def reject_interrupts_in_map(graph: Graph) -> None:
    """MP10: map() cannot pause per item."""
    if graph.has_interrupts:
        raise GraphConfigError(
            f"Graph {graph.name or '(unnamed)'} contains interrupts, and map() cannot pause for "
            "human input per item. Call run() for each item instead and handle result.pause."
        )


def check_selected_present(graph: Graph, values: dict[str, Any], on_missing: str) -> None:
    """X22: selected outputs absent from the final state warn or fail, per ``on_missing``."""
    selected = graph.selected
    if not selected:
        return
    missing = [name for name in selected if name not in values]
    if not missing:
        return
    listed = ", ".join(map(repr, missing))
    if on_missing == "warn":
        warnings.warn(
            f"Selected outputs were not produced: {listed}", UserWarning,
            stacklevel=user_stacklevel(),
        )
    else:
        raise ValueError(
            f"Selected outputs were not produced: {listed}. The nodes producing them did not run "
            "(not routed to, or their inputs never appeared)."
        )


def decision_label(np: NodePlan, decision: Any) -> Any:
    """A gate's decision as users think of it: a target name, END, a list, or None (GT13)."""
    if decision is END:
        return END
    gate_plan = np.gate_plan
    assert gate_plan is not None
    names = [gate_plan.name_of[i] for i in decision]
    if getattr(np.node, "multi_target", False):
        return names
    return names[0] if names else None


def cached_outcome(np: NodePlan, lookup: CacheLookup) -> NodeOutcome:
    """A cache hit as the engine's outcome: stored outputs, and a gate's decision re-resolved."""
    decision = resolve_decision(np, lookup.decision) if np.gate_plan is not None else None
    return (np, dict(lookup.outputs or {}), decision)


def foreign_child_call(
    runner: Any, gn: GraphNode, values: dict[str, Any], info: RunInfo, parent_span: str
) -> Callable[[], Any]:
    """The public ``run()``/``map()`` call of a nested graph on another runner (R12, R14).

    Returns a zero-argument callable giving the result (or a coroutine, for async runners),
    ready for ``call_from_sync``/``call_from_async``. The caller's processors are forwarded
    without their shutdown (EV5, EV9).
    """
    processors = nested_processors(info.emitter)
    common = {
        "event_processors": processors, "parent_span_id": parent_span,
        "workflow_id": info.workflow_id, "session_id": info.session_id,
    }
    if gn.map_config is None:
        return lambda: runner.run(gn.graph, values, **common)
    params, mode, error_handling = gn.map_config
    return lambda: runner.map(
        gn.graph, values, map_over=[gn.inner_input(p) for p in params], map_mode=mode,
        clone=gn.map_clone, error_handling=error_handling, **common,
    )


def child_outputs(gn: GraphNode, result: Any) -> dict[str, Any]:
    """Outer outputs of a nested run (RunResult) or nested map (MapResult)."""
    if gn.map_config is None:
        return single_outputs(gn, result)
    return mapped_outputs(gn, result)


def nested_map_items(
    gn: GraphNode, values: dict[str, Any]
) -> tuple[tuple[str, ...], str, str, list[dict[str, Any]]]:
    """A mapped graph node's inner map: (map_over names, mode, error handling, items) (MP11)."""
    assert gn.map_config is not None
    params, mode, error_handling = gn.map_config
    names = tuple(gn.inner_input(p) for p in params)
    labels = {gn.inner_input(p): p for p in params}
    return names, mode, error_handling, expand_items(values, names, mode, gn.map_clone, labels)


def pause_info(np: NodePlan, kwargs: dict[str, Any]) -> PauseInfo:
    """HI4: what a pausing interrupt shows the caller (values by graph-facing input name)."""
    by_input = {name: kwargs[param] for name, param in zip(np.inputs, np.params, strict=True)}
    outputs = np.outputs
    return PauseInfo(
        node_name=np.name,
        output_param=outputs[0],
        value=by_input[np.inputs[0]] if np.inputs else None,
        output_params=outputs if len(outputs) > 1 else None,
        values=by_input if len(by_input) > 1 else None,
    )


def interrupt_outputs(np: NodePlan, returned: Any) -> dict[str, Any]:
    """HI2: a handler's non-None return answers the interrupt itself."""
    outputs = np.outputs
    if len(outputs) == 1:
        return {outputs[0]: returned}
    if not isinstance(returned, dict) or set(returned) != set(outputs):
        got = set(returned) if isinstance(returned, dict) else set()
        missing = sorted(set(outputs) - got)
        extra = sorted(got - set(outputs))
        raise ValueError(
            f"Interrupt {np.name!r} has outputs {outputs!r}; its handler must return None (to "
            f"pause) or a dict with exactly those keys. Missing: {missing}; extra: {extra}."
        )
    return {name: returned[name] for name in outputs}


def run_result(
    info: RunInfo,
    values: dict[str, Any],
    status: RunStatus,
    *,
    error: BaseException | None = None,
    pause: PauseInfo | None = None,
) -> RunResult:
    """The RunResult of the run described by ``info``."""
    return RunResult(
        values, status, info.run_id, graph_name=info.graph_name, workflow_id=info.workflow_id,
        session_id=info.session_id, span_id=info.span_id, error=error, pause=pause,
    )


def failed_before_start(info: RunInfo, exc: BaseException) -> RunResult:
    """A map item that failed validation (missing input, ...) in continue mode (MP8)."""
    return run_result(info, {}, RunStatus.FAILED, error=exc)


def aggregate_status(results: list[RunResult]) -> RunStatus:
    """MP7: FAILED over PAUSED over COMPLETED."""
    statuses = {r.status for r in results}
    if RunStatus.FAILED in statuses:
        return RunStatus.FAILED
    if RunStatus.PAUSED in statuses:
        return RunStatus.PAUSED
    return RunStatus.COMPLETED


def error_text(exc: BaseException | None) -> str | None:
    """``"<Type>: <message>"`` as events carry it."""
    return None if exc is None else f"{type(exc).__name__}: {exc}"


def elapsed_ms(start: float) -> float:
    """Milliseconds since ``start`` (a ``perf_counter()`` reading)."""
    return (perf_counter() - start) * 1000.0
