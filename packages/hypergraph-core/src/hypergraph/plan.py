"""The execution plan: everything the superstep loop needs, precomputed once per graph.

A plan turns a graph configuration (bind/select/entrypoint) into integer-indexed tuples: the
active nodes, their wiring, fallbacks, controlling gates and the SCC condensation in
topological order (SPEC X2, X3). The engine only reads it; nothing here runs a node.
"""

from __future__ import annotations

import copy
import enum
import weakref
from typing import TYPE_CHECKING, Any

from hypergraph.graph._analysis import reach, topological_components
from hypergraph.nodes.gates import END, GateNode, IfElseNode, RouteNode
from hypergraph.nodes.graph_node import GraphNode
from hypergraph.policies import resolve_retry

if TYPE_CHECKING:
    from hypergraph.graph import Graph
    from hypergraph.nodes._base import HyperNode
    from hypergraph.policies import RetryPolicy

__all__ = ["ComponentPlan", "NodePlan", "Plan", "build_plan", "plan_for", "scope_inputs"]

class NodeKind(enum.IntEnum):
    """How the loop executes a node."""

    FUNCTION = 0
    GENERATOR = 1
    ROUTE = 2
    IFELSE = 3
    INTERRUPT = 4
    GRAPH = 5


FUNCTION, GENERATOR, ROUTE, IFELSE, INTERRUPT, GRAPH = NodeKind

# fallback kinds for an input with no value in state
NO_FALLBACK, CONSTANT, COPY_DEFAULT = range(3)

_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), frozenset, range)


class NodePlan:
    """One active node, with its wiring as integer indices."""

    __slots__ = (
        "component",
        "fallbacks",
        "first_pass_gates",
        "func",
        "gate_plan",
        "gates",
        "has_policy",
        "in_thread",
        "index",
        "inline",
        "inputs",
        "is_async",
        "is_entry",
        "kind",
        "name",
        "node",
        "outputs",
        "params",
        "pauses",
        "producers",
        "retry",
        "self_ignored",
        "startup_preds",
        "timeout",
        "uncopyable_defaults",
    )

    def __init__(self, index: int, node: HyperNode) -> None:
        self.index = index
        # typed Any: which attributes exist depends on ``kind`` (gates, graph nodes, ...)
        self.node: Any = node
        self.name = node.name
        self.inputs: tuple[str, ...] = node.inputs
        self.params: tuple[str, ...] = tuple(node._param_of[i] for i in node.inputs)
        self.outputs: tuple[str, ...] = node.outputs
        self.is_async = node.is_async
        self.kind: NodeKind = _kind_of(node)
        self.func: Any = getattr(node, "func", None)
        # may pause the run: an interrupt, or a nested graph holding one (runs alone, HI5)
        self.pauses = self.kind == INTERRUPT or (
            isinstance(node, GraphNode) and node.graph.has_interrupts
        )
        self.producers: tuple[frozenset[int], ...] = ()
        self.self_ignored: tuple[bool, ...] = ()
        self.fallbacks: tuple[tuple[int, Any], ...] = ()
        self.gates: tuple[int, ...] = ()
        # gates whose not-yet-taken decision lets this node run once (GT8b, R2-2)
        self.first_pass_gates: tuple[int, ...] = ()
        # a plain sync function or gate: the loop may call it directly when nothing observes
        # a blocking sync function an async driver runs in a worker thread (@node(in_thread=True))
        self.in_thread: bool = getattr(node, "in_thread", False)
        self.inline = (
            self.kind in (FUNCTION, ROUTE, IFELSE) and not node.is_async and not self.in_thread
        )
        self.startup_preds: tuple[int, ...] = ()
        self.is_entry = False
        self.component = -1
        self.gate_plan: GatePlan | None = None
        self.uncopyable_defaults: tuple[str, ...] = ()
        # resolved policies: the node's own retry, else its graph's default (what runners and
        # durable backends read); has_policy False means "call the function directly"
        self.retry: RetryPolicy | None = None
        self.timeout: float | None = node.timeout
        self.has_policy = self.timeout is not None

    def __repr__(self) -> str:
        return f"NodePlan({self.index}:{self.name})"


