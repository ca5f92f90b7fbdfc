"""Compiled runs: a static plan of plain sync functions as one generated Python function.

A plan whose supersteps are precomputed (``Plan.inline_schedule``) does the same thing on every
unobserved run: read inputs, call each function once, store each output at version 1. Like
attrs and cattrs generate methods, this module writes that sequence out once per plan as Python
source, so a run pays only for the calls. Two variants are generated:

- ``run_state(state, fail)`` leaves the ``RunState`` exactly as the generic loop would (values,
  versions, writers, consumed, exec_count, superstep), so snapshots and results are identical;
- ``run_values(values, fail)`` keeps everything in locals and returns the output columns as a
  tuple: a map item or a nested run needs nothing else.

On a node failure both hand over to ``fail``, which rebuilds the generic loop's partial state
from the outputs computed so far (see ``RunLoop._replay``) and never calls a function twice.
"""

from __future__ import annotations

import copy
import keyword
from typing import TYPE_CHECKING, Any

from hypergraph.engine.engine import COMPILED_ENABLED
from hypergraph.engine.execution import map_outputs
from hypergraph.plan import CONSTANT, COPY_DEFAULT
from hypergraph.results import _MISSING

if TYPE_CHECKING:
    from collections.abc import Callable

    from hypergraph.plan import NodePlan, Plan

__all__ = ["MISSING", "Compiled", "compile_plan", "enabled", "set_enabled"]


MISSING: Any = _MISSING
"""An output column's entry for an item that lacks the output."""

def enabled() -> bool:
    """Whether runs may take the compiled path (tests switch it off to compare)."""
    return COMPILED_ENABLED[0]


def set_enabled(value: bool) -> bool:
    """Switch the compiled path on or off process-wide; returns the previous setting."""
    previous = COMPILED_ENABLED[0]
    COMPILED_ENABLED[0] = value
    return previous


class Compiled:
    """The generated functions of one plan, and what their failure handler needs to know."""

    __slots__ = ("batch_of", "batch_start", "columns", "positions", "run_state", "run_values", "source")

    def __init__(
        self,
        run_state: Callable[..., None],
        run_values: Callable[..., Any],
        columns: tuple[str, ...],
        positions: tuple[NodePlan, ...],
        batch_of: tuple[int, ...],
        batch_start: tuple[int, ...],
        source: str,
    ) -> None:
        self.run_state = run_state
        self.run_values = run_values
        # output names in ``Engine.output_values`` order: what ``run_values`` returns
        self.columns = columns
        # nodes in execution order (linear position -> node), its superstep, superstep starts
        self.positions = positions
        self.batch_of = batch_of
        self.batch_start = batch_start
        self.source = source


def named_outputs(np: NodePlan, recorded: Any) -> dict[str, Any]:
    """A recorded result of the generated code as the outputs dict the loop commits."""
    outputs = np.outputs
    if len(outputs) == 1:
        return {outputs[0]: recorded}
    return dict(recorded) if outputs else {}


