"""Calling one step for one row in plain Python, and running a whole program for one item.

The Daft UDFs call :func:`call_step` per row; a mapped nested graph runs its inner program per
item with :func:`run_program`. Node exceptions propagate unchanged.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

from hypergraph.policies import acall_with_policy, call_with_policy
from hypergraph_daft._compile import Column, Const, Program, Step
from hypergraph_daft._core import (
    InMemoryCache,
    NodeCache,
    call_from_sync,
    join_chunks,
    map_outputs,
    nested_map_items,
)

__all__ = [
    "Binder", "WorkerCache", "binder", "cached", "outputs_of", "run_foreign", "run_program",
]

Binder = Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]


def binder(step: Step) -> Binder:
    """A function turning (column values in order, worker resources) into the call's kwargs."""
    plan: list[tuple[str, int, Any]] = []  # (param, 0=column index / 1=const / 2=copy / 3=resource)
    position = 0
    for param, source in zip(step.params, step.sources, strict=True):
        if isinstance(source, Column):
            plan.append((param, 0, position))
            position += 1
        elif source.key is not None:
            plan.append((param, 3, source.key))
        elif source.copy:
            plan.append((param, 2, source.value))
        else:
            plan.append((param, 1, source.value))
    if all(kind == 0 for _, kind, _ in plan):
        names = tuple(param for param, _, _ in plan)
        return lambda args, resources: dict(zip(names, args, strict=False))
    fixed = {param: value for param, kind, value in plan if kind == 1}
    others = [(param, kind, value) for param, kind, value in plan if kind != 1]

    def bind(args: tuple[Any, ...], resources: dict[str, Any]) -> dict[str, Any]:
        kwargs = dict(fixed)
        for param, kind, value in others:
            if kind == 0:
                kwargs[param] = args[value]
            elif kind == 3:
                kwargs[param] = resources[value]
            else:
                kwargs[param] = copy.deepcopy(value)
        return kwargs

    return bind


def call_sync(step: Step, kwargs: dict[str, Any]) -> Any:
    """The node's return value for one row (generators drained, coroutines run to completion),
    retried and timed out per the node's policy."""
    np = step.np
    if step.node.is_async:
        return asyncio.run(call_async(step, kwargs))
    if np.retry is None:
        return _call_once(np, step.node.is_generator, kwargs)
    return call_with_policy(
        lambda: _call_once(np, step.node.is_generator, kwargs), np.retry, node_name=np.name
    )


def _call_once(np: Any, is_generator: bool, kwargs: dict[str, Any]) -> Any:
    value = np.func(**kwargs)
    if is_generator:
        return join_chunks(np, list(value))
    return value


async def call_async(step: Step, kwargs: dict[str, Any]) -> Any:
    """Like :func:`call_sync` for async functions and async generators."""
    np = step.np
    if np.retry is None and np.timeout is None:
        return await _acall_once(np, step.node.is_generator, kwargs)
    return await acall_with_policy(
        lambda: _acall_once(np, step.node.is_generator, kwargs), np.retry, np.timeout,
        node_name=np.name,
    )


async def _acall_once(np: Any, is_generator: bool, kwargs: dict[str, Any]) -> Any:
    if is_generator:
        return join_chunks(np, [chunk async for chunk in np.func(**kwargs)])
    return await np.func(**kwargs)


def outputs_of(step: Step, value: Any) -> tuple[Any, ...]:
    """The values of the step's output columns, in order (N7 checks included)."""
    outputs = step.np.outputs
    if not outputs:
        return (None,)
    if len(outputs) == 1:
        return (value,)
    named = map_outputs(step.np, value)
    return tuple(named[o] for o in outputs)


class WorkerCache:
    """The runner's node cache as a UDF sees it (SPEC DF7).

    In-process (Daft's native runner) it is the runner's own cache. Shipped to another process
    (Ray) an in-memory cache arrives empty, one per worker; other backends arrive as themselves.
    """

    __slots__ = ("node_cache",)

    def __init__(self, node_cache: Any) -> None:
        self.node_cache = node_cache

    def __reduce__(self) -> tuple[Any, ...]:
        backend = self.node_cache.backend
        if isinstance(backend, InMemoryCache):
            return (_fresh_worker_cache, ())
        return (WorkerCache, (NodeCache(backend, explain_misses=False),))


def _fresh_worker_cache() -> WorkerCache:
    return WorkerCache(NodeCache(InMemoryCache(), explain_misses=False))


