"""What a node's function computes, as hashes: its code (lazily, once per code object) and its state.

``definition_hash`` is the code: the bytecode, constants, names and nested code objects of the
function, not the text of its lines, so two lambdas on one line differ and moving a function in
its file does not. It is computed on first use and memoized per code object, because reading
source or walking bytecode at decoration time would cost every ``@node`` tens of microseconds.

``state_digest`` is everything else the function's result depends on besides its inputs: closure
values, module-level constants it reads (numbers, strings, tuples of them), the instance of a
bound method or callable object, the arguments of a ``partial``. It is taken when a cache key is
computed (state can change between calls) and hashed by value. Nested functions inside that
state are hashed by their code and state in turn, never by name, so a decorator's wrapper and the
function it wraps both count. Other globals the function reads (functions, classes, modules,
objects) are not part of either hash.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
import re
import types
import weakref
from collections.abc import Callable
from typing import Any

__all__ = [
    "StateReader",
    "Unstable",
    "code_hash",
    "definition_hash_of",
    "state_digest",
    "state_reader",
]

_PROTOCOL = 5
_BY_CODE: weakref.WeakKeyDictionary[types.CodeType, str] = weakref.WeakKeyDictionary()
_NAMES: weakref.WeakKeyDictionary[types.CodeType, tuple[str, ...]] = weakref.WeakKeyDictionary()
_SCALARS = frozenset({int, float, complex, str, bytes, bool, type(None)})


class Unstable(Exception):
    """The function's state cannot be hashed by value (e.g. it holds a lock or a local class)."""


def code_hash(code: types.CodeType) -> str:
    """SHA-256 hex of a code object's behaviour-relevant parts; memoized per code object."""
    try:
        return _BY_CODE[code]
    except KeyError:
        pass
    digest = hashlib.sha256(_code_text(code).encode("utf-8", "surrogatepass")).hexdigest()
    _BY_CODE[code] = digest
    return digest


def definition_hash_of(func: Callable[..., Any]) -> str:
    """The hash of the code ``func`` runs (SPEC N6); never raises.

    Functions hash their code object; bound methods, ``partial`` objects and callable instances
    hash the function they call; builtins and other callables hash ``module:qualname``.
    """
    code = _code_of(func)
    if code is not None:
        return code_hash(code)
    identity = (
        f"{getattr(func, '__module__', None) or type(func).__module__}:"
        f"{getattr(func, '__qualname__', None) or type(func).__qualname__}"
    )
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()


StateReader = Callable[[], Any]
"""Returns a function's current state (a tuple to hash), or ``None`` when it has none now."""


def state_reader(func: Callable[..., Any]) -> StateReader | None:
    """How to read ``func``'s state at each cache lookup; ``None`` if it can never have any.

    Everything that does not change between calls (which globals the code reads, the closure
    cells) is found here, once per node, so a lookup only reads the current values.
    """
    if type(func) is types.FunctionType:
        closure = func.__closure__
        names = _code_names(func.__code__)
        if closure is None and not names:
            return None
        module_globals = func.__globals__

        def read_function() -> Any:
            constants = tuple(
                (n, module_globals[n]) for n in names
                if n in module_globals and _is_constant(module_globals[n])
            )
            if closure is None and not constants:
                return None
            return (_cells(func), constants)

        return read_function
    if isinstance(func, types.BuiltinFunctionType):  # a bound builtin method carries __self__
        owner = getattr(func, "__self__", None)
        if owner is None or isinstance(owner, types.ModuleType):
            return None
    return lambda: _state_of(func)


def state_digest(state: Any) -> str:
    """SHA-256 hex of ``state`` (from a ``StateReader``), by value; ``Unstable`` when impossible.

    Plain values are pickled directly; anything holding functions, modules or objects goes
    through a pickler that hashes functions by their code and state.
    """
    try:
        if _is_plain(state, 256):
            data = pickle.dumps(state, protocol=_PROTOCOL)
        else:
            buffer = io.BytesIO()
            _StatePickler(buffer).dump(state)
            data = buffer.getvalue()
    except Exception as exc:
        raise Unstable(f"{type(exc).__name__}: {exc}") from exc
    return hashlib.sha256(data).hexdigest()


def _is_plain(value: Any, budget: int) -> bool:
    """Only scalars and built-in containers of them, within ``budget`` elements (iterative)."""
    pending = [value]
    scalars = _SCALARS
    while pending:
        current = pending.pop()
        kind = type(current)
        if kind in scalars:
            continue
        if kind is tuple or kind is list:
            budget -= len(current)
            pending.extend(current)
        elif kind is dict:
            budget -= 2 * len(current)
            pending.extend(current.keys())
            pending.extend(current.values())
        else:
            return False
        if budget < 0:
            return False
    return True


