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
    new_run_id,
    prepare_map,
    prepare_run,
    prepare_values,
    refuse_unread_options,
    run_result,
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
        refuse_unread_options(on_internal_override, override_workflow)
        if checkpoint is not None:
            raise ValueError(
                "DaftRunner cannot continue a run from checkpoint=: it runs the whole graph as "
                "one Daft plan. Resume with SyncRunner or AsyncRunner, or run again from the "
                "inputs."
            )
        parts, info = prepare_run(
            self, graph, values, input_values, run_options=RUN_OPTIONS, map_options=MAP_OPTIONS,
            select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, max_iterations=max_iterations, event_processors=None,
            parent_span_id=parent_span_id, workflow_id=workflow_id, session_id=session_id,
            fork_from=fork_from, retry_from=retry_from, checkpoint=None,
        )
        self._check(graph)
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
        try:
            columns, failures, _ = _execute(program, data, 1, self._worker_cache)
        except Exception as exc:
            if error_handling == "raise":
                raise
            return run_result(info, {}, RunStatus.FAILED, error=exc)
        if failures:
            error = failures[0]
            if error_handling == "raise":
                raise error
            return run_result(info, {}, RunStatus.FAILED, error=error)
        return run_result(info, {k: v[0] for k, v in columns.items()}, RunStatus.COMPLETED)

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
        refuse_unread_options(on_internal_override)
        first, columns, size, names, info = _prepare_items(
            self, graph, values, input_values, map_over=map_over, map_mode=map_mode,
            clone=clone, select=select, entrypoint=entrypoint, on_missing=on_missing,
            error_handling=error_handling, parent_span_id=parent_span_id,
            workflow_id=workflow_id, session_id=session_id,
        )
        self._check(graph)
        identity = (graph.name, workflow_id, session_id)
        if not size:
            return _map_result([], names, map_mode, graph, start, None)
        try:
            program, data = _item_sources(graph, first, columns)
        except Exception as exc:  # the same keys for every item: every item fails alike
            if error_handling == "raise":
                raise
            failed = [_result({}, RunStatus.FAILED, identity, error=exc) for _ in range(size)]
            return _map_result(failed, names, map_mode, graph, start, info.run_id)

        def item(i: int) -> dict[str, Any]:
            return {**first, **{name: column[i] for name, column in columns.items()}}

        results = self._collect_items(
            program, data, size, error_handling, identity,
            fallback=lambda i: self.run(
                graph, item(i), error_handling="continue", workflow_id=workflow_id,
                session_id=session_id,
            ),
        )
        return _map_result(results, names, map_mode, graph, start, info.run_id)

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
        mapping = _dataframe_columns(graph, dataframe, columns)
        inputs = tuple(mapping.values())
        overlap = sorted(set(inputs) & (set(values or {}) | set(input_values)))
        if overlap:
            raise ValueError(
                f"Inputs {overlap!r} are given both as DataFrame columns and as values; pass "
                "each input once (drop it from values=, or from columns=)."
            )
        # the checks of map(), on one placeholder row: the DataFrame's rows are checked by Daft
        placeholder = {**(values or {}), **{name: [None] for name in inputs}}
        items, _, info = prepare_map(
            self, graph, placeholder, input_values, run_options=RUN_OPTIONS,
            map_options=MAP_OPTIONS, map_over=list(inputs), map_mode="zip", clone=False,
            select=select, entrypoint=None, on_missing=on_missing, error_handling=error_handling,
            event_processors=None, parent_span_id=None, workflow_id=workflow_id,
            session_id=session_id,
        )
        self._check(graph)
        identity = (graph.name, workflow_id, session_id)
        broadcast = {k: v for k, v in items[0].items() if k not in inputs}
        frame = dataframe.select(*(col(c).alias(n) for c, n in mapping.items()))
        try:
            parts = prepare_values(graph, items[0])
        except Exception as exc:
            if error_handling == "raise":
                raise
            count = frame.count_rows()
            failed = [_result({}, RunStatus.FAILED, identity, error=exc) for _ in range(count)]
            return _map_result(failed, inputs, "zip", graph, start, info.run_id)
        cloned = _cloned(clone, broadcast)
        env: dict[str, Any] = {}
        for name in parts.provided:
            if name in inputs:
                env[name] = Column(name)
            else:
                env[name] = constant(broadcast[name], name in cloned)
        program = compile_graph(graph, env, parts.scoped)
        rows_in: list[dict[str, Any]] | None = None

        def fallback(i: int) -> RunResult:
            nonlocal rows_in
            if rows_in is None:
                rows_in = frame.to_pylist()
            return self.run(
                graph, {**broadcast, **rows_in[i]}, error_handling="continue",
                workflow_id=workflow_id, session_id=session_id,
            )

        results = self._collect_items(
            program, frame, None, error_handling, identity, fallback=fallback
        )
        return _map_result(results, inputs, "zip", graph, start, info.run_id)

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
        first, columns, size, _, _ = _prepare_items(
            self, graph, values, input_values, map_over=map_over, map_mode=map_mode,
            clone=clone, select=UNSET, entrypoint=None, on_missing="ignore",
            error_handling="raise", parent_span_id=None, workflow_id=None, session_id=None,
        )
        self._check(graph)
        if not size:
            raise ValueError(
                "to_dataframe() needs at least one item: the map_over lists are empty."
            )
        program, data = _item_sources(graph, first, columns)
        for name in prepare_values(graph, first).provided:
            if name not in data:
                data[name] = [first[name]] * size
        frame, _ = _frame(program, data, size, safe=False, cache=self._worker_cache)
        shown = list(data) + [c for c in program.outputs.values() if c not in data]
        return frame.select(*(col(c) for c in shown))

    # -- shared ----------------------------------------------------------------------------
    def _check(self, graph: Graph) -> None:
        """DaftRunner's own refusals, once per graph (capabilities were checked by prepare_*)."""
        if not graph.__dict__.get("_daft_checked"):
            validate_for_daft(graph)
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
            stacklevel=3,
        )