def cached(
    step: Step, call: Callable[[dict[str, Any]], tuple[Any, ...]], cache: WorkerCache | None
) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """``call`` behind the node cache when the node opted in and the runner has one (CA1)."""
    if cache is None or not getattr(step.node, "cache", False):
        return call
    outputs = step.np.outputs

    def with_cache(kwargs: dict[str, Any]) -> tuple[Any, ...]:
        node_cache = cache.node_cache
        lookup = node_cache.lookup(step.node, kwargs)
        if lookup is not None and lookup.hit:
            return tuple(lookup.outputs[o] for o in outputs) if outputs else (None,)
        produced = call(kwargs)
        if lookup is not None:
            node_cache.store(lookup, dict(zip(outputs, produced, strict=False)))
        return produced

    return with_cache


def run_mapped(step: Step, kwargs: dict[str, Any], resources: dict[str, Any]) -> tuple[Any, ...]:
    """A mapped nested graph for one row: one list per output, ``None`` for failed items."""
    gn = step.gn
    inner = step.inner
    assert gn is not None and inner is not None
    values = {gn.inner_input(port): value for port, value in kwargs.items()}
    error_handling, items = nested_map_items(gn, values)
    results: list[dict[str, Any] | None] = []
    for item in items:
        try:
            results.append(run_program(inner, item, resources))
        except Exception:
            if error_handling == "raise":
                raise
            results.append(None)
    columns = []
    for port in gn.outputs:
        column = inner.outputs.get(gn.inner_output(port))
        columns.append(
            [None if r is None or column is None else r.get(column) for r in results]
        )
    return tuple(columns) if columns else (None,)


def run_foreign(step: Step, kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """A nested graph on the runner it names, for one row (R12, R14): its outputs in order."""
    gn = step.gn
    runner = step.foreign
    assert gn is not None and runner is not None
    values = {gn.inner_input(port): value for port, value in kwargs.items()}
    if gn.map_config is None:
        result = call_from_sync(
            runner.capabilities.returns_coroutine, lambda: runner.run(gn.graph, values)
        )
        if result.error is not None:
            raise result.error
        produced = [result.values.get(gn.inner_output(port)) for port in gn.outputs]
    else:
        params, mode, error_handling = gn.map_config
        mapped = call_from_sync(
            runner.capabilities.returns_coroutine,
            lambda: runner.map(
                gn.graph, values, map_over=[gn.inner_input(p) for p in params], map_mode=mode,
                clone=gn.map_clone, error_handling=error_handling,
            ),
        )
        produced = [
            [r.values.get(gn.inner_output(port)) if r.completed else None for r in mapped]
            for port in gn.outputs
        ]
    return tuple(produced) if produced else (None,)


def run_program(program: Program, values: dict[str, Any], resources: dict[str, Any]) -> dict[str, Any]:
    """Every step of ``program`` for one item, in plain Python; returns values by column."""
    state = dict(values)
    for step in program.steps:
        kwargs = {}
        for param, source in zip(step.params, step.sources, strict=True):
            if isinstance(source, Column):
                kwargs[param] = state[source.name]
            else:
                kwargs[param] = _const_value(source, resources)
        if step.foreign is not None:
            produced = run_foreign(step, kwargs)
        elif step.inner is not None:
            produced = run_mapped(step, kwargs, resources)
        elif getattr(step.node, "batch", False):
            produced = (_call_batch_once(step, kwargs),)
        else:
            produced = outputs_of(step, call_sync(step, kwargs))
        state.update(zip(step.outputs, produced, strict=True))
    return state


def _const_value(source: Const, resources: dict[str, Any]) -> Any:
    if source.key is not None:
        if source.key not in resources:
            resources[source.key] = type(source.value)()
        return resources[source.key]
    return copy.deepcopy(source.value) if source.copy else source.value


def _call_batch_once(step: Step, kwargs: dict[str, Any]) -> Any:
    """A batch node inside a mapped nested graph: a one-row batch."""
    from daft import DataType, Series

    columns = {p for p, s in zip(step.params, step.sources, strict=True) if isinstance(s, Column)}
    batch = {
        p: Series.from_pylist([v], dtype=DataType.python()) if p in columns else v
        for p, v in kwargs.items()
    }
    result = step.np.func(**batch)
    values = result.to_pylist() if isinstance(result, Series) else list(result)
    return values[0]
