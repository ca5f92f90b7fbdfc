"""``EchoRunner``: a third-party runner that records every call and delegates to ``SyncRunner``.

It shows the whole runner contract (SPEC PL6): a ``BaseRunner`` with ``capabilities``, ``run`` and
``map``, here composed around a ``SyncRunner`` rather than inheriting from it. Nothing in
hypergraph-core knows about it; nesting it inside another runner's graph works from its
``capabilities.returns_coroutine`` (``False``: parents call ``run`` directly).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from hypergraph.runners.base import BaseRunner
from hypergraph.runners.capabilities import RunnerCapabilities
from hypergraph.runners.sync import SyncRunner

__all__ = ["EchoCall", "EchoRunner"]


@attrs.frozen
class EchoCall:
    """One call to ``EchoRunner.run`` or ``.map``: the graph's name and the input values given."""

    method: Literal["run", "map"]
    graph_name: str | None
    inputs: Mapping[str, Any]


def _option_names(method: Callable[..., Any]) -> frozenset[str]:
    """Keyword-only parameters of ``method``: its options, as opposed to graph input values."""
    parameters = inspect.signature(method).parameters.values()
    return frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


class EchoRunner(BaseRunner):
    """Runs graphs exactly like ``SyncRunner`` and appends an ``EchoCall`` to ``calls`` per call."""

    def __init__(self, *, cache: Any = None, checkpointer: Any = None) -> None:
        self._inner = SyncRunner(cache=cache, checkpointer=checkpointer)
        self._lock = threading.Lock()
        self.calls: list[EchoCall] = []

    @property
    def capabilities(self) -> RunnerCapabilities:
        """The delegate's capabilities: whatever ``SyncRunner`` can run, so can this runner."""
        return self._inner.capabilities

    def run(self, graph: Any, values: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """Record the call, then ``SyncRunner.run`` with the same arguments."""
        self._record("run", graph, values, kwargs, _option_names(self._inner.run))
        return self._inner.run(graph, values, **kwargs)

    def map(
        self,
        graph: Any,
        values: Mapping[str, Any] | None = None,
        *,
        map_over: str | list[str],
        **kwargs: Any,
    ) -> Any:
        """Record the call, then ``SyncRunner.map`` with the same arguments."""
        self._record("map", graph, values, kwargs, _option_names(self._inner.map))
        return self._inner.map(graph, values, map_over=map_over, **kwargs)

    def _record(
        self,
        method: Literal["run", "map"],
        graph: Any,
        values: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        options: frozenset[str],
    ) -> None:
        inputs = dict(values or {})
        inputs.update((k, v) for k, v in kwargs.items() if k not in options)
        with self._lock:
            self.calls.append(EchoCall(method, getattr(graph, "name", None), inputs))
