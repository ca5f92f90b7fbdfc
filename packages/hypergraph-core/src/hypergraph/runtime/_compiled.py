"""Compiled runs: a static plan of plain sync functions as one generated Python function.

A plan whose supersteps are precomputed (``Plan.inline_schedule``) does the same thing on every
unobserved run: read inputs, call each function once, store each output at version 1. Like
attrs and cattrs generate methods, this module writes that sequence out once per plan as Python
source, so a run pays only for the calls. Three variants are generated:

- ``run_values(values, fail, key)`` returns the output columns as a tuple: all a map item needs;
- ``run_record(values, fail, key)`` returns the same columns and the record of every node's
  outputs, from which ``RunLoop`` rebuilds the ``RunState`` the generic loop would have left
  (values, versions, writers, consumed, exec_count, superstep) only when a snapshot is asked for;
- ``run_timed(values, fail, key)`` also reads the clock before and after each call: a run
  recorded when it ends (``durability="exit"``) is journaled from it afterwards.

Everything lives in locals. On a node failure all three hand over to ``fail`` (passing ``key``
through, e.g. a map item's index, and for ``run_timed`` the times so far; ``run_timed`` also
hands over interrupts, which its handler raises on), which rebuilds the generic loop's partial
state from the outputs computed so far (``RunLoop._replay``) and never calls a function twice.
"""

from __future__ import annotations

import copy
import keyword
from time import perf_counter
from types import FunctionType
from typing import TYPE_CHECKING, Any

from hypergraph.engine.engine import COMPILED_ENABLED
from hypergraph.engine.execution import map_outputs
from hypergraph.plan import CONSTANT, COPY_DEFAULT, FUNCTION, GRAPH
from hypergraph.results import _MISSING, OutputValues

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

    __slots__ = (
        "batch_of", "batch_start", "columns", "complete", "ends", "nests", "positions",
        "run_async", "run_record", "run_timed", "run_values", "source",
    )

    def __init__(
        self,
        run_values: Callable[..., Any] | None,
        run_record: Callable[..., Any] | None,
        columns: tuple[str, ...],
        positions: tuple[NodePlan, ...],
        batch_of: tuple[int, ...],
        batch_start: tuple[int, ...],
        source: str,
    ) -> None:
        self.run_values = run_values
        self.run_record = run_record
        # output names in ``Engine.output_values`` order: what ``run_values`` returns
        self.columns = columns
        # nodes in execution order (linear position -> node), its superstep, superstep starts
        self.positions = positions
        self.batch_of = batch_of
        self.batch_start = batch_start
        self.source = source
        # every column is a node's output, so no entry can be MISSING
        self.complete = False
        # calls nested graphs' code: only for drivers that stop a superstep at its first
        # failure (one that finishes siblings orders and finishes nested runs its own way)
        self.nests = False
        # a plan with async functions has only this variant (``run_values``/``run_record``
        # are then None): ``await run_async(values, fail, key, semaphore or None)``
        self.run_async: Callable[..., Any] | None = None
        # ``run_record`` that also reads the clock around each call: ``(columns, record,
        # (start0, end0, start1, ...))``, for a recorded run that writes its steps when it ends
        # (``RunLoop._run_timed``); its failure handler gets those times of the calls made
        self.run_timed: Callable[..., Any] | None = None
        # by input names (in order), how a completed ``run_timed`` run ends (``CompiledEnd``)
        self.ends: dict[tuple[str, ...], Any] = {}

    def journal_into(
        self,
        journal: list[Any],
        values: dict[str, Any],
        record: tuple[Any, ...],
        times: tuple[float, ...],
        seen: tuple[Any, ...],
    ) -> None:
        """A completed ``run_timed`` run's calls as the journal entries ``_inline_journaled``
        appends (``seen``: what each call consumed, its ``CompiledEnd``), and their outputs
        into ``values``."""
        append = journal.append
        batch_of = self.batch_of
        for q, np in enumerate(self.positions):
            outputs = named_outputs(np, record[q])
            values.update(outputs)
            t = 2 * q
            append((batch_of[q], np, (np, outputs, None), times[t], times[t + 1], seen[q]))

    def output_values(self, columns: tuple[Any, ...]) -> OutputValues:
        """A run's output values from its columns, as ``Engine.output_values`` gives them."""
        if self.complete:
            return OutputValues(zip(self.columns, columns))  # noqa: B905
        return OutputValues(
            (name, value) for name, value in zip(self.columns, columns)  # noqa: B905
            if value is not MISSING
        )


def named_outputs(np: NodePlan, recorded: Any) -> dict[str, Any]:
    """A recorded result of the generated code as the outputs dict the loop commits."""
    outputs = np.outputs
    if len(outputs) == 1:
        return {outputs[0]: recorded}
    return dict(recorded) if outputs else {}