class GatePlan:
    """Where a gate may route, as node indices (END kept as the sentinel)."""

    __slots__ = ("by_name", "gate_targets", "name_of", "targets")

    def __init__(self, targets: tuple[int, ...], by_name: dict[Any, Any], gate_targets: tuple[int, ...]):
        self.targets = targets
        # decision value (target name or END) -> node index, or END, or None if inactive
        self.by_name = by_name
        self.gate_targets = gate_targets
        self.name_of: dict[int, str] = {
            index: name for name, index in by_name.items() if isinstance(index, int)
        }


class ComponentPlan:
    """A strongly connected component of the active graph."""

    __slots__ = ("cyclic", "gates", "index", "n_preds", "nodes", "others", "single", "succ")

    def __init__(self, index: int, nodes: tuple[int, ...], cyclic: bool) -> None:
        self.index = index
        self.nodes = nodes
        self.cyclic = cyclic
        self.single = len(nodes) == 1 and not cyclic
        self.succ: tuple[int, ...] = ()
        self.n_preds = 0
        self.gates: tuple[int, ...] = ()
        self.others: tuple[int, ...] = ()


class Plan:
    """The whole precomputed plan of one graph configuration."""

    __slots__ = (
        "components",
        "graph",
        "has_gates",
        "has_interrupts",
        "has_policies",
        "index_of",
        "inline_schedule",
        "needs_entrypoint",
        "nodes",
        "output_names",
        "schedule",
        "selected",
        "total",
        "uncopyable",
    )

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.nodes: tuple[NodePlan, ...] = ()
        self.components: tuple[ComponentPlan, ...] = ()
        self.index_of: dict[str, int] = {}
        self.output_names: tuple[str, ...] = ()
        self.selected: tuple[str, ...] | None = graph.selected
        self.has_gates = False
        self.has_interrupts = False
        # True when some node has a retry policy or a timeout (runners leave their fast path)
        self.has_policies = False
        # names of cyclic components of >= 2 nodes lacking an entrypoint (G10)
        self.needs_entrypoint: tuple[str, ...] = ()
        # (node, param) pairs whose default cannot be deep-copied (X12)
        self.uncopyable: tuple[tuple[str, str], ...] = ()
        # True when every active node is certain to run exactly once and write every output
        self.total = False
        # for total plans: the batch of every superstep, precomputed
        self.schedule: tuple[tuple[NodePlan, ...], ...] | None = None
        # a schedule of plain sync functions only: unobserved runs are just the calls
        self.inline_schedule = False


def _kind_of(node: HyperNode) -> NodeKind:
    if isinstance(node, GraphNode):
        return GRAPH
    if isinstance(node, RouteNode):
        return ROUTE
    if isinstance(node, IfElseNode):
        return IFELSE
    if node.is_interrupt:
        return INTERRUPT
    if node.is_generator:
        return GENERATOR
    return FUNCTION


def _frozen_twin(cls: type) -> type:
    """A subclass with the same slots that refuses every write: what a finished plan becomes.

    The builder fills the plan objects in stages (gates are known only once every node is),
    then swaps each to its frozen twin, so reads cost exactly what plain slots cost.
    """

    def refuse(self: Any, name: str, value: Any = None) -> None:
        raise AttributeError(
            f"{type(self).__name__} is frozen: plans are built once per graph configuration; "
            f"derive a new graph (bind/select/with_entrypoint) instead of changing {name!r}."
        )

    slots = tuple(name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ()))

    def reduce(self: Any, protocol: int) -> tuple[Any, ...]:
        # pickled (Daft, Ray) as the plain class plus its slots, frozen again when loaded
        state = {name: getattr(self, name) for name in slots if hasattr(self, name)}
        return (_thawed, (cls, state))

    twin = type(cls.__name__, (cls,), {
        "__slots__": (), "__setattr__": refuse, "__delattr__": refuse,
        "__reduce_ex__": reduce, "__module__": cls.__module__,
        "__qualname__": cls.__qualname__, "__doc__": cls.__doc__,
    })
    return twin


