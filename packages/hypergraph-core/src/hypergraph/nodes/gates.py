"""Gates: ``@route`` and ``@ifelse`` decide which downstream nodes may run, and ``END``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from hypergraph.nodes._base import CallableNode
from hypergraph.nodes.function import inspect_function
from hypergraph.policies import RetryPolicy, check_retry

__all__ = ["END", "GateNode", "IfElseNode", "RouteNode", "branch", "ifelse", "route"]


class _End(str):
    """The END sentinel: a ``str`` subclass that is only equal to itself (compare with ``is``)."""

    _instance: _End | None = None

    def __new__(cls) -> _End:
        if cls._instance is None:
            cls._instance = super().__new__(cls, "END")
        return cls._instance

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return hash("hypergraph.END")

    def __repr__(self) -> str:
        return "END"

    def __reduce__(self) -> str:
        return "END"


END: Final = _End()
"""Route target that stops the paths a gate controls."""


class GateNode(CallableNode):
    """A node whose function returns a routing decision instead of data.

    The decision lives in run state only: gates have no outputs (SPEC GT7).
    """

    targets: list[Any]
    descriptions: dict[Any, str]

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        kind: str,
        name: str | None,
        cache: bool,
        rename_inputs: Mapping[str, str] | None,
        retry: RetryPolicy | None = None,
    ) -> None:
        fname = getattr(func, "__name__", repr(func))
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"@{kind} function {fname!r} is async; routing decisions must be synchronous. "
                "Compute the data in an async @node upstream and route on its output."
            )
        if inspect.isgeneratorfunction(func):
            raise TypeError(f"@{kind} function {fname!r} is a generator; a gate must return a decision.")
        self.func = func
        self.name = name if name is not None else fname
        self.cache = bool(cache)
        self.retry = check_retry(retry, f"@{kind} {self.name!r}")
        params, defaults = inspect_function(func, f"@{kind}")
        self._init_ports(params, (), defaults)
        self._apply_initial_renames(rename_inputs)

    is_gate = True


    @property
    def node_targets(self) -> list[str]:
        """Targets that are nodes (everything but END)."""
        return [t for t in self.targets if t is not END]


    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, targets={self.targets!r})"


def _check_target(kind: str, target: Any) -> None:
    if target is END:
        return
    if not isinstance(target, str):
        raise TypeError(f"@{kind} targets must be node names (str) or END, got {target!r}")
    if target == "END":
        raise ValueError(
            f"@{kind} target 'END' is the plain string; use the END sentinel: "
            "`from hypergraph import END`."
        )


class RouteNode(GateNode):
    """A gate that returns one target name (or ``END``), or a list with ``multi_target=True``."""

    def __init__(
        self,
        func: Callable[..., Any],
        targets: Sequence[Any] | Mapping[Any, str],
        *,
        fallback: Any = None,
        multi_target: bool = False,
        cache: bool = False,
        name: str | None = None,
        rename_inputs: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if isinstance(targets, Mapping):
            self.descriptions = dict(targets)
            target_list = list(targets)
        elif isinstance(targets, str):  # one target (END is a str too), not its characters
            self.descriptions = {}
            target_list = [targets]
        else:
            self.descriptions = {}
            target_list = list(targets)
        if not target_list:
            raise ValueError("@route needs at least one target")
        for target in target_list:
            _check_target("route", target)
        if fallback is not None:
            _check_target("route", fallback)
            if multi_target:
                raise ValueError("@route: fallback cannot be combined with multi_target=True")
        # one entry per target, the fallback included: every node the route may activate
        target_list = list(dict.fromkeys(target_list))
        if fallback is not None and not any(t == fallback for t in target_list):
            target_list.append(fallback)
        self.targets = target_list
        self.fallback = fallback
        self.multi_target = bool(multi_target)
        super().__init__(func, kind="route", name=name, cache=cache, rename_inputs=rename_inputs,
                         retry=retry)

    @property
    def node_targets(self) -> list[str]:
        names = [t for t in self.targets if t is not END]
        if self.fallback is not None and self.fallback is not END and self.fallback not in names:
            names.append(self.fallback)
        return names


class IfElseNode(GateNode):
    """A two-way gate: ``True`` activates ``when_true``, ``False`` activates ``when_false``."""

    def __init__(
        self,
        func: Callable[..., Any],
        when_true: Any,
        when_false: Any,
        *,
        cache: bool = False,
        name: str | None = None,
        rename_inputs: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        _check_target("ifelse", when_true)
        _check_target("ifelse", when_false)
        if when_true is when_false or (when_true == when_false):
            raise ValueError(
                f"@ifelse branches must differ; both are {when_true!r}. Use a plain edge instead."
            )
        self.when_true = when_true
        self.when_false = when_false
        self.targets = [when_true, when_false]
        self.descriptions = {True: "True", False: "False"}
        super().__init__(func, kind="ifelse", name=name, cache=cache, rename_inputs=rename_inputs,
                         retry=retry)


def route(
    targets: Sequence[Any] | Mapping[Any, str],
    *,
    fallback: Any = None,
    multi_target: bool = False,
    cache: bool = False,
    name: str | None = None,
    rename_inputs: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
) -> Callable[[Callable[..., Any]], RouteNode]:
    """Decorate a routing function: it returns the name of the node to run next, or ``END``.

    ``retry=`` retries the routing function like a node's (gates are sync, so no ``timeout=``).
    """

    def decorate(func: Callable[..., Any]) -> RouteNode:
        return RouteNode(func, targets, fallback=fallback, multi_target=multi_target,
                         cache=cache, name=name, rename_inputs=rename_inputs, retry=retry)

    return decorate


def ifelse(
    when_true: Any,
    when_false: Any,
    *,
    cache: bool = False,
    name: str | None = None,
    rename_inputs: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
) -> Callable[[Callable[..., Any]], IfElseNode]:
    """Decorate a predicate: ``True`` runs ``when_true``, ``False`` runs ``when_false``.

    ``retry=`` retries the predicate like a node's function.
    """

    def decorate(func: Callable[..., Any]) -> IfElseNode:
        return IfElseNode(func, when_true, when_false, cache=cache, name=name,
                          rename_inputs=rename_inputs, retry=retry)

    return decorate


branch = ifelse
"""Alias of :func:`ifelse` (the name some docs use)."""