def _positional_order(func: Any, params: tuple[str, ...]) -> tuple[str, ...] | None:
    """``params`` in positional order if ``func`` is a plain function taking exactly them as
    its leading positional-or-keyword parameters; else ``None`` (call by keyword)."""
    if type(func) is not FunctionType:
        return None
    code = func.__code__
    positional = code.co_varnames[code.co_posonlyargcount:code.co_argcount]
    if code.co_posonlyargcount or set(positional[: len(params)]) != set(params):
        return None
    if len(positional) - len(params) > len(func.__defaults__ or ()):
        return None
    return positional[: len(params)]


class _ChildFailure:
    """A nested graph's failure handler: the child's state is replayed as the generic child
    loop leaves it, which notes the failing inner node (PEP 678, its graph and superstep), then
    the error raises into the parent's graph node (R11)."""

    __slots__ = ("graph",)

    def __init__(self, graph: Any) -> None:
        self.graph = graph

    def __call__(
        self, values: Any, batch: int, pos: int, exc: Exception, recorded: Any, at: bool, key: Any
    ) -> Any:
        from hypergraph.runners._context import RunInfo
        from hypergraph.runners._options import PartitionedValues
        from hypergraph.runtime._driver import DriverTraits
        from hypergraph.runtime._loop import RunLoop

        graph = self.graph
        info = RunInfo(
            graph_name=graph.name, emitter=None, max_iterations=float("inf"),
            error_handling="raise", on_missing="ignore",
        )
        parts = PartitionedValues()
        parts.provided = dict(values)
        RunLoop(graph, parts, info, DriverTraits())._failed_at(values, batch, pos, exc, recorded, at)
        raise exc


def _nestable(np: NodePlan) -> Compiled | None:
    """The compiled code of a nested graph the parent's code may call directly, else ``None``.

    The inner run must be one the loop would run inline: same runner, not mapped, no policy,
    cannot pause, and its values need no per-run check (no dotted bound values, no defaults
    that cannot be copied); every port must be a produced inner output.
    """
    from hypergraph.engine import engine_for
    from hypergraph.runners._options import value_roles

    node = np.node
    if (
        np.kind is not GRAPH or np.has_policy or np.pauses or node.runner is not None
        or node.map_config is not None
    ):
        return None
    graph = node.graph
    child = engine_for(graph).compiled_code()
    if (
        child is None or child.run_values is None or not child.complete
        or graph.plan.uncopyable or value_roles(graph)[2]
    ):
        return None
    if set(node._output_of) != set(np.outputs) or not all(
        inner in child.columns for inner in node._output_of.values()
    ):
        return None
    return child  # type: ignore[no-any-return]