def _cloned(clone: bool | Sequence[str], broadcast: Mapping[str, Any]) -> set[str]:
    if clone is True:
        return set(broadcast)
    if not clone:
        return set()
    names = {clone} if isinstance(clone, str) else set(clone)
    return names & set(broadcast)


def _prepare_items(
    runner: DaftRunner,
    graph: Graph,
    values: Mapping[str, Any] | None,
    input_values: dict[str, Any],
    *,
    map_over: str | Sequence[str],
    map_mode: str,
    clone: bool | Sequence[str],
    **options: Any,
) -> tuple[dict[str, Any], dict[str, list[Any]], int, tuple[str, ...], Any]:
    """Core's map() checks, and the batch as columns: (first item, columns, size, names, info).

    ``columns`` holds the mapped inputs (and, with ``clone``, each item's own copies). For the
    common zip of equal-length lists core checks a one-item slice, so no per-item dict is built
    for a batch that becomes columns anyway; anything else goes through core's expansion.
    """
    common = {
        "run_options": RUN_OPTIONS, "map_options": MAP_OPTIONS, "map_mode": map_mode,
        "clone": clone, "event_processors": None, **options,
    }
    full = _zip_lists(values, input_values, map_over, map_mode, clone)
    if full is not None:
        probe_values = None if values is None else dict(values)
        probe_kwargs = dict(input_values)
        for name, column in full.items():
            target = probe_values if probe_values is not None and name in probe_values else probe_kwargs
            target[name] = column[:1]
        items, names, info = prepare_map(
            runner, graph, probe_values, probe_kwargs, map_over=map_over, **common
        )
        size = len(next(iter(full.values())))
        columns = {name: list(full[name]) for name in names}
        return (items[0] if items else {}), columns, size, names, info
    items, names, info = prepare_map(runner, graph, values, input_values, map_over=map_over, **common)
    if not items:
        return {}, {}, 0, names, info
    first = items[0]
    cloned = _cloned(clone, {k: v for k, v in first.items() if k not in names})
    columns = {name: [item[name] for item in items] for name in (*names, *sorted(cloned))}
    return first, columns, len(items), names, info


def _zip_lists(
    values: Mapping[str, Any] | None,
    input_values: dict[str, Any],
    map_over: Any,
    map_mode: str,
    clone: Any,
) -> dict[str, Sequence[Any]] | None:
    """The mapped lists when they are a plain zip of equal, non-zero lengths; else ``None``."""
    if map_mode != "zip" or clone or not (values is None or isinstance(values, Mapping)):
        return None
    names = (map_over,) if isinstance(map_over, str) else map_over
    if not isinstance(names, list | tuple) or not names:
        return None
    found: dict[str, Sequence[Any]] = {}
    for name in names:
        if not isinstance(name, str) or name in found:
            return None
        in_values = values is not None and name in values
        if in_values == (name in input_values):  # missing, or given twice: core reports it
            return None
        column = values[name] if in_values else input_values[name]  # type: ignore[index]
        if not isinstance(column, list | tuple):
            return None
        found[name] = column
    lengths = {len(c) for c in found.values()}
    return found if len(lengths) == 1 and 0 not in lengths else None


def _item_sources(
    graph: Graph, first: dict[str, Any], columns: dict[str, list[Any]]
) -> tuple[Program, dict[str, list[Any]]]:
    """The program and input columns of a map: mapped (and cloned) inputs are columns.

    Every item has the same keys, so the first one is checked for the whole batch (X17).
    Other values are constants of the UDFs, shared by the rows as on every runner.
    """
    parts = prepare_values(graph, first)
    env: dict[str, Any] = {}
    data: dict[str, list[Any]] = {}
    for name in parts.provided:
        value = first[name]
        if name in columns and not is_stateful(value):
            env[name] = Column(name)
            data[name] = columns[name]
        else:
            env[name] = constant(value)
    return compile_graph(graph, env, parts.scoped), data


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
    run_id: str | None,
) -> MapResult:
    duration = (perf_counter() - start) * 1000.0
    if isinstance(results, ColumnarResults):
        return columnar_map_result(results, run_id or new_run_id(), duration, names, mode, graph.name)
    return MapResult(tuple(results), run_id, duration, names, mode, graph_name=graph.name)
