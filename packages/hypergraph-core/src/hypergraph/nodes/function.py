"""FunctionNode and the ``@node`` decorator: a plain function as a graph node."""

from __future__ import annotations

import inspect
import types
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload

from hypergraph._stack import user_stacklevel
from hypergraph.nodes._base import CallableNode
from hypergraph.policies import RetryPolicy, check_retry, check_timeout

__all__ = ["FunctionNode", "node"]

GeneratorJoin = Literal["str", "bytes", "list"]

P = ParamSpec("P")
R = TypeVar("R")


_CO_VARARGS = inspect.CO_VARARGS
_CO_VARKEYWORDS = inspect.CO_VARKEYWORDS
_CO_ASYNC = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
_CO_GENERATOR = inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR


def _is_plain_function(func: Any) -> bool:
    """A plain function whose signature is exactly what its code object says (the fast path)."""
    if type(func) is not types.FunctionType:
        return False
    attributes = func.__dict__
    return "__wrapped__" not in attributes and "__signature__" not in attributes


def inspect_function(func: Callable[..., Any], kind: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Parameter names in signature order and their defaults; rejects kinds runners can't pass.

    Runners always call with keyword arguments (SPEC N3). Plain functions are read from their
    code object (about a microsecond); anything else goes through ``inspect.signature``.
    """
    if _is_plain_function(func):
        code = func.__code__
        if not code.co_posonlyargcount and not code.co_flags & (_CO_VARARGS | _CO_VARKEYWORDS):
            n_positional = code.co_argcount
            names = code.co_varnames[: n_positional + code.co_kwonlyargcount]
            defaults: dict[str, Any] = {}
            positional_defaults = func.__defaults__
            if positional_defaults:
                first = n_positional - len(positional_defaults)
                defaults.update(zip(names[first:n_positional], positional_defaults, strict=True))
            if func.__kwdefaults__:
                defaults.update(func.__kwdefaults__)
            return names, defaults
    return _inspect_signature(func, kind)


def _inspect_signature(
    func: Callable[..., Any], kind: str
) -> tuple[tuple[str, ...], dict[str, Any]]:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Cannot build a {kind} from {func!r}: {exc}") from exc
    names: list[str] = []
    defaults: dict[str, Any] = {}
    problems: list[str] = []
    for param in signature.parameters.values():
        if param.kind is param.POSITIONAL_ONLY:
            problems.append(f"parameter {param.name!r} is positional-only (remove the '/')")
        elif param.kind is param.VAR_POSITIONAL:
            problems.append(f"parameter '*{param.name}' is not supported")
        elif param.kind is param.VAR_KEYWORD:
            problems.append(f"parameter '**{param.name}' is not supported")
        names.append(param.name)
        if param.default is not param.empty:
            defaults[param.name] = param.default
    if problems:
        fname = getattr(func, "__name__", repr(func))
        raise TypeError(
            f"{kind} {fname!r}: {'; '.join(problems)}. Runners pass inputs by keyword, so "
            "declare each input as a named parameter."
        )
    return tuple(names), defaults


def mode_flags(func: Callable[..., Any]) -> tuple[bool, bool]:
    """``(is_async, is_generator)`` of ``func`` (SPEC N5); plain functions read their code flags."""
    if type(func) is types.FunctionType:
        flags = func.__code__.co_flags
        return bool(flags & _CO_ASYNC), bool(flags & _CO_GENERATOR)
    is_async = inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)
    is_generator = inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)
    return is_async, is_generator


def normalize_outputs(output_name: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if output_name is None:
        return ()
    if isinstance(output_name, str):
        return (output_name,)
    if not isinstance(output_name, tuple | list):
        raise TypeError(
            f"output_name must be a string, a tuple of strings or None, got "
            f"{type(output_name).__name__} {output_name!r}. Name the output, e.g. "
            "output_name='result', or output_name=('a', 'b') for several."
        )
    outputs = tuple(output_name)
    bad = [o for o in outputs if not isinstance(o, str)]
    if bad:
        raise TypeError(
            f"output_name entries must be strings, got {bad[0]!r} in {output_name!r}."
        )
    duplicates = sorted({o for o in outputs if outputs.count(o) > 1})
    if duplicates:
        raise ValueError(
            f"output_name {output_name!r} names {duplicates[0]!r} twice; each output needs its "
            "own name (the second value would silently replace the first)."
        )
    return outputs


def _return_annotation(func: Callable[..., Any]) -> Any:
    if type(func) is types.FunctionType:
        return func.__annotations__.get("return", inspect.Signature.empty)
    try:
        return inspect.get_annotations(func).get("return", inspect.Signature.empty)
    except Exception:  # odd callables: treat as unannotated
        return inspect.Signature.empty


def _generator_join(annotation: Any) -> GeneratorJoin:
    if annotation is str or annotation == "str":
        return "str"
    if annotation is bytes or annotation == "bytes":
        return "bytes"
    return "list"


class FunctionNode(CallableNode, Generic[P, R]):
    """A node that calls a plain function (sync, async, generator or async generator).

    The execution mode is detected once, here (SPEC N5). Calling the node calls the function
    directly with no framework behaviour; type checkers see the function's own signature
    (``FunctionNode[P, R]`` is generic over its parameters and return type).
    """

    func: Callable[P, R]

    def __init__(
        self,
        source: Callable[P, R] | FunctionNode[P, R],
        name: str | None = None,
        output_name: str | tuple[str, ...] | list[str] | None = None,
        *,
        rename_inputs: Mapping[str, str] | None = None,
        cache: bool = False,
        batch: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        in_thread: bool = False,
    ) -> None:
        func = source.func if isinstance(source, FunctionNode) else source
        if not callable(func):
            raise TypeError(f"FunctionNode needs a callable, got {func!r}")
        self.func = func
        self.name = name if name is not None else getattr(func, "__name__", "node")
        self.cache = bool(cache)
        self.batch = bool(batch)
        params, defaults = inspect_function(func, "node")
        outputs = normalize_outputs(output_name)
        self._init_ports(params, outputs, defaults)
        self.is_async, self.is_generator = mode_flags(func)
        annotation = _return_annotation(func)
        self.generator_join: GeneratorJoin = _generator_join(annotation)
        self._check_outputs(annotation)
        self.in_thread = _check_in_thread(in_thread, self.name, self.is_async, self.is_generator)
        self.retry = check_retry(retry, f"Node {self.name!r}")
        self.timeout = check_timeout(
            timeout, node_name=self.name, kind="Node", is_async=self.is_async or self.in_thread
        )
        self._apply_initial_renames(rename_inputs)

    def _check_outputs(self, annotation: Any) -> None:
        if self.is_generator and len(self.outputs) > 1:
            raise ValueError(
                f"Generator node {self.name!r} declares {len(self.outputs)} outputs; a generator "
                "produces one stream, so give it a single output_name."
            )
        if not self.outputs and annotation not in (inspect.Signature.empty, None, "None"):
            warnings.warn(
                f"Function {self.name!r} has a return annotation but no output_name, so its "
                f"return value will be discarded. Add @node(output_name='...') to keep it.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function itself, as if it were not a node."""
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        fname = getattr(self.func, "__name__", "?")
        label = fname if self.name == fname else f"{fname} as {self.name!r}"
        return f"{type(self).__name__}({label}, outputs={self.outputs!r})"


@overload
def node(source: Callable[P, R], /) -> FunctionNode[P, R]: ...
@overload
def node(
    source: str | tuple[str, ...] | list[str] | None = None,
    /,
    output_name: str | tuple[str, ...] | list[str] | None = None,
    *,
    rename_inputs: Mapping[str, str] | None = None,
    cache: bool = False,
    name: str | None = None,
    batch: bool = False,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    in_thread: bool = False,
) -> Callable[[Callable[P, R]], FunctionNode[P, R]]: ...
def node(
    source: Callable[..., Any] | str | tuple[str, ...] | list[str] | None = None,
    /,
    output_name: str | tuple[str, ...] | list[str] | None = None,
    *,
    rename_inputs: Mapping[str, str] | None = None,
    cache: bool = False,
    name: str | None = None,
    batch: bool = False,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    in_thread: bool = False,
) -> FunctionNode[Any, Any] | Callable[[Callable[P, R]], FunctionNode[P, R]]:
    """Turn a function into a :class:`FunctionNode` (``@node`` or ``@node(output_name=...)``).

    ``batch=True`` is read by the Daft runner only (vectorised UDF); other runners ignore it.
    ``retry=`` retries failures inside the node's execution; ``timeout=`` (seconds, async
    nodes only) cancels an attempt that runs too long with ``NodeTimeoutError``.
    ``in_thread=True`` (sync functions) makes AsyncRunner run the blocking call in a worker
    thread, counted by ``max_concurrency``; the default stays inline (SPEC AC1).
    """
    if source is not None and not isinstance(source, str) and callable(source):
        return FunctionNode(source, name=name, output_name=output_name,
                            rename_inputs=rename_inputs, cache=cache, batch=batch,
                            retry=retry, timeout=timeout, in_thread=in_thread)
    if source is not None:  # @node("out") — output name given positionally
        output_name = source  # type: ignore[assignment]

    def decorate(func: Callable[P, R]) -> FunctionNode[P, R]:
        return FunctionNode(func, name=name, output_name=output_name,
                            rename_inputs=rename_inputs, cache=cache, batch=batch,
                            retry=retry, timeout=timeout, in_thread=in_thread)

    return decorate


def _check_in_thread(value: Any, name: str, is_async: bool, is_generator: bool) -> bool:
    """``in_thread=True`` is for blocking plain ``def`` functions only."""
    if not isinstance(value, bool):
        raise TypeError(f"Node {name!r}: in_thread= must be True or False, got {value!r}.")
    if value and (is_async or is_generator):
        kind = "an async function" if is_async else "a generator"
        raise TypeError(
            f"Node {name!r} is {kind}; in_thread=True is for blocking sync functions, which "
            "AsyncRunner then runs in a worker thread. Drop in_thread=True."
        )
    return value
