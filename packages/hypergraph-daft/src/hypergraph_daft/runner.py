"""DaftRunner: a DAG becomes a chain of Daft UDF columns, executed as one columnar plan.

``run()`` is a one-row plan, ``map()`` packs every item into one DataFrame and collects once,
``map_dataframe()`` runs one item per row of a DataFrame the caller already has, and
``to_dataframe()`` hands back the unexecuted DataFrame for further Daft operations.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, ClassVar

try:
    import daft
    from daft import col
except ImportError as exc:  # SPEC DF1: say what to install, not just which module is missing
    raise ImportError(
        "DaftRunner needs the 'daft' package, which is not installed. Install it with "
        '`pip install hypergraph-daft` (or `pip install "hypergraph-core[daft]"`).'
    ) from exc

from hypergraph import (
    FunctionNode,
    GraphNode,
    MapResult,
    RunnerCapabilities,
    RunResult,
    RunStatus,
)
from hypergraph.stateful import is_stateful
from hypergraph_daft._compile import Column, Program, compile_graph, constant, validate_for_daft
from hypergraph_daft._core import (
    MAP_OPTIONS,
    RUN_OPTIONS,
    UNSET,
    BaseRunner,
    NodeCache,
    check_common_options,
    check_keywords,
    check_lineage_options,
    check_structure_cached,
    expand_items,
    merge_values,
    new_run_id,
    normalize_map_over,
    prepare_values,
    reject_interrupts_in_map,
    user_stacklevel,
)
from hypergraph_daft._results import ColumnarResults, columnar_map_result
from hypergraph_daft._rows import WorkerCache
from hypergraph_daft._udfs import ROW, Failure, column_of, step_expression
from hypergraph_daft.plugin import DAFT_CAPABILITIES

if TYPE_CHECKING:
    from hypergraph import CacheBackend, EventProcessor, Graph

__all__ = ["DaftRunner"]


class DaftRunner(BaseRunner):
    """Runs DAGs (no cycles, gates or interrupts) as Daft UDFs, on the native or the Ray runner.

    Which Daft runner executes the plan is Daft's process-wide choice: call
    ``daft.set_runner_ray(address=...)`` once before running to use a Ray cluster.
    """

    supported_node_types: ClassVar[frozenset[type]] = frozenset({FunctionNode, GraphNode})

    def __init__(self, *, cache: CacheBackend | None = None) -> None:
        self.cache = cache
        self._worker_cache = WorkerCache(NodeCache(cache)) if cache is not None else None

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Cycles, gates and interrupts are refused; async nodes and Ray are supported."""
        return DAFT_CAPABILITIES

    # -- run -----------------------------------------------------------------------------
    def run(
        self,
        graph: Graph,
        values: Mapping[str, Any] | None = None,
        *,
        select: Any = UNSET,
        on_missing: str = "ignore",
        on_internal_override: str | None = None,
        entrypoint: str | None = None,
        max_iterations: float | None = None,
        error_handling: str = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        checkpoint: Any = None,
        workflow_id: str | None = None,
        override_workflow: bool = False,
        fork_from: str | None = None,
        retry_from: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> RunResult:
        """Execute ``graph`` once, as a one-row Daft plan (SPEC DF3)."""
        _warn_processors(event_processors)
        check_common_options(
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, max_iterations=max_iterations,
        )
        check_lineage_options(workflow_id, fork_from, retry_from, checkpoint)
        merged = merge_values(
            graph, values, input_values, method="run", own_options=RUN_OPTIONS,
            other_method="map", other_options=MAP_OPTIONS,
        )
        check_keywords(graph, input_values)
        self._check(graph)
        parts = prepare_values(graph, merged)
        # one-row columns, except @stateful resources: those are rebuilt on the worker
        env: dict[str, Any] = {}
        data: dict[str, list[Any]] = {}
        for name, value in parts.provided.items():
            if is_stateful(value):
                env[name] = constant(value)
            else:
                env[name] = Column(name)
                data[name] = [value]
        program = compile_graph(graph, env, parts.scoped)
        identity = (graph.name, workflow_id, session_id)
        try:
            columns, failures, _ = _execute(program, data, 1, self._worker_cache)
        except Exception as exc:
            if error_handling == "raise":
                raise
            return _result({}, RunStatus.FAILED, identity, error=exc)
        if failures:
            error = failures[0]
            if error_handling == "raise":
                raise error
            return _result({}, RunStatus.FAILED, identity, error=error)
        return _result({k: v[0] for k, v in columns.items()}, RunStatus.COMPLETED, identity)

    # -- map -----------------------------------------------------------------------------
    def map(
        self,
        graph: Graph,
        values: Mapping[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: str = "zip",
        clone: bool | Sequence[str] = False,
        select: Any = UNSET,
        on_missing: str = "ignore",
        on_internal_override: str | None = None,
        entrypoint: str | None = None,
        error_handling: str = "raise",
        event_processors: Sequence[EventProcessor] | None = None,
        parent_span_id: str | None = None,
        workflow_id: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> MapResult:
        """Execute ``graph`` once per item, all items in one DataFrame and one collect (DF5)."""
        start = perf_counter()
        if "max_iterations" in input_values:
            raise ValueError(
                "max_iterations is not a map() option: DaftRunner runs DAGs only, and for a "
                "single run pass it to run()."
            )
        _warn_processors(event_processors)
        check_common_options(
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling,
        )
        check_lineage_options(workflow_id, None, None, None)
        names = normalize_map_over(map_over)
        merged = merge_values(
            graph, values, input_values, method="map", own_options=MAP_OPTIONS,
            other_method="run", other_options=RUN_OPTIONS,
        )
        check_keywords(graph, input_values)
        self._check(graph)
        reject_interrupts_in_map(graph)
        columns = _map_columns(merged, names, map_mode)
        size = len(columns[names[0]])
        identity = (graph.name, workflow_id, session_id)
        if size == 0:
            return _map_result([], names, map_mode, graph, start, empty=True)
        broadcast = {k: v for k, v in merged.items() if k not in columns}
        cloned = _cloned(clone, broadcast)
        try:
            parts = prepare_values(graph, {**broadcast, **{n: c[0] for n, c in columns.items()}})
        except Exception as exc:  # the same keys for every item: every item fails alike
            if error_handling == "raise":
                raise
            failed = [_result({}, RunStatus.FAILED, identity, error=exc) for _ in range(size)]
            return _map_result(failed, names, map_mode, graph, start)
        env: dict[str, Any] = {}
        for name in parts.provided:
            if name in columns:
                env[name] = Column(name)
            else:
                env[name] = constant(broadcast[name], name in cloned)
        program = compile_graph(graph, env, parts.scoped)
        results = self._collect_items(
            program, columns, size, error_handling, identity,
            fallback=lambda i: self.run(
                graph, {**broadcast, **{n: c[i] for n, c in columns.items()}},
                error_handling="continue", workflow_id=workflow_id, session_id=session_id,
            ),
        )
        return _map_result(results, names, map_mode, graph, start)

    def map_dataframe(
        self,
        graph: Graph,
        dataframe: daft.DataFrame,
        *,
        columns: Sequence[str] | Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        select: Any = UNSET,
        on_missing: str = "ignore",
        error_handling: str = "raise",
        clone: bool | Sequence[str] = False,
        event_processors: Sequence[EventProcessor] | None = None,
        workflow_id: str | None = None,
        session_id: str | None = None,
        **input_values: Any,
    ) -> MapResult:
        """Execute ``graph`` once per row of ``dataframe``; its columns are inputs (DF5).

        ``columns`` picks the DataFrame columns to use (a list, or ``{column: input}`` to
        rename); by default every column named like a graph input. ``values`` and keyword
        inputs are broadcast to every row.
        """
        start = perf_counter()
        if not isinstance(dataframe, daft.DataFrame):
            raise TypeError(
                f"map_dataframe() needs a daft.DataFrame, got {type(dataframe).__name__}. Use "
                "map() for lists of values."
            )
        _warn_processors(event_processors)
        check_common_options(
            select=select, entrypoint=None, on_missing=on_missing, error_handling=error_handling
        )
        merged = merge_values(
            graph, values, input_values, method="map", own_options=MAP_OPTIONS,
            other_method="run", other_options=RUN_OPTIONS,
        )
        check_keywords(graph, input_values)
        self._check(graph)
        reject_interrupts_in_map(graph)
        mapping = _dataframe_columns(graph, dataframe, columns)
        overlap = sorted(set(mapping.values()) & set(merged))
        if overlap:
            raise ValueError(
                f"Inputs {overlap!r} are given both as DataFrame columns and as values; pass "
                "each input once (drop it from values=, or from columns=)."
            )
        identity = (graph.name, workflow_id, session_id)
        cloned = _cloned(clone, merged)
        parts = prepare_values(graph, {**merged, **dict.fromkeys(mapping.values())})
        env: dict[str, Any] = {}
        for name in parts.provided:
            if name in mapping.values():
                env[name] = Column(name)
            else:
                env[name] = constant(merged[name], name in cloned)
        program = compile_graph(graph, env, parts.scoped)
        frame = dataframe.select(*(col(c).alias(n) for c, n in mapping.items()))
        rows_in: list[dict[str, Any]] | None = None

        def fallback(i: int) -> RunResult:
            nonlocal rows_in
            if rows_in is None:
                rows_in = frame.to_pylist()
            return self.run(
                graph, {**merged, **rows_in[i]}, error_handling="continue",
                workflow_id=workflow_id, session_id=session_id,
            )

        results = self._collect_items(
            program, frame, None, error_handling, identity, fallback=fallback
        )
        return _map_result(results, tuple(mapping.values()), "zip", graph, start)

    def to_dataframe(
        self,
        graph: Graph,
        values: Mapping[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: str = "zip",
        clone: bool | Sequence[str] = False,
        **input_values: Any,
    ) -> daft.DataFrame:
        """The unexecuted DataFrame of a map: one column per input and per output.

        Nothing runs until the caller collects (or writes) it, so Daft operations can be
        chained first. Node exceptions surface the way Daft reports UDF errors.
        """
        check_common_options(select=UNSET, entrypoint=None, on_missing="ignore", error_handling="raise")
        names = normalize_map_over(map_over)
        merged = merge_values(
            graph, values, input_values, method="map", own_options=MAP_OPTIONS,
            other_method="run", other_options=RUN_OPTIONS,
        )
        check_keywords(graph, input_values)
        self._check(graph)
        reject_interrupts_in_map(graph)
        columns = _map_columns(merged, names, map_mode)
        size = len(columns[names[0]])
        broadcast = {k: v for k, v in merged.items() if k not in columns}
        cloned = _cloned(clone, broadcast)
        sample = {n: c[0] for n, c in columns.items()} if size else dict.fromkeys(columns)
        parts = prepare_values(graph, {**broadcast, **sample})
        env: dict[str, Any] = {}
        for name in parts.provided:
            env[name] = Column(name) if name in columns else constant(broadcast[name], name in cloned)
        program = compile_graph(graph, env, parts.scoped)
        data = dict(columns)
        for name in parts.provided:
            if name not in data:
                data[name] = [broadcast[name]] * size
        frame, _ = _frame(program, data, size, safe=False, cache=self._worker_cache)
        shown = list(data) + [c for c in program.outputs.values() if c not in data]
        return frame.select(*(col(c) for c in shown))

    # -- shared ----------------------------------------------------------------------------
    def _check(self, graph: Graph) -> None:
        check_structure_cached(self, graph)
        if not graph.__dict__.get("_daft_checked"):
            validate_for_daft(graph, DaftRunner)
            graph.__dict__["_daft_checked"] = True

    def _collect_items(
        self,
        program: Program,
        data: dict[str, list[Any]] | daft.DataFrame,
        size: int | None,
        error_handling: str,
        identity: tuple[str | None, str | None, str | None],
        *,
        fallback: Any,
    ) -> ColumnarResults | list[RunResult]:
        try:
            columns, failures, count = _execute(program, data, size, self._worker_cache)
        except Exception:
            if error_handling == "raise":
                raise
            # DF5: the columnar plan itself failed; run the items one by one instead
            total = size if size is not None else data.count_rows()  # type: ignore[union-attr]
            return [fallback(i) for i in range(total)]
        if failures and error_handling == "raise":
            raise failures[min(failures)]
        return ColumnarResults(columns, failures, count, identity)


def _warn_processors(processors: Sequence[EventProcessor] | None) -> None:
    if processors:
        warnings.warn(
            "DaftRunner does not emit events: the event processors passed to it are ignored. "
            "Use SyncRunner or AsyncRunner to observe node events.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _map_columns(merged: dict[str, Any], names: tuple[str, ...], mode: str) -> dict[str, list[Any]]:
    """The mapped inputs as equal-length columns, checked as every runner checks them (MP2, MP3)."""
    if mode == "zip" and all(isinstance(merged.get(n), list | tuple) for n in names):
        lengths = {len(merged[n]) for n in names}
        if len(lengths) == 1:
            return {n: list(merged[n]) for n in names}
    # anything unusual (missing, scalar, unequal, product): let core's expansion check and expand
    items = expand_items({n: merged[n] for n in names if n in merged}, names, mode, False)
    return {n: [item[n] for item in items] for n in names}


def _cloned(clone: bool | Sequence[str], broadcast: Mapping[str, Any]) -> set[str]:
    if clone is True:
        return set(broadcast)
    if not clone:
        return set()
    return set(clone) & set(broadcast)


def _dataframe_columns(
    graph: Graph, dataframe: daft.DataFrame, columns: Sequence[str] | Mapping[str, str] | None
) -> dict[str, str]:
    """DataFrame column -> graph input name, checked against both sides."""
    available = list(dataframe.column_names)
    inputs = set(graph.inputs.all)
    if columns is None:
        mapping = {c: c for c in available if c in inputs}
    elif isinstance(columns, Mapping):
        mapping = dict(columns)
    else:
        mapping = {c: c for c in columns}
    for column, name in mapping.items():
        if column not in available:
            raise ValueError(
                f"map_dataframe(): column {column!r} is not in the DataFrame. Its columns: "
                f"{', '.join(map(repr, available))}."
            )
        if name not in inputs:
            raise ValueError(
                f"map_dataframe(): column {column!r} feeds {name!r}, which is not an input of "
                f"graph {graph.name or '(unnamed)'}. Inputs: {', '.join(map(repr, sorted(inputs)))}."
            )
    if not mapping:
        raise ValueError(
            "map_dataframe(): none of the DataFrame's columns "
            f"({', '.join(map(repr, available))}) is an input of the graph; name them with "
            "columns={'column': 'input'}."
        )
    return mapping


def _frame(
    program: Program,
    data: dict[str, list[Any]] | daft.DataFrame,
    size: int | None,
    *,
    safe: bool,
    cache: WorkerCache | None = None,
) -> tuple[daft.DataFrame, list[str]]:
    """The DataFrame with every step's column added, and the names of those columns."""
    if isinstance(data, daft.DataFrame):
        frame = data
        needs_row = any(not step.columns for step in program.steps)
        if needs_row:
            frame = frame.with_column(ROW, daft.functions.monotonically_increasing_id())
    else:
        series = {name: column_of(values).rename(name) for name, values in data.items()}
        if any(not step.columns for step in program.steps) or not series:
            series[ROW] = column_of(list(range(size or 0))).rename(ROW)
        frame = daft.from_pydict(series)  # type: ignore[arg-type]
    added: list[str] = []
    for step in program.steps:
        expression = step_expression(step, safe, cache)
        if len(step.outputs) > 1:
            frame = frame.select(col("*"), expression)
        else:
            frame = frame.with_column(step.outputs[0], expression)
        added.extend(step.outputs)
    return frame, added


def _execute(
    program: Program,
    data: dict[str, list[Any]] | daft.DataFrame,
    size: int | None,
    cache: WorkerCache | None = None,
) -> tuple[dict[str, list[Any]], dict[int, BaseException], int]:
    """Collect the plan: the visible outputs by name, each failed row's first node error, rows."""
    frame, added = _frame(program, data, size, safe=True, cache=cache)
    if not added:  # a graph without nodes
        count = size if size is not None else frame.count_rows()
        return {}, {}, count
    collected = frame.select(*(col(c) for c in added)).collect().to_pydict()
    failures: dict[int, BaseException] = {}
    for step in program.steps:
        values = collected[step.outputs[0]]
        for i, value in enumerate(values):
            if value.__class__ is Failure and i not in failures:
                failures[i] = value.error
    columns = {name: collected[column] for name, column in program.outputs.items()}
    return columns, failures, len(collected[added[0]])


def _result(
    values: dict[str, Any],
    status: RunStatus,
    identity: tuple[str | None, str | None, str | None],
    *,
    error: BaseException | None = None,
) -> RunResult:
    graph_name, workflow_id, session_id = identity
    return RunResult(
        values, status, new_run_id(), graph_name=graph_name, workflow_id=workflow_id,
        session_id=session_id, error=error,
    )


def _map_result(
    results: ColumnarResults | list[RunResult],
    names: tuple[str, ...],
    mode: str,
    graph: Graph,
    start: float,
    *,
    empty: bool = False,
) -> MapResult:
    duration = (perf_counter() - start) * 1000.0
    if isinstance(results, ColumnarResults):
        return columnar_map_result(results, new_run_id(), duration, names, mode, graph.name)
    return MapResult(
        tuple(results), None if empty else new_run_id(), duration, names, mode,
        graph_name=graph.name,
    )
