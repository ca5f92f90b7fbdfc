"""FunctionNode and the ``@node`` decorator: a plain function as a graph node."""

from __future__ import annotations

import hashlib
import inspect
import re
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


def inspect_function(func: Callable[..., Any], kind: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Parameter names in signature order and their defaults; rejects kinds runners can't pass.

    Runners always call with keyword arguments (SPEC N3).
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Cannot build a {kind} from {func!r}: {exc}") from exc
    names: list[str] = []
    defaults: dict[str, Any] = {}
    fname = getattr(func, "__name__", repr(func))
    for param in signature.parameters.values():
        if param.kind is param.POSITIONAL_ONLY:
            raise TypeError(
                f"{kind} {fname!r}: parameter {param.name!r} is positional-only; runners pass "
                "inputs by keyword, so remove the '/' from the signature."
            )
        if param.kind is param.VAR_POSITIONAL:
            raise TypeError(
                f"{kind} {fname!r}: parameter '*{param.name}' is not supported; runners pass "
                "inputs by keyword, so declare each input as a named parameter."
            )
        if param.kind is param.VAR_KEYWORD:
            raise TypeError(
                f"{kind} {fname!r}: parameter '**{param.name}' is not supported; declare each "
                "input as a named parameter."
            )
        names.append(param.name)
        if param.default is not param.empty:
            defaults[param.name] = param.default
    return tuple(names), defaults


def definition_hash_of(func: Callable[..., Any]) -> str:
    """SHA-256 of the function's source; a stable fallback when source is unavailable (N6).

    Never raises: functions built with ``exec``, lambdas typed into a REPL and builtins all hash.
    """
    try:
        text = inspect.getsource(func)
    except (OSError, TypeError):
        text = _fallback_text(func)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _fallback_text(func: Callable[..., Any]) -> str:
    """Bytecode + defaults + closure, else ``module:qualname``; stable across processes."""
    identity = f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', '?')}"
    code = getattr(func, "__code__", None)
    if code is None:
        return identity if identity != "?:?" else _stable_repr(func)
    closure = tuple(_cell_text(cell) for cell in (getattr(func, "__closure__", None) or ()))
    defaults = (getattr(func, "__defaults__", None), getattr(func, "__kwdefaults__", None))
    return "\n".join(
        (identity, _code_text(code), _stable_repr(defaults), _stable_repr(closure))
    )


def _code_text(code: Any) -> str:
    """A code object's behaviour-relevant parts; nested code objects recurse (no addresses)."""
    consts = tuple(
        _code_text(c) if inspect.iscode(c) else _stable_repr(c) for c in code.co_consts
    )
    return repr(
        (code.co_name, code.co_code.hex(), consts, code.co_names, code.co_varnames,
         code.co_freevars, code.co_cellvars, code.co_argcount, code.co_kwonlyargcount)
    )


def _cell_text(cell: Any) -> str:
    try:
        contents = cell.cell_contents
    except ValueError:  # a closure variable that was never assigned
        return "<empty cell>"
    return _stable_repr(contents)


def _stable_repr(value: Any) -> str:
    """``repr`` without memory addresses (they change between processes); never raises."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__module__}.{type(value).__qualname__}>"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def normalize_outputs(output_name: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if output_name is None:
        return ()
    if isinstance(output_name, str):
        return (output_name,)
    outputs = tuple(output_name)
    if not all(isinstance(o, str) for o in outputs):
        raise TypeError(f"output_name must be a string or a tuple of strings, got {output_name!r}")
    return outputs


def _return_annotation(func: Callable[..., Any]) -> Any:
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
        self.is_async = inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)
        self.is_generator = inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)
        annotation = _return_annotation(func)
        self.generator_join: GeneratorJoin = _generator_join(annotation)
        self._definition_hash = definition_hash_of(func)
        self._check_outputs(annotation)
        self.retry = check_retry(retry, f"Node {self.name!r}")
        self.timeout = check_timeout(
            timeout, node_name=self.name, kind="Node", is_async=self.is_async
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
) -> FunctionNode[Any, Any] | Callable[[Callable[P, R]], FunctionNode[P, R]]:
    """Turn a function into a :class:`FunctionNode` (``@node`` or ``@node(output_name=...)``).

    ``batch=True`` is read by the Daft runner only (vectorised UDF); other runners ignore it.
    ``retry=`` retries failures inside the node's execution; ``timeout=`` (seconds, async
    nodes only) cancels an attempt that runs too long with ``NodeTimeoutError``.
    """
    if source is not None and not isinstance(source, str) and callable(source):
        return FunctionNode(source, name=name, output_name=output_name,
                            rename_inputs=rename_inputs, cache=cache, batch=batch,
                            retry=retry, timeout=timeout)
    if source is not None:  # @node("out") — output name given positionally
        output_name = source  # type: ignore[assignment]

    def decorate(func: Callable[P, R]) -> FunctionNode[P, R]:
        return FunctionNode(func, name=name, output_name=output_name,
                            rename_inputs=rename_inputs, cache=cache, batch=batch,
                            retry=retry, timeout=timeout)

    return decorate
