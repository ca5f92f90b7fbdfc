"""Steps as Daft UDF expressions, and Python values as Daft columns.

Two Daft behaviours shape this module (DEPENDENCIES §2):

- A column of Python objects whose dtype Daft has to infer costs ~1.2 ms per row, so every
  column and every UDF result here carries an explicit dtype.
- An exception raised inside a UDF reaches the driver as ``DaftCoreException`` (or a Ray
  wrapper) with its type lost. In "safe" mode each UDF therefore returns a :class:`Failure`
  holding the node's exception instead of raising; downstream steps pass it through, and the
  runner re-raises the original exception on the driver.
"""

from __future__ import annotations

import inspect
from typing import Any

import daft
from daft import DataType, Expression, Series, col

from hypergraph.policies import call_with_policy
from hypergraph_daft._compile import Column, Step
from hypergraph_daft._rows import (
    WorkerCache,
    binder,
    cached,
    call_async,
    call_sync,
    outputs_of,
    run_foreign,
    run_mapped,
)

__all__ = ["ROW", "Failure", "column_of", "python_column", "step_expression"]

ROW = "__hypergraph_row__"
"""A row-number column, fed to steps that read no column (Daft needs one Expression argument)."""

_SIMPLE: dict[type, DataType] = {
    int: DataType.int64(),
    float: DataType.float64(),
    str: DataType.string(),
    bool: DataType.bool(),
}

_BY_NAME = {t.__name__: t for t in _SIMPLE}


class Failure:
    """A node's exception travelling through Daft as a value."""

    __slots__ = ("error", "node")

    def __init__(self, error: BaseException, node: str) -> None:
        self.error = error
        self.node = node

    def __reduce__(self) -> tuple[Any, ...]:
        return (Failure, (self.error, self.node))

    def __repr__(self) -> str:
        return f"Failure({self.node}: {type(self.error).__name__}: {self.error})"


def python_column(values: list[Any]) -> Series:
    """A Series of arbitrary Python objects, built with the explicit dtype (fast path)."""
    return Series.from_pylist(values, dtype=DataType.python())


def column_of(values: list[Any]) -> Series:
    """Plain ints/floats/strs/bools as their Arrow type; anything else as Python objects."""
    kinds = {type(v) for v in values}
    if len(kinds) == 1:
        dtype = _SIMPLE.get(next(iter(kinds)))
        if dtype is not None:
            try:
                return Series.from_pylist(values, dtype=dtype)
            except Exception:  # ints beyond int64 and the like: keep them as objects
                pass
    return python_column(values)


def _return_dtype(step: Step, safe: bool) -> DataType:
    """Python objects, except a raw single-output step annotated with a plain type."""
    outputs = step.outputs
    graph_like = step.inner is not None or step.foreign is not None
    if len(outputs) > 1 or (graph_like and len(step.np.outputs) > 1):
        return DataType.struct({name: DataType.python() for name in outputs})
    if safe or graph_like or step.node.is_generator:
        return DataType.python()
    annotation = getattr(step.np.func, "__annotations__", {}).get("return")
    if isinstance(annotation, str):  # postponed annotations: only the plain builtin names
        annotation = _BY_NAME.get(annotation)
    return _SIMPLE.get(annotation, DataType.python()) if isinstance(annotation, type) else (
        DataType.python()
    )


def step_expression(step: Step, safe: bool, cache: WorkerCache | None = None) -> Expression:
    """The Daft expression computing ``step``'s output column(s)."""
    if not getattr(step.node, "cache", False):
        cache = None
    resources = step.resources
    return_dtype = _return_dtype(step, safe)
    unnest = len(step.outputs) > 1
    graph_like = step.inner is not None or step.foreign is not None
    is_batch = bool(getattr(step.node, "batch", False)) and not graph_like
    is_async = not graph_like and step.node.is_async
    if is_batch:
        impl = _batch_impl(step, safe)
    elif is_async:
        impl = _async_impl(step, safe, cache)
    else:
        impl = _row_impl(step, safe, cache)
    columns = step.columns
    args = [col(c) for c in columns] if columns else [col(ROW)]
    general = resources or is_batch or is_async or not columns or cache is not None
    fast = None if general else _fast_row(step, safe)
    if fast is not None:
        return daft.func(fast, return_dtype=return_dtype)(*args)
    if not columns:
        impl = _drop_row_argument(impl, is_async)
    if resources:
        return _class_udf(step, impl, resources, return_dtype, unnest, is_batch, is_async)(*args)
    if is_batch:
        func = daft.func.batch(return_dtype=return_dtype)(_without_resources(impl, is_async))
    else:
        func = daft.func(_without_resources(impl, is_async), return_dtype=return_dtype, unnest=unnest)
    return func(*args)