# -- code --------------------------------------------------------------------------------------


def _code_of(func: Any) -> types.CodeType | None:
    for _ in range(8):  # methods of partials of callables ... unwrap a few levels, never loop
        if isinstance(func, types.FunctionType):
            return func.__code__
        if isinstance(func, types.MethodType):
            func = func.__func__
        elif isinstance(func, functools.partial):
            func = func.func
        elif isinstance(func, types.BuiltinFunctionType):
            return None
        else:
            call = getattr(type(func), "__call__", None)  # noqa: B004 - the class's method
            if not isinstance(call, types.FunctionType):
                return None
            func = call
    return None


def _code_text(code: types.CodeType) -> str:
    """Bytecode, constants, names and nested code (recursively); no line numbers, no addresses."""
    consts = tuple(
        _code_text(c) if isinstance(c, types.CodeType) else _const_text(c) for c in code.co_consts
    )
    return repr(
        (code.co_name, code.co_code.hex(), consts, code.co_names, code.co_varnames,
         code.co_freevars, code.co_cellvars, code.co_argcount, code.co_posonlyargcount,
         code.co_kwonlyargcount, code.co_flags)
    )


def _const_text(value: Any) -> str:
    if isinstance(value, frozenset):  # its repr order follows the per-process string hash
        return "frozenset({" + ", ".join(sorted(_const_text(v) for v in value)) + "})"
    if isinstance(value, tuple):
        return "(" + ", ".join(_const_text(v) for v in value) + ",)"
    return _stable_repr(value)


def _stable_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__module__}.{type(value).__qualname__}>"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


# -- state -------------------------------------------------------------------------------------


def _state_of(func: Any) -> Any:
    """The values ``func`` carries besides its code, as a plain tuple to pickle."""
    if isinstance(func, types.FunctionType):
        return ("function", func)  # hashed by code and state by the state pickler
    if isinstance(func, types.MethodType):
        return ("method", func.__func__, func.__self__)
    if isinstance(func, functools.partial):
        return ("partial", func.func, func.args, func.keywords)
    if isinstance(func, types.BuiltinFunctionType):
        return ("builtin method", func.__self__)
    return ("callable", func)


def _code_names(code: types.CodeType) -> tuple[str, ...]:
    """Every name the code and its nested code objects read (globals among them); memoized."""
    try:
        return _NAMES[code]
    except KeyError:
        pass
    found: dict[str, None] = {}
    pending = [code]
    while pending:
        current = pending.pop()
        found.update(dict.fromkeys(current.co_names))
        pending.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    names = _NAMES[code] = tuple(found)
    return names


def _global_constants(func: types.FunctionType) -> tuple[tuple[str, Any], ...]:
    """Module-level constants the function reads (``TEMPERATURE = 0.7``), by value, now.

    Only plain values (numbers, strings, bytes, ``None`` and tuples/frozensets of them) count;
    functions, classes, modules and other objects a function reads by name are not part of
    its state (see the module docstring).
    """
    module_globals = func.__globals__
    return tuple(
        (name, module_globals[name])
        for name in _code_names(func.__code__)
        if name in module_globals and _is_constant(module_globals[name])
    )


def _is_constant(value: Any, depth: int = 0) -> bool:
    if type(value) in _SCALARS:
        return True
    if isinstance(value, tuple | frozenset) and depth < 3 and len(value) <= 64:
        return all(_is_constant(v, depth + 1) for v in value)
    return False


def _cells(func: types.FunctionType) -> tuple[Any, ...]:
    cells = []
    for cell in func.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:  # a closure variable not assigned yet
            cells.append(_EMPTY_CELL)
    return tuple(cells)


_EMPTY_CELL = "<empty cell>"


class _StatePickler(pickle.Pickler):
    """Pickles state by value; functions by the digest of their code and state, modules by name."""

    def __init__(self, file: io.BytesIO, open_functions: set[int] | None = None) -> None:
        super().__init__(file, protocol=_PROTOCOL)
        self._open = open_functions if open_functions is not None else set()

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, types.FunctionType):
            key = id(obj)
            if key in self._open:  # a recursive local function refers to itself
                return (str, (f"recursive function {code_hash(obj.__code__)}",))
            self._open.add(key)
            try:
                buffer = io.BytesIO()
                _StatePickler(buffer, self._open).dump(
                    (code_hash(obj.__code__), _cells(obj), _global_constants(obj),
                     obj.__defaults__, obj.__kwdefaults__)
                )
            finally:
                self._open.discard(key)
            return (str, (f"function {hashlib.sha256(buffer.getvalue()).hexdigest()}",))
        if isinstance(obj, types.ModuleType):
            return (str, (f"module {obj.__name__}",))
        return NotImplemented
