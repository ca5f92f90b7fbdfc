"""From a graph to a flat program: one step per function node, wired by column name.

Nested graph nodes are inlined (their inner nodes become steps whose private values live in
columns prefixed ``<node>/``); a mapped nested graph stays one step that runs its inner program
per item. Values the caller gives for every row are constants captured by the step, and
``@stateful`` constants are re-created per worker instead of shipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypergraph import FunctionNode, GraphNode
from hypergraph.exceptions import GraphConfigError
from hypergraph.stateful import is_stateful

if TYPE_CHECKING:
    from hypergraph import Graph

__all__ = ["Column", "Const", "Program", "Step", "compile_graph", "constant", "validate_for_daft"]


class Column:
    """A value read from a DataFrame column (or, inside a mapped step, from the item)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Const:
    """A value fixed for every row: deep-copied per use when ``copy``; ``key`` marks a resource."""

    __slots__ = ("copy", "key", "value")

    def __init__(self, value: Any, copy: bool = False, key: str | None = None) -> None:
        self.value = value
        self.copy = copy
        self.key = key


Source = Column | Const

_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), frozenset, range)


class Step:
    """One function node (or one mapped nested graph) of the flat program."""

    __slots__ = ("foreign", "gn", "inner", "node", "np", "outputs", "params", "path", "sources")

    def __init__(
        self,
        np: Any,
        params: tuple[str, ...],
        sources: tuple[Source, ...],
        outputs: tuple[str, ...],
        path: str,
        inner: Program | None = None,
    ) -> None:
        self.np = np
        self.node: Any = np.node
        self.params = params
        self.sources = sources
        self.outputs = outputs
        self.path = path
        self.inner = inner
        self.gn: GraphNode | None = np.node if inner is not None else None
        # a nested graph that names another runner (SyncRunner, AsyncRunner, ...): called per row
        self.foreign: Any = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names of the inputs read from columns, in parameter order."""
        return tuple(s.name for s in self.sources if isinstance(s, Column))

    @property
    def resources(self) -> dict[str, type]:
        """``@stateful`` constants this step (or its inner program) needs, by key."""
        found = {s.key: type(s.value) for s in self.sources if isinstance(s, Const) and s.key}
        if self.inner is not None:
            found.update(self.inner.resources)
        return found


class Program:
    """Steps in dependency order, and where each visible value of the graph ends up."""

    __slots__ = ("outputs", "resources", "steps")

    def __init__(self, steps: list[Step], outputs: dict[str, str]) -> None:
        self.steps = tuple(steps)
        # graph-facing value name -> column holding it
        self.outputs = outputs
        self.resources: dict[str, type] = {}
        for step in steps:
            self.resources.update(step.resources)


def compile_graph(
    graph: Graph,
    env: dict[str, Source],
    scoped: dict[str, dict[str, Any]] | None = None,
) -> Program:
    """The flat program of ``graph`` given a source for each provided input name."""
    steps: list[Step] = []
    outputs: dict[str, str] = {}
    _flatten(graph, dict(env), {}, "", steps, outputs, scoped or {})
    visible = graph.selected if graph.selected is not None else tuple(outputs)
    return Program(steps, {name: outputs[name] for name in visible if name in outputs})


def _flatten(
    graph: Graph,
    env: dict[str, Source],
    rename: dict[str, str],
    prefix: str,
    steps: list[Step],
    produced: dict[str, str],
    scoped: dict[str, dict[str, Any]],
) -> None:
    """Append ``graph``'s steps; ``rename`` maps its exposed values to the parent's columns."""
    plan = graph.plan
    bound = graph.inputs.bound
    for cp in plan.components:
        np = plan.nodes[cp.nodes[0]]
        node = np.node
        foreign = isinstance(node, GraphNode) and node.runner is not None and not (
            _is_daft(node.runner)
        )
        if isinstance(node, GraphNode) and node.map_config is None and not foreign:
            inner_env: dict[str, Source] = {}
            for port in node.inputs:
                source = env.get(port)
                if source is None and port in bound:
                    source = constant(bound[port], False)
                if source is not None:
                    inner_env[node.inner_input(port)] = source
            for key, value in scoped.get(node.name, {}).items():
                inner_env[key] = constant(value, False)
            inner_rename = {}
            for port in node.outputs:
                column = rename.get(port, prefix + port)
                inner_rename[node.inner_output(port)] = column
            inner_produced: dict[str, str] = {}
            _flatten(
                node.graph, inner_env, inner_rename, f"{prefix}{node.name}/", steps,
                inner_produced, {},
            )
            for port in node.outputs:
                column = inner_rename[node.inner_output(port)]
                env[port] = Column(column)
                produced[port] = column
            continue
        sources: list[Source] = []
        for name in np.inputs:
            source = env.get(name)
            if source is None:
                if name in bound:  # bound values are shared, as on every runner
                    source = constant(bound[name], False)
                elif node.has_default_for(name):  # defaults are copied per use (X12)
                    default = node.get_default_for(name)
                    source = constant(default, not isinstance(default, _IMMUTABLE))
                else:  # validated before compiling; a nested graph left it unset
                    raise GraphConfigError(
                        f"Node {prefix}{np.name!r} has no value for input {name!r}. Provide it "
                        "or give the parameter a default."
                    )
            sources.append(source)
        columns = tuple(rename.get(o, prefix + o) for o in np.outputs)
        if not columns:  # a side-effect node still needs a column, or Daft prunes it
            columns = (f"{prefix}{np.name}/__effect__",)
        inner = None
        params = np.params
        if isinstance(node, GraphNode):
            params = tuple(node.inputs)
            if not foreign:
                inner = _compile_mapped(node, sources)
        step = Step(np, params, tuple(sources), columns, prefix + np.name, inner)
        if foreign:
            step.gn = node
            step.foreign = node.runner
        steps.append(step)
        for output, column in zip(np.outputs, columns, strict=False):
            env[output] = Column(column)
            produced[output] = column


def _compile_mapped(gn: GraphNode, sources: list[Source]) -> Program:
    """A mapped nested graph's inner program: every provided port is read from the item."""
    env: dict[str, Source] = {}
    for port, _source in zip(gn.inputs, sources, strict=True):
        inner = gn.inner_input(port)
        env[inner] = Column(inner)
    return compile_graph(gn.graph, env)