def _fast_row(step: Step, safe: bool) -> Any:
    """The common case with one call per row and no dispatch: a plain single-output function
    reading only columns. ``None`` when the step needs the general path."""
    node = step.node
    np = step.np
    if step.inner is not None or step.foreign is not None:
        return None
    if len(np.outputs) != 1 or node.is_generator:
        return None
    if np.retry is not None or np.timeout is not None:
        return None
    if not all(isinstance(s, Column) for s in step.sources):
        return None
    func = np.func
    name = step.path
    params = step.params
    if _positional(func, params):
        call = func
    else:
        def call(*args: Any) -> Any:
            return func(**dict(zip(params, args, strict=True)))

    if not safe:
        return call
    if len(params) == 1:
        def one(value: Any) -> Any:
            if value.__class__ is Failure:
                return value
            try:
                return call(value)
            except Exception as exc:
                return Failure(exc, name)

        return one

    def many(*args: Any) -> Any:
        for value in args:
            if value.__class__ is Failure:
                return value
        try:
            return call(*args)
        except Exception as exc:
            return Failure(exc, name)

    return many


def _positional(func: Any, params: tuple[str, ...]) -> bool:
    """True if ``func(*values)`` binds the values to ``params`` in order."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return False
    leading = list(signature.parameters.values())[: len(params)]
    return len(leading) == len(params) and all(
        p.name == name and p.kind is p.POSITIONAL_OR_KEYWORD
        for p, name in zip(leading, params, strict=True)
    ) and all(
        p.default is not p.empty or p.kind is p.KEYWORD_ONLY
        for p in list(signature.parameters.values())[len(params):]
    )


def _pack(step: Step, produced: tuple[Any, ...]) -> Any:
    """One row's result in the UDF's return shape: the value, or a struct dict."""
    if len(step.outputs) > 1:
        return dict(zip(step.outputs, produced, strict=True))
    return produced[0]


def _failed(step: Step, failure: Failure) -> Any:
    if len(step.outputs) > 1:
        return dict.fromkeys(step.outputs, failure)
    return failure


def _row_impl(step: Step, safe: bool, cache: WorkerCache | None = None) -> Any:
    bind = binder(step)
    name = step.path
    if step.foreign is not None:
        def produce(args: tuple[Any, ...], resources: dict[str, Any]) -> tuple[Any, ...]:
            return run_foreign(step, bind(args, resources))
    elif step.inner is not None:
        def produce(args: tuple[Any, ...], resources: dict[str, Any]) -> tuple[Any, ...]:
            return run_mapped(step, bind(args, resources), resources)
    else:
        def run(kwargs: dict[str, Any]) -> tuple[Any, ...]:
            return outputs_of(step, call_sync(step, kwargs))

        call = cached(step, run, cache)

        def produce(args: tuple[Any, ...], resources: dict[str, Any]) -> tuple[Any, ...]:
            return call(bind(args, resources))

    if not safe:
        def raw(resources: dict[str, Any], *args: Any) -> Any:
            return _pack(step, produce(args, resources))

        return raw

    def guarded(resources: dict[str, Any], *args: Any) -> Any:
        for value in args:
            if type(value) is Failure:
                return _failed(step, value)
        try:
            return _pack(step, produce(args, resources))
        except Exception as exc:
            return _failed(step, Failure(exc, name))

    return guarded


def _async_impl(step: Step, safe: bool, cache: WorkerCache | None = None) -> Any:
    bind = binder(step)
    name = step.path
    use_cache = cache is not None

    async def produce(args: tuple[Any, ...], resources: dict[str, Any]) -> Any:
        kwargs = bind(args, resources)
        lookup = cache.node_cache.lookup(step.node, kwargs) if cache is not None else None
        if lookup is not None and lookup.hit:
            outputs = step.np.outputs
            return _pack(step, tuple(lookup.outputs[o] for o in outputs) if outputs else (None,))
        produced = outputs_of(step, await call_async(step, kwargs))
        if use_cache and lookup is not None and cache is not None:
            cache.node_cache.store(lookup, dict(zip(step.np.outputs, produced, strict=False)))
        return _pack(step, produced)

    if not safe:
        async def raw(resources: dict[str, Any], *args: Any) -> Any:
            return await produce(args, resources)

        return raw

    async def guarded(resources: dict[str, Any], *args: Any) -> Any:
        for value in args:
            if type(value) is Failure:
                return _failed(step, value)
        try:
            return await produce(args, resources)
        except Exception as exc:
            return _failed(step, Failure(exc, name))

    return guarded


def _batch_impl(step: Step, safe: bool) -> Any:
    """Whole Series in, one Series of Python objects out; failed rows are skipped and kept."""
    column_params = tuple(
        p for p, s in zip(step.params, step.sources, strict=True) if isinstance(s, Column)
    )
    bind = binder(step)
    name = step.path
    func = step.np.func

    policy = step.np.retry

    def call(series: tuple[Series, ...], size: int, resources: dict[str, Any]) -> list[Any]:
        kwargs = bind(series, resources)
        if policy is None:
            result = func(**kwargs)
        else:  # the whole batch is one attempt
            result = call_with_policy(lambda: func(**kwargs), policy, node_name=name)
        values = result.to_pylist() if isinstance(result, Series) else list(result)
        if len(values) != size:
            raise ValueError(
                f"Batch node {name!r} returned {len(values)} values for a batch of {size} rows; "
                "return one value per row."
            )
        return values

    def batch(resources: dict[str, Any], *series: Series) -> Series:
        size = len(series[0]) if series else 0
        inputs = series if column_params else ()
        if not safe:
            return python_column(call(inputs, size, resources))
        lists = [s.to_pylist() for s in inputs]
        failed: dict[int, Failure] = {}
        for values in lists:
            for i, value in enumerate(values):
                if type(value) is Failure and i not in failed:
                    failed[i] = value
        if not failed:
            try:
                return python_column(call(inputs, size, resources))
            except Exception as exc:
                return python_column([Failure(exc, name)] * size)
        keep = [i for i in range(size) if i not in failed]
        subset = tuple(
            Series.from_pylist([values[i] for i in keep], dtype=s.datatype())
            for s, values in zip(inputs, lists, strict=True)
        )
        out: list[Any] = [None] * size
        for i, failure in failed.items():
            out[i] = failure
        try:
            produced = call(subset, len(keep), resources) if keep else []
        except Exception as exc:
            produced = [Failure(exc, name)] * len(keep)
        for i, value in zip(keep, produced, strict=True):
            out[i] = value
        return python_column(out)

    return batch


def _drop_row_argument(impl: Any, is_async: bool) -> Any:
    """Steps that read no column get the row-number column; don't pass it to the node."""
    if getattr(impl, "__name__", "") == "batch":
        return impl  # batch impls ignore series when the step has no column parameters
    if is_async:
        async def without_row_async(resources: dict[str, Any], _row: Any) -> Any:
            return await impl(resources)

        return without_row_async

    def without_row(resources: dict[str, Any], _row: Any) -> Any:
        return impl(resources)

    return without_row