def _thawed(cls: type, state: dict[str, Any]) -> Any:
    """A frozen plan object loaded from a pickle."""
    obj: Any = object.__new__(cls)
    for name, value in state.items():
        object.__setattr__(obj, name, value)
    _freeze(obj)
    return obj


_FROZEN: dict[type, type] = {}


def _freeze(obj: Any) -> None:
    cls = type(obj)
    twin = _FROZEN.get(cls)
    if twin is None:
        twin = _FROZEN[cls] = _frozen_twin(cls)
    obj.__class__ = twin


class _Scope:
    """Active nodes, their components and bootstrap inputs, as computed for one graph config."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        active = graph._active_names
        self.names = [n for n in graph._nodes if n in active]
        self.index = {name: i for i, name in enumerate(self.names)}
        idx = self.index
        self.succ: list[list[int]] = [[] for _ in self.names]
        # startup predecessors come from data and ordering edges only (X7)
        self.startup_pred: list[list[int]] = [[] for _ in self.names]
        for src, dst, _names in graph._data_edges:
            if src in idx and dst in idx:
                self.succ[idx[src]].append(idx[dst])
                if src != dst:
                    self.startup_pred[idx[dst]].append(idx[src])
        for src, dst in graph._order_edges:
            if src in idx and dst in idx:
                self.succ[idx[src]].append(idx[dst])
                if src != dst:
                    self.startup_pred[idx[dst]].append(idx[src])
        for src, dst in graph._control_edges:
            if src in idx and dst in idx:
                self.succ[idx[src]].append(idx[dst])
        self.components = topological_components(len(self.names), self.succ)
        self.comp_of = [0] * len(self.names)
        self.cyclic: list[bool] = []
        for ci, comp in enumerate(self.components):
            for v in comp:
                self.comp_of[v] = ci
            self.cyclic.append(len(comp) > 1 or comp[0] in self.succ[comp[0]])
        self.wired: list[dict[str, tuple[int, ...]]] = []
        for name in self.names:
            per_param = graph._wired.get(name, {})
            self.wired.append(
                {p: tuple(idx[s] for s in srcs if s in idx) for p, srcs in per_param.items()}
            )
        self.bootstrap = self._bootstrap_params()

    def _entries(self, comp: list[int]) -> list[int]:
        """Where a cyclic region is entered: its configured entrypoints, else (R2-3) the
        members fed from outside it when the graph is entered upstream, else its first node."""
        configured = [self.index[e] for e in self.graph._entrypoints if e in self.index]
        entries = [v for v in comp if v in configured]
        if entries:
            return entries
        if self.graph._entrypoints:
            members = set(comp)
            fed = [v for v in comp if any(p not in members for p in self.startup_pred[v])]
            if fed:
                return fed
        return [comp[0]]

    def _bootstrap_params(self) -> set[tuple[int, str]]:
        """(node, param) pairs a cycle consumes before any producer in it can run (G7)."""
        result: set[tuple[int, str]] = set()
        for ci, comp in enumerate(self.components):
            if not self.cyclic[ci]:
                continue
            members = set(comp)
            entries = set(self._entries(comp))
            # the first pass: the component without edges into its entries
            cut = [
                [w for w in self.succ[v] if w in members and w not in entries] if v in members else []
                for v in range(len(self.names))
            ]
            ancestors: dict[int, set[int]] = {}
            for v in comp:
                ancestors[v] = set()
            for v in comp:
                for w in reach([v], cut):
                    if w != v:
                        ancestors[w].add(v)
            for v in comp:
                for param, producers in self.wired[v].items():
                    if not producers or any(p not in members for p in producers):
                        continue
                    if not any(p in ancestors[v] for p in producers):
                        result.add((v, param))
        return result


def scope_inputs(graph: Graph) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Required and optional inputs of the graph's active scope (SPEC G7)."""
    scope = _Scope(graph)
    bound = graph._bound
    required: dict[str, None] = {}
    optional: dict[str, None] = {}
    for v, name in enumerate(scope.names):
        node = graph._nodes[name]
        for param in node.inputs:
            producers = scope.wired[v].get(param, ())
            if producers and (v, param) not in scope.bootstrap:
                continue
            if param in bound or node.has_default_for(param):
                optional[param] = None
            else:
                required[param] = None
    for param in required:
        optional.pop(param, None)
    return tuple(required), tuple(optional)