def constant(value: Any, copy: bool = False) -> Const:
    """A constant source; a ``@stateful`` instance becomes a per-worker resource instead."""
    if is_stateful(value):
        return Const(value, copy=False, key=f"{type(value).__qualname__}@{id(value):x}")
    return Const(value, copy)


def _is_daft(runner: Any) -> bool:
    from hypergraph_daft.runner import DaftRunner

    return isinstance(runner, DaftRunner)


def validate_for_daft(graph: Graph) -> None:
    """What DaftRunner refuses beyond its capabilities: batch nodes it cannot run as batches.

    Nested graphs given another DaftRunner are part of the same plan; nested graphs naming
    another runner are called on it, per row, and are checked by that runner.
    """
    for node in graph.nodes.values():
        if isinstance(node, GraphNode):
            if node.runner is None or _is_daft(node.runner):
                validate_for_daft(node.graph)
        elif isinstance(node, FunctionNode) and getattr(node, "batch", False):
            if len(node.outputs) != 1:
                raise GraphConfigError(
                    f"Batch node {node.name!r} declares {len(node.outputs)} outputs; DaftRunner "
                    "runs batch=True nodes with one output column. Split it into one batch node "
                    "per output."
                )
            if node.is_generator or node.is_async:
                raise GraphConfigError(
                    f"Batch node {node.name!r} is a generator or async function; batch=True "
                    "nodes must be plain functions returning one value per row."
                )
