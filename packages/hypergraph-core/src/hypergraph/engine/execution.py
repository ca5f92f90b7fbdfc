"""Turning what a node's function returned into outputs or a routing decision.

Shared by every runner so a generator, a multi-output tuple or a gate's answer means the same
thing whichever runner executed the node (SPEC N7, GN2, GN3, GT6).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from hypergraph.nodes.gates import END
from hypergraph.plan import IFELSE, NodePlan

__all__ = ["GeneratorOutput", "join_chunks", "map_outputs", "resolve_decision"]


class GeneratorOutput(list):  # type: ignore[type-arg]
    """The drained chunks of a generator node: a plain list that also supports ``async for``.

    Lets consumers written for lazy async iterators (``async for token in tokens``) keep working
    while the value stays cacheable, picklable and equal to a plain list.
    """

    def __aiter__(self) -> AsyncIterator[Any]:
        return _AsyncListIterator(iter(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (GeneratorOutput, (list(self),))


class _AsyncListIterator:
    __slots__ = ("_it",)

    def __init__(self, it: Any) -> None:
        self._it = it

    def __aiter__(self) -> _AsyncListIterator:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None


def join_chunks(np: NodePlan, chunks: list[Any]) -> Any:
    """The stored value of a drained generator: joined text/bytes, else a list (GN2)."""
    join = getattr(np.node, "generator_join", "list")
    if join == "str":
        return "".join(str(c) for c in chunks)
    if join == "bytes":
        return b"".join(chunks)
    return GeneratorOutput(chunks)


def map_outputs(np: NodePlan, value: Any) -> dict[str, Any]:
    """Name the returned value by the node's outputs (SPEC N2, N7)."""
    outputs = np.outputs
    count = len(outputs)
    if count == 1:
        return {outputs[0]: value}
    if count == 0:
        return {}
    if not isinstance(value, tuple | list):
        raise TypeError(
            f"Node {np.name!r} declares {count} outputs {outputs!r} but returned "
            f"{type(value).__name__}; return a tuple (or list) of {count} values."
        )
    if len(value) != count:
        raise ValueError(
            f"Node {np.name!r} declares {count} outputs {outputs!r} but returned {len(value)} "
            f"values; return exactly {count}."
        )
    return dict(zip(outputs, value, strict=True))


def resolve_decision(np: NodePlan, raw: Any) -> Any:
    """Validate a gate's return and turn it into END or a list of target node indices (GT6)."""
    gate = np.node
    gate_plan = np.gate_plan
    assert gate_plan is not None
    by_name = gate_plan.by_name
    if np.kind == IFELSE:
        if raw is not True and raw is not False:
            raise TypeError(
                f"@ifelse gate {np.name!r} must return True or False, got {type(raw).__name__} "
                f"{raw!r}. Wrap the condition in bool(...)."
            )
        chosen = gate.when_true if raw else gate.when_false
        return END if chosen is END else _indices(by_name, [chosen])
    if gate.multi_target:
        if not isinstance(raw, list):
            raise TypeError(
                f"@route gate {np.name!r} has multi_target=True and must return a list of "
                f"targets, got {type(raw).__name__} {raw!r}."
            )
        for item in raw:
            _check_target(np, item)
        return _indices(by_name, raw)
    if raw is None:
        if gate.fallback is None:
            return []
        raw = gate.fallback
    _check_target(np, raw)
    if raw is END:
        return END
    return _indices(by_name, [raw])


def _check_target(np: NodePlan, value: Any) -> None:
    targets = np.node.targets
    fallback = getattr(np.node, "fallback", None)
    if value is END:
        return
    if value is not END and isinstance(value, str) and (value in targets or value == fallback):
        return
    valid = ", ".join("END" if t is END else repr(t) for t in targets)
    hint = " Return the END sentinel (from hypergraph import END), not the string." if (
        value == "END" and value is not END
    ) else ""
    raise ValueError(
        f"@route gate {np.name!r} returned {value!r}, which is not one of its targets: "
        f"{valid}.{hint}"
    )


def _indices(by_name: dict[Any, Any], names: Iterable[Any]) -> list[int]:
    chosen: list[int] = []
    for name in names:
        target = by_name.get(name)
        if target is None or target is END:
            continue
        if target not in chosen:
            chosen.append(target)
    return chosen
