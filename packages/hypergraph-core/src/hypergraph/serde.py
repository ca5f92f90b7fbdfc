"""One cattrs converter for hypergraph's value types, extended by plugins (DESIGN §4).

Nothing in hypergraph hand-writes ``to_dict``/``from_dict``: results, pause info, events and
checkpoint records go through the converter made here. Plugins add hooks through the
``hypergraph_configure_converter`` hook.
"""

from __future__ import annotations

from typing import Any

from cattrs.preconf.json import JsonConverter
from cattrs.preconf.json import make_converter as _make_json_converter

from hypergraph.checkpointers.records import StepStatus, WorkflowStatus
from hypergraph.engine.state import Decision
from hypergraph.nodes.gates import END
from hypergraph.results import OutputValues

__all__ = ["make_converter"]


def make_converter(*, with_plugins: bool = True) -> JsonConverter:
    """A fresh JSON converter that knows hypergraph's types (never a shared global)."""
    converter = _make_json_converter()
    converter.register_unstructure_hook(OutputValues, dict)
    converter.register_structure_hook(OutputValues, lambda value, _: OutputValues(value))
    converter.register_unstructure_hook(type(END), lambda _: {"__hypergraph__": "END"})
    converter.register_structure_hook(type(END), _structure_end)
    converter.register_structure_hook(Decision, _structure_decision)
    converter.register_unstructure_hook(BaseException, _unstructure_error)
    for status in (WorkflowStatus, StepStatus):
        converter.register_unstructure_hook(status, _enum_value)
    if with_plugins:
        from hypergraph.plugins import configure_converter

        configure_converter(converter)
    return converter


def _enum_value(member: Any) -> Any:
    return member.value


def _structure_end(value: Any, _: Any) -> Any:
    if value == {"__hypergraph__": "END"}:
        return END
    raise ValueError(f"Expected the END marker, got {value!r}")


def _structure_decision(value: Any, _: Any) -> Any:
    return END if value == {"__hypergraph__": "END"} else [int(v) for v in value]


def _unstructure_error(exc: BaseException) -> dict[str, str]:
    """Exceptions are recorded as text; they are not rebuilt on the way back."""
    return {"type": type(exc).__name__, "message": str(exc)}