def compile_plan(plan: Plan) -> Compiled | None:
    """Generate the functions of ``plan``; ``None`` when it is not a static schedule of plain
    sync functions whose every output name has one producer."""
    schedule = plan.schedule
    if not plan.inline_schedule or schedule is None:
        return None
    producer: dict[str, int] = {}
    for np in plan.nodes:
        for name in np.outputs:
            if name in producer:
                return None  # two writers of one name: versions depend on the values
            producer[name] = np.index
    step: dict[int, int] = {}
    positions: list[NodePlan] = []
    batch_of: list[int] = []
    batch_start: list[int] = []
    for k, batch in enumerate(schedule):
        batch_start.append(len(positions))
        for np in batch:
            step[np.index] = k
            positions.append(np)
            batch_of.append(k)
    position = {np.index: p for p, np in enumerate(positions)}
    names = plan.selected if plan.selected is not None else plan.output_names

    consts: dict[str, Any] = {"_deepcopy": copy.deepcopy, "_map": map_outputs, "_MISSING": MISSING}

    def local(node_index: int, name: str) -> str:
        p = position[node_index]
        if len(plan.nodes[node_index].outputs) == 1:
            return f"o{p}"
        return f"o{p}[{name!r}]"

    def arg_exprs(np: NodePlan, p: int) -> tuple[list[str], list[str], bool]:
        """(argument expressions, consumed-version expressions, may raise while collecting)."""
        exprs: list[str] = []
        versions: list[str] = []
        risky = False
        for i, name in enumerate(np.inputs):
            w = producer.get(name)
            ran = w is not None and step[w] < step[np.index]
            if ran and w in np.producers[i]:
                exprs.append(local(w, name))  # type: ignore[arg-type]
                versions.append("1")
                continue
            kind, value = np.fallbacks[i]
            const = f"C{p}_{i}"
            if w is not None:
                # produced elsewhere (not wired here, or not yet): the fallback, as collect does
                versions.append("1" if ran else "0")
                if kind == COPY_DEFAULT:
                    consts[const] = value
                    exprs.append(f"_deepcopy({const})")
                    risky = True
                elif kind == CONSTANT:
                    consts[const] = value
                    exprs.append(const)
                else:
                    exprs.append("None")
                continue
            versions.append(f"(1 if {name!r} in values else 0)")
            if kind == COPY_DEFAULT:
                consts[const] = value
                exprs.append(f"(values[{name!r}] if {name!r} in values else _deepcopy({const}))")
                risky = True
            elif kind == CONSTANT:
                consts[const] = value
                exprs.append(f"values.get({name!r}, {const})")
            else:
                exprs.append(f"values.get({name!r})")
        return exprs, versions, risky

    def call_expr(np: NodePlan, p: int, exprs: list[str]) -> str:
        consts[f"F{p}"] = np.func
        if all(prm.isidentifier() and not keyword.iskeyword(prm) for prm in np.params):
            args = ", ".join(f"{prm}={e}" for prm, e in zip(np.params, exprs, strict=True))
        else:
            args = "**{" + ", ".join(
                f"{prm!r}: {e}" for prm, e in zip(np.params, exprs, strict=True)
            ) + "}"
        call = f"F{p}({args})"
        if len(np.outputs) > 1:
            consts[f"NP{p}"] = np
            return f"_map(NP{p}, {call})"
        return call

    def body(state_variant: bool) -> list[str]:
        lines: list[str] = []
        target = "state" if state_variant else "values"
        if state_variant:
            lines += [
                "values = state.values",
                "versions = state.versions",
                "writers = state.writers",
                "consumed = state.consumed",
                "exec_count = state.exec_count",
            ]
        for k, batch in enumerate(schedule):
            start = batch_start[k]
            commits: list[str] = []
            for j, np in enumerate(batch):
                p = start + j
                first = start if state_variant else 0
                recorded = "(" + "".join(f"o{q}, " for q in range(first, p)) + ")"

                def handler(at: str, k: int = k, p: int = p, recorded: str = recorded) -> list[str]:
                    call = f"fail({target}, {k}, {p}, exc, {recorded}, {at})"
                    if state_variant:
                        return ["    state.superstep = " + str(k), "    " + call]
                    return ["    return " + call]

                exprs, versions, risky = arg_exprs(np, p)
                if risky:  # a default's deep copy fails before the call, like collect
                    for i, e in enumerate(exprs):
                        if "_deepcopy" not in e:
                            continue
                        lines += ["try:", f"    a{p}_{i} = {e}", "except Exception as exc:"]
                        lines += handler("True")
                        exprs[i] = f"a{p}_{i}"
                lines += ["try:", f"    o{p} = {call_expr(np, p, exprs)}", "except Exception as exc:"]
                lines += handler("False")
                if not state_variant:
                    continue
                index = np.index
                for name in np.outputs:
                    value = local(index, name)
                    commits += [
                        f"values[{name!r}] = {value}",
                        f"versions[{name!r}] = 1",
                        f"writers[{name!r}] = {index}",
                    ]
                commits.append(f"consumed[{index}] = ({''.join(v + ', ' for v in versions)})")
                commits.append(f"exec_count[{index}] = 1")
            lines += commits
        if state_variant:
            lines.append(f"state.superstep = {len(schedule)}")
        else:
            cols = []
            for name in names:
                w = producer.get(name)
                cols.append(local(w, name) if w is not None else f"values.get({name!r}, _MISSING)")
            lines.append("return (" + "".join(c + ", " for c in cols) + ")")
        return lines

    indent = "        "
    state_lines = [indent + line for line in body(True)]
    values_lines = [indent + line for line in body(False)]
    params = ", ".join(consts)
    source = "\n".join(
        [
            f"def _factory({params}):",
            "    def run_state(state, fail):",
            *state_lines,
            "    def run_values(values, fail):",
            *values_lines,
            "    return run_state, run_values",
            "",
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<hypergraph compiled plan {plan.graph.name or ''}>", "exec"), namespace)
    run_state, run_values = namespace["_factory"](**consts)
    return Compiled(
        run_state, run_values, tuple(names), tuple(positions), tuple(batch_of),
        tuple(batch_start), source,
    )