_PLANS: weakref.WeakKeyDictionary[Graph, Plan] = weakref.WeakKeyDictionary()
"""One plan per graph object (each configuration is its own graph value, CV3)."""


def plan_for(graph: Graph) -> Plan:
    """``graph``'s plan, built once: nested graphs first, so no build recurses into another."""
    try:
        return _PLANS[graph]
    except KeyError:
        pass
    from hypergraph.graph._graph import _bottom_up

    for g in _bottom_up(graph, _PLANS.__contains__):
        _PLANS[g] = build_plan(g)
    return _PLANS[graph]


def build_plan(graph: Graph) -> Plan:
    """Precompute the plan for ``graph``'s current configuration."""
    scope = _Scope(graph)
    plan = Plan(graph)
    idx = scope.index
    bound = graph._bound
    entry_set = {idx[e] for e in graph._entrypoints if e in idx}
    for ci, members in enumerate(scope.components):
        # entered upstream of the cycle (R2-3)
        if scope.cyclic[ci] and graph._entrypoints and not entry_set.intersection(members):
            entry_set.update(scope._entries(members))
    node_plans: list[NodePlan] = []
    for v, name in enumerate(scope.names):
        node = graph._nodes[name]
        np = NodePlan(v, node)
        if np.kind != GRAPH:  # a nested graph is never re-run as a whole: its nodes retry
            np.retry = resolve_retry(node.retry, graph.retry)
            np.has_policy = np.retry is not None or np.timeout is not None
        if np.has_policy:
            plan.has_policies = True
            np.inline = False  # a policy wraps the call: the driver runs it as a task
        np.component = scope.comp_of[v]
        np.is_entry = v in entry_set
        producers = []
        self_ignored = []
        fallbacks = []
        uncopyable = []
        inner_bound = getattr(node, "bound", None) or {}
        inferred = not graph._explicit
        for param in node.inputs:
            srcs = scope.wired[v].get(param, ())
            producers.append(frozenset(srcs))
            self_ignored.append(inferred and v in srcs)
            if param in bound:
                fallbacks.append((CONSTANT, bound[param]))
            elif param in inner_bound:  # bound on a nested graph: by reference, never copied
                fallbacks.append((CONSTANT, inner_bound[param]))
            elif node.has_default_for(param):
                default = node.get_default_for(param)
                if isinstance(default, _IMMUTABLE):
                    fallbacks.append((CONSTANT, default))
                else:
                    try:
                        copy.deepcopy(default)
                    except Exception:
                        uncopyable.append(param)
                    fallbacks.append((COPY_DEFAULT, default))
            else:
                fallbacks.append((NO_FALLBACK, None))
        np.producers = tuple(producers)
        np.self_ignored = tuple(self_ignored)
        np.fallbacks = tuple(fallbacks)
        np.uncopyable_defaults = tuple(uncopyable)
        if scope.cyclic[np.component]:
            np.startup_preds = tuple(
                dict.fromkeys(p for p in scope.startup_pred[v] if scope.comp_of[p] == np.component)
            )
        node_plans.append(np)
    # gates and what they control
    controllers: list[list[int]] = [[] for _ in node_plans]
    for np in node_plans:
        node = np.node
        if not isinstance(node, GateNode):
            continue
        plan.has_gates = True
        by_name: dict[Any, Any] = {END: END}
        targets = []
        for target in node.node_targets:
            if target in idx:
                by_name[target] = idx[target]
                targets.append(idx[target])
                controllers[idx[target]].append(np.index)
            else:
                by_name[target] = None  # excluded by the scope: routing there activates nothing
        gate_targets = tuple(t for t in targets if node_plans[t].kind in (ROUTE, IFELSE))
        np.gate_plan = GatePlan(tuple(targets), by_name, gate_targets)
    for np in node_plans:
        np.gates = tuple(controllers[np.index])
        np.first_pass_gates = tuple(
            g for g in np.gates if np.is_entry or node_plans[g].component != np.component
        )
        if np.pauses:
            plan.has_interrupts = True
    # components in topological order
    comps: list[ComponentPlan] = []
    for ci, members in enumerate(scope.components):
        cp = ComponentPlan(ci, tuple(members), scope.cyclic[ci])
        cp.gates = tuple(m for m in members if node_plans[m].kind in (ROUTE, IFELSE))
        cp.others = tuple(m for m in members if node_plans[m].kind not in (ROUTE, IFELSE))
        comps.append(cp)
    succ_sets: list[set[int]] = [set() for _ in comps]
    for v, ws in enumerate(scope.succ):
        for w in ws:
            a, b = scope.comp_of[v], scope.comp_of[w]
            if a != b:
                succ_sets[a].add(b)
    for ci, cp in enumerate(comps):
        cp.succ = tuple(sorted(succ_sets[ci]))
        for s in cp.succ:
            comps[s].n_preds += 1
    plan.nodes = tuple(node_plans)
    plan.components = tuple(comps)
    plan.index_of = dict(idx)
    plan.output_names = tuple(
        dict.fromkeys(o for np in node_plans for o in np.outputs)
    )
    missing_entry = []
    for cp in comps:
        if graph._entrypoints:
            break  # G10 applies only when no entrypoint is configured at all
        if len(cp.nodes) > 1 and not any(node_plans[m].is_entry for m in cp.nodes):
            missing_entry.append(", ".join(node_plans[m].name for m in cp.nodes))
    plan.needs_entrypoint = tuple(missing_entry)
    plan.uncopyable = tuple((np.name, p) for np in node_plans for p in np.uncopyable_defaults)
    plan.total = _is_total(plan)
    if plan.total:
        plan.schedule = _static_schedule(plan)
        plan.inline_schedule = all(np.inline and np.kind is FUNCTION for np in plan.nodes)
    for np in node_plans:
        if np.gate_plan is not None:
            _freeze(np.gate_plan)
        _freeze(np)
    for cp in comps:
        _freeze(cp)
    _freeze(plan)
    return plan


def _is_total(plan: Plan) -> bool:
    """No gate, cycle or interrupt, and nested graphs always produce all their outputs.

    Then, once required inputs are checked, every node is ready exactly when its predecessors
    have run, so the supersteps can be computed up front.
    """
    if plan.has_gates or plan.has_interrupts or any(c.cyclic for c in plan.components):
        return False
    for np in plan.nodes:
        if np.kind == INTERRUPT:
            return False
        if np.kind == GRAPH and np.node.map_config is None and not np.node.graph.plan.total:
            return False
    return True


def _static_schedule(plan: Plan) -> tuple[tuple[NodePlan, ...], ...]:
    """Supersteps of a total plan: a node runs one superstep after its latest predecessor."""
    step = [0] * len(plan.components)
    for cp in plan.components:  # topological order
        for s in cp.succ:
            step[s] = max(step[s], step[cp.index] + 1)
    batches: dict[int, list[NodePlan]] = {}
    for np in plan.nodes:
        batches.setdefault(step[np.component], []).append(np)
    return tuple(tuple(batches[k]) for k in range(len(batches)))