def _without_resources(impl: Any, is_async: bool) -> Any:
    if is_async:
        async def call_async_udf(*args: Any) -> Any:
            return await impl(_NO_RESOURCES, *args)

        return call_async_udf

    def call_udf(*args: Any) -> Any:
        return impl(_NO_RESOURCES, *args)

    return call_udf


_NO_RESOURCES: dict[str, Any] = {}


def _class_udf(
    step: Step,
    impl: Any,
    resources: dict[str, type],
    return_dtype: DataType,
    unnest: bool,
    is_batch: bool,
    is_async: bool,
) -> Any:
    """A ``daft.cls`` whose instance builds the step's ``@stateful`` resources once."""
    factories = dict(resources)

    class HypergraphStep:
        def __init__(self) -> None:
            self.resources = {key: factory() for key, factory in factories.items()}

    if is_async:
        async def call_async_method(self: Any, *args: Any) -> Any:
            return await impl(self.resources, *args)

        method: Any = call_async_method
    else:
        def call_method(self: Any, *args: Any) -> Any:
            return impl(self.resources, *args)

        method = call_method
    if is_batch:
        decorated = daft.method.batch(return_dtype=return_dtype)(method)
    else:
        decorated = daft.method(return_dtype=return_dtype, unnest=unnest)(method)
    setattr(HypergraphStep, "__call__", decorated)  # noqa: B010 - a method added after the fact
    label = step.path.replace("/", "__")
    HypergraphStep.__name__ = HypergraphStep.__qualname__ = f"HypergraphStep_{label}"
    return daft.cls(HypergraphStep)()