def compile_plan(plan: Plan) -> Compiled | None:
    """Generate the functions of ``plan``; ``None`` when it is not a static schedule of plain
    sync functions whose every output name has one producer."""
    schedule = plan.schedule
    if schedule is None:
        return None
    children: dict[int, Compiled] = {}
    # async functions: an ``async def`` with one node per superstep (no gather order to keep)
    asynchronous = any(np.is_async for np in plan.nodes)
    if asynchronous and any(len(batch) != 1 for batch in schedule):
        return None
    for np in plan.nodes:
        if np.inline and np.kind is FUNCTION:
            continue
        if np.is_async and np.kind is FUNCTION and not np.has_policy:
            continue
        if asynchronous:
            return None
        child = _nestable(np)
        if child is None:
            return None
        children[np.index] = child
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

    consts: dict[str, Any] = {
        "_deepcopy": copy.deepcopy, "_map": map_outputs, "_MISSING": MISSING, "_clock": perf_counter,
    }

    def local(node_index: int, name: str) -> str:
        p = position[node_index]
        if len(plan.nodes[node_index].outputs) == 1:
            return f"o{p}"
        return f"o{p}[{name!r}]"

    def arg_exprs(np: NodePlan, p: int) -> tuple[list[str], bool]:
        """(argument expressions as ``Engine.collect`` picks them, may raise while collecting)."""
        exprs: list[str] = []
        risky = False
        for i, name in enumerate(np.inputs):
            w = producer.get(name)
            ran = w is not None and step[w] < step[np.index]
            if ran and w in np.producers[i]:
                exprs.append(local(w, name))  # type: ignore[arg-type]
                continue
            kind, value = np.fallbacks[i]
            const = f"C{p}_{i}"
            if w is not None:
                # produced elsewhere (not wired here, or not yet): the fallback, as collect does
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
            if kind == COPY_DEFAULT:
                consts[const] = value
                exprs.append(f"(values[{name!r}] if {name!r} in values else _deepcopy({const}))")
                risky = True
            elif kind == CONSTANT:
                consts[const] = value
                exprs.append(f"values.get({name!r}, {const})")
            else:
                exprs.append(f"values.get({name!r})")
        return exprs, risky

    def call_expr(np: NodePlan, p: int, exprs: list[str]) -> str:
        child = children.get(np.index)
        if child is not None:  # a nested graph: its own compiled code, its columns by port
            consts[f"F{p}"] = child.run_values
            consts[f"H{p}"] = _ChildFailure(np.node.graph)
            values = ", ".join(f"{prm!r}: {e}" for prm, e in zip(np.params, exprs, strict=True))
            call = f"F{p}({{{values}}}, H{p})"
            ports = [(port, child.columns.index(inner)) for port, inner in np.node._output_of.items()]
            if len(np.outputs) == 1:
                return f"{call}[{ports[0][1]}]"
            consts[f"G{p}"] = ports
            return f"{{port: c[i] for c in ({call},) for port, i in G{p}}}"
        consts[f"F{p}"] = np.func
        order = _positional_order(np.func, np.params)
        if order is not None:  # a plain function: positional arguments, the cheapest call
            by_param = dict(zip(np.params, exprs, strict=True))
            args = ", ".join(by_param[prm] for prm in order)
        elif all(prm.isidentifier() and not keyword.iskeyword(prm) for prm in np.params):
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

    calls: list[str] = []
    timed: list[str] = []  # ``run_timed``: the same calls, each between two clock readings
    for k, batch in enumerate(schedule):
        for j, np in enumerate(batch):
            p = batch_start[k] + j
            recorded = "(" + "".join(f"o{q}, " for q in range(p)) + ")"
            clocked = "".join(f"s{q}, e{q}, " for q in range(p))

            def handler(
                at: str, in_timed: bool = False,
                k: int = k, p: int = p, recorded: str = recorded, clocked: str = clocked,
            ) -> list[str]:
                """The except clause of a call (``at="False"``) or of a default's copy. In
                ``run_timed`` it also takes interrupts (so the calls made so far are journaled
                before one raises on) and passes the times of the calls made."""
                if not in_timed:
                    return [
                        "except Exception as exc:",
                        f"    return fail(values, {k}, {p}, exc, {recorded}, {at}, key)",
                    ]
                times = clocked if at == "True" else f"{clocked}s{p}, _clock(), "
                return [
                    "except BaseException as exc:",
                    f"    return fail(values, {k}, {p}, exc, {recorded}, {at}, key, ({times}))",
                ]

            exprs, risky = arg_exprs(np, p)
            if risky:  # a default's deep copy fails before the call, like collect
                for i, e in enumerate(exprs):
                    if "_deepcopy" not in e:
                        continue
                    calls += ["try:", f"    a{p}_{i} = {e}", *handler("True")]
                    timed += ["try:", f"    a{p}_{i} = {e}", *handler("True", in_timed=True)]
                    exprs[i] = f"a{p}_{i}"
            call = call_expr(np, p, exprs)
            if np.is_async:  # a permit of the shared budget around the call (AC4)
                awaited = call.replace(f"F{p}(", f"await F{p}(", 1)
                calls += [
                    "try:", "    if sem is None:", f"        o{p} = {awaited}", "    else:",
                    "        async with sem:", f"            o{p} = {awaited}",
                ]
            else:
                calls += ["try:", f"    o{p} = {call}"]
                timed += [
                    f"s{p} = _clock()", "try:", f"    o{p} = {call}", *handler("False", in_timed=True),
                    f"e{p} = _clock()",
                ]
            calls += handler("False")
    columns = []
    for name in names:
        w = producer.get(name)
        columns.append(local(w, name) if w is not None else f"values.get({name!r}, _MISSING)")
    values_return = ["return (" + "".join(c + ", " for c in columns) + ")"]
    record = "(" + "".join(f"o{q}, " for q in range(len(positions))) + ")"
    record_return = ["return (" + "".join(c + ", " for c in columns) + f"), {record}"]
    clocks = "(" + "".join(f"s{q}, e{q}, " for q in range(len(positions))) + ")"
    timed_return = ["return (" + "".join(c + ", " for c in columns) + f"), {record}, {clocks}"]
    indent = "        "
    if asynchronous:
        functions = [
            "    async def run_async(values, fail, key, sem):",
            *(indent + line for line in calls + values_return),
            "    return None, None, run_async",
        ]
    else:
        functions = [
            "    def run_values(values, fail, key=None):",
            *(indent + line for line in calls + values_return),
            "    def run_record(values, fail, key=None):",
            *(indent + line for line in calls + record_return),
            "    def run_timed(values, fail, key=None):",
            *(indent + line for line in timed + timed_return),
            "    return run_values, run_record, run_timed",
        ]
    params = ", ".join(consts)
    source = "\n".join([f"def _factory({params}):", *functions, ""])
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<hypergraph compiled plan {plan.graph.name or ''}>", "exec"), namespace)
    run_values, run_record, last = namespace["_factory"](**consts)
    compiled = Compiled(
        run_values, run_record, tuple(names), tuple(positions), tuple(batch_of),
        tuple(batch_start), source,
    )
    if asynchronous:
        compiled.run_async = last
    else:
        compiled.run_timed = last
    compiled.complete = all(name in producer for name in names)
    compiled.nests = bool(children)
    return compiled
