"""InterruptNode and ``@interrupt``: a node that may pause the run for a human answer."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from hypergraph.nodes._base import CallableNode
from hypergraph.nodes.function import inspect_function, normalize_outputs
from hypergraph.policies import RetryPolicy, check_retry, check_timeout

__all__ = ["InterruptNode", "interrupt"]

_REQUIRED = object()


class InterruptNode(CallableNode):
    """Calls its handler; a non-``None`` return answers automatically, ``None`` pauses the run.

    On resume the answer arrives as a value for the node's output (SPEC HI2, HI3). Interrupts
    are never cached (HI11), whatever ``cache=`` says.
    """

    is_interrupt = True

    def __init__(
        self,
        source: Callable[..., Any] | InterruptNode,
        name: str | None = None,
        output_name: str | tuple[str, ...] | list[str] | Any = _REQUIRED,
        *,
        rename_inputs: Mapping[str, str] | None = None,
        cache: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        func = source.func if isinstance(source, InterruptNode) else source
        fname = getattr(func, "__name__", repr(func))
        if output_name is _REQUIRED or output_name is None:
            raise TypeError(
                f"Interrupt {fname!r} needs output_name: the name under which the human's answer "
                "is stored, e.g. @interrupt(output_name='decision')."
            )
        self.func = func
        self.name = name if name is not None else fname
        self.cache = bool(cache)
        params, defaults = inspect_function(func, "interrupt")
        self._init_ports(params, normalize_outputs(output_name), defaults)
        if not self.outputs:
            raise TypeError(f"Interrupt {fname!r} needs at least one output_name")
        self.is_async = inspect.iscoroutinefunction(func)
        self.retry = check_retry(retry, f"Interrupt {self.name!r}")
        self.timeout = check_timeout(
            timeout, node_name=self.name, kind="Interrupt handler", is_async=self.is_async
        )
        self._apply_initial_renames(rename_inputs)

    def __repr__(self) -> str:
        return f"InterruptNode({self.name}, outputs={self.outputs!r})"


def interrupt(
    output_name: str | tuple[str, ...] | list[str] | Any = _REQUIRED,
    *,
    rename_inputs: Mapping[str, str] | None = None,
    cache: bool = False,
    name: str | None = None,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], InterruptNode]:
    """Decorate a handler as an :class:`InterruptNode` (``@interrupt(output_name="decision")``).

    ``retry=``/``timeout=`` apply to the handler's call (an auto-answering handler may call a
    service); a resume that supplies the answer never calls it.
    """
    if callable(output_name) and not isinstance(output_name, str):
        raise TypeError(
            "@interrupt needs output_name: write @interrupt(output_name='decision'), not @interrupt."
        )

    def decorate(func: Callable[..., Any]) -> InterruptNode:
        return InterruptNode(func, name=name, output_name=output_name,
                             rename_inputs=rename_inputs, cache=cache, retry=retry,
                             timeout=timeout)

    return decorate
