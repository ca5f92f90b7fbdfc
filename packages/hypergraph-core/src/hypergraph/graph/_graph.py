"""Graph: an immutable, validated set of nodes whose edges come from port names."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import keyword
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hypergraph._stack import user_stacklevel
from hypergraph._suggest import did_you_mean
from hypergraph.exceptions import GraphConfigError
from hypergraph.graph._analysis import reach, topological_components
from hypergraph.graph._strict_types import check_strict_types
from hypergraph.graph.input_spec import InputSpec
from hypergraph.nodes._base import HyperNode
from hypergraph.nodes.gates import GateNode, IfElseNode, RouteNode
from hypergraph.policies import RetryPolicy, check_retry

if TYPE_CHECKING:
    from hypergraph.nodes.graph_node import GraphNode
    from hypergraph.plan import Plan
    from hypergraph.runners.protocol import Runner

__all__ = ["Graph"]

EdgeSpec = tuple[Any, Any] | tuple[Any, Any, str | Sequence[str]]


class Graph:
    """Nodes wired by matching output names to parameter names, validated at construction.

    A Graph is a value (SPEC CV3): ``bind``, ``unbind``, ``select`` and ``with_entrypoint``
    return new graphs. Runners execute it; the execution plan is built once per graph and
    cached on it.
    """

    def __init__(
        self,
        nodes: Iterable[HyperNode],
        *,
        edges: Iterable[EdgeSpec] | None = None,
        name: str | None = None,
        entrypoint: str | Sequence[str] | None = None,
        strict_types: bool = False,
        retry: RetryPolicy | None = None,
    ) -> None:
        node_list = list(nodes)
        if name is not None and (not isinstance(name, str) or "." in name or "/" in name):
            raise GraphConfigError(
                f"Graph name {name!r} is not usable: graph names become node names and path "
                "segments when nested, where '.' and '/' are reserved. Use letters, digits and "
                "underscores, e.g. name='retrieval'."
            )
        self.name = name
        self.strict_types = strict_types
        self._retry = check_retry(retry, f"Graph {name!r}" if name else "Graph")
        self._nodes: dict[str, HyperNode] = {}
        for item in node_list:
            if not isinstance(item, HyperNode):
                raise GraphConfigError(
                    f"Graph nodes must be hypergraph nodes, got {item!r}. Decorate functions with "
                    "@node(output_name=...) or wrap graphs with graph.as_node()."
                )
            if item.name in self._nodes:
                raise GraphConfigError(
                    f"Duplicate node name: {item.name!r}. Give one of them another name with "
                    f".with_name('...')."
                )
            self._nodes[item.name] = item
        self._bound: dict[str, Any] = {}
        self._selected: tuple[str, ...] | None = None
        self._entrypoints: tuple[str, ...] = ()
        self._explicit = edges is not None
        self._validate_names()
        self._validate_gates()
        self._build_edges(edges)
        self._validate_defaults()
        self._validate_producers()
        if strict_types:
            check_strict_types(self)
        if entrypoint is not None:
            self._entrypoints = self._checked_entrypoints(_entrypoint_names(entrypoint))

    # ------------------------------------------------------------------ construction checks
    def _validate_names(self) -> None:
        from hypergraph.nodes.graph_node import GraphNode

        for n in self._nodes.values():
            _check_identifier(n.name, f"Node name {n.name!r}")
            if n.name == "END":
                raise GraphConfigError(
                    "Node name 'END' is reserved: routes use END to stop, so a node named END "
                    "could never be routed to. Rename it, e.g. .with_name('end_step')."
                )
            for out in n.outputs:
                what = f"Output name {out!r} of node {n.name!r}"
                if isinstance(n, GraphNode) and "." in out and "/" not in out:
                    # a nesting path ("gn.x", "outer.inner.x"): every segment must be valid
                    for segment in out.split("."):
                        _check_identifier(segment, f"{what} (segment {segment!r})", output=out)
                    continue
                _check_identifier(out, what, output=out)

    def _validate_gates(self) -> None:
        for gate in self._nodes.values():
            if not isinstance(gate, GateNode):
                continue
            for target in gate.node_targets:
                if target == gate.name:
                    raise GraphConfigError(
                        f"Gate {gate.name!r} targets itself; a gate cannot route to itself. Route "
                        "to the node that feeds the gate instead."
                    )
                if target not in self._nodes:
                    raise GraphConfigError(
                        f"Gate {gate.name!r} targets {target!r}, which is not a node of this "
                        f"graph. Known nodes: {', '.join(repr(k) for k in self._nodes)}."
                    )

    def _build_edges(self, edges: Iterable[EdgeSpec] | None) -> None:
        nodes = self._nodes
        # wired[dst][param] -> producers (node names) feeding that parameter
        wired: dict[str, dict[str, list[str]]] = {name: {} for name in nodes}
        data_edges: list[tuple[str, str, tuple[str, ...]]] = []
        order_edges: list[tuple[str, str]] = []
        producers: dict[str, list[str]] = {}
        for n in nodes.values():
            for out in n.outputs:
                producers.setdefault(out, []).append(n.name)
        self._producers = producers
        if edges is None:
            for dst in nodes.values():
                feeders: dict[str, list[str]] = {}
                for param in dst.inputs:
                    for src in producers.get(param, ()):
                        wired[dst.name].setdefault(param, []).append(src)
                        feeders.setdefault(src, []).append(param)
                for src, names in feeders.items():
                    data_edges.append((src, dst.name, tuple(names)))
        else:
            for spec in edges:
                source, target, carried = self._parse_edge(spec)
                if not carried:
                    order_edges.append((source, target))
                    continue
                data_edges.append((source, target, carried))
                for param in carried:
                    wired[target].setdefault(param, []).append(source)
        control_edges = [
            (g.name, t) for g in nodes.values() if isinstance(g, GateNode) for t in g.node_targets
        ]
        self._wired = {d: {p: tuple(s) for p, s in ps.items()} for d, ps in wired.items()}
        self._data_edges = data_edges
        self._order_edges = order_edges
        self._control_edges = control_edges

    def _parse_edge(self, spec: EdgeSpec) -> tuple[str, str, tuple[str, ...]]:
        if not isinstance(spec, tuple) or len(spec) not in (2, 3):
            raise GraphConfigError(
                f"Edge {spec!r} must be (src, dst) or (src, dst, 'value') or (src, dst, [values])"
            )
        src = self._endpoint(spec[0], spec)
        dst = self._endpoint(spec[1], spec)
        src_node, dst_node = self._nodes[src], self._nodes[dst]
        if len(spec) == 2:
            names = tuple(o for o in src_node.outputs if o in dst_node.inputs)
        else:
            raw = spec[2]
            names = (raw,) if isinstance(raw, str) else tuple(raw)
            for value in names:
                if value not in src_node.outputs:
                    raise GraphConfigError(
                        f"Edge {src!r} -> {dst!r} carries {value!r}, but {src!r} has no output "
                        f"{value!r} (outputs: {', '.join(map(repr, src_node.outputs)) or 'none'})."
                    )
                if value not in dst_node.inputs:
                    raise GraphConfigError(
                        f"Edge {src!r} -> {dst!r} carries {value!r}, but {dst!r} has no input "
                        f"{value!r} (inputs: {', '.join(map(repr, dst_node.inputs)) or 'none'})."
                    )
        return src, dst, names

    def _endpoint(self, ref: Any, spec: Any) -> str:
        name = ref.name if isinstance(ref, HyperNode) else ref
        if not isinstance(name, str) or name not in self._nodes:
            raise GraphConfigError(
                f"Edge {spec!r} refers to {name!r}, which is not a node of this graph. Known "
                f"nodes: {', '.join(repr(k) for k in self._nodes)}."
            )
        return name

    def _validate_defaults(self) -> None:
        seen: dict[str, list[HyperNode]] = {}
        for n in self._nodes.values():
            bound_ports = getattr(n, "bound", None) or ()
            for param in n.inputs:
                if param not in bound_ports:  # an inner bind is a binding, not a default
                    seen.setdefault(param, []).append(n)
        for param, consumers in seen.items():
            if len(consumers) < 2:
                continue
            with_default = [c for c in consumers if c.has_default_for(param)]
            if not with_default:
                continue
            if len(with_default) != len(consumers):
                without = [c.name for c in consumers if not c.has_default_for(param)]
                raise GraphConfigError(
                    f"Inconsistent defaults for {param!r}: nodes "
                    f"{', '.join(repr(c.name) for c in with_default)} declare a default but "
                    f"{', '.join(map(repr, without))} do not. Give every consumer the same "
                    f"default, or none and bind the value with graph.bind({param}=...)."
                )
            first = with_default[0].get_default_for(param)
            for other in with_default[1:]:
                if not _same_value(first, other.get_default_for(param)):
                    raise GraphConfigError(
                        f"Inconsistent defaults for {param!r}: {with_default[0].name!r} uses "
                        f"{first!r} but {other.name!r} uses {other.get_default_for(param)!r}. "
                        "Use one default everywhere, or bind the value with graph.bind()."
                    )

    def _validate_producers(self) -> None:
        """G9: several producers of one name must be exclusive or ordered."""
        contested = {name: p for name, p in self._producers.items() if len(p) > 1}
        if not contested:
            return
        index = {name: i for i, name in enumerate(self._nodes)}
        succ_all = self._successors(index)
        branches = self._exclusive_branches(index, succ_all)
        succ_cache: dict[frozenset[str], list[list[int]]] = {}
        for value, names in contested.items():
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    ia, ib = index[a], index[b]
                    if any(_different_branches(ia, ib, gate) for gate in branches):
                        continue
                    if self._explicit:
                        succ = succ_all
                    else:
                        # a path only through values both produce does not order them
                        shared = frozenset(v for v, ps in contested.items() if a in ps and b in ps)
                        if shared not in succ_cache:
                            succ_cache[shared] = self._successors(index, skip_values=shared)
                        succ = succ_cache[shared]
                    if ib in reach([ia], succ) or ia in reach([ib], succ):
                        continue
                    raise GraphConfigError(
                        f"Multiple nodes produce {value!r}: {a!r} and {b!r}, and nothing decides "
                        f"which one runs.{self._multi_target_hint(a, b)} Put them on exclusive "
                        f"branches of one @ifelse/@route gate, order them with an edge, or rename "
                        f"one output (.rename_outputs({value}='...'))."
                    )

    def _multi_target_hint(self, a: str, b: str) -> str:
        for gate in self._nodes.values():
            if (
                isinstance(gate, RouteNode)
                and gate.multi_target
                and a in gate.node_targets
                and b in gate.node_targets
            ):
                return (
                    f" Both are targets of {gate.name!r}, whose multi_target=True lets them "
                    "run together."
                )
        return ""

    def _successors(
        self, index: dict[str, int], skip_values: frozenset[str] = frozenset()
    ) -> list[list[int]]:
        succ: list[list[int]] = [[] for _ in index]
        for src, dst, names in self._data_edges:
            if skip_values and set(names) <= skip_values:
                continue
            succ[index[src]].append(index[dst])
        for src, dst in self._order_edges + self._control_edges:
            succ[index[src]].append(index[dst])
        return succ

    def _exclusive_branches(
        self, index: dict[str, int], succ: list[list[int]]
    ) -> list[list[set[int]]]:
        """Per single-choice gate: each target plus the nodes reachable only through it."""
        result: list[list[set[int]]] = []
        for gate in self._nodes.values():
            if not isinstance(gate, RouteNode | IfElseNode):
                continue
            if isinstance(gate, RouteNode) and gate.multi_target:
                continue
            gi = index[gate.name]
            reaches = [reach([index[t]], succ, blocked=gi) for t in gate.node_targets]
            if len(reaches) < 2:
                continue
            branches = []
            for k, r in enumerate(reaches):
                others = set().union(*(reaches[j] for j in range(len(reaches)) if j != k))
                branches.append(r - others)
            result.append(branches)
        return result

    def _checked_entrypoints(self, names: Sequence[str]) -> tuple[str, ...]:
        result = list(self._entrypoints)
        for name in names:
            if name not in self._nodes:
                raise GraphConfigError(
                    f"Unknown entrypoint {name!r}: not a node of this graph."
                    f"{did_you_mean(name, self._nodes)} Known nodes: "
                    f"{', '.join(repr(k) for k in self._nodes)}."
                )
            if isinstance(self._nodes[name], GateNode):
                raise GraphConfigError(
                    f"Entrypoint {name!r} is a gate; gates cannot be entrypoints. Use the node "
                    "that feeds the gate as the entrypoint."
                )
            if name not in result:
                result.append(name)
        return tuple(result)

    # ------------------------------------------------------------------ derived copies
    def _derive(self) -> Graph:
        clone = copy.copy(self)
        for attr in list(vars(clone)):
            if attr in _SCOPE_CACHES:
                delattr(clone, attr)
        clone._bound = dict(self._bound)
        return clone

    def bind(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Graph:
        """A new graph where these inputs have fixed values (stored by reference, never copied)."""
        merged = dict(values or {})
        for key, value in kwargs.items():
            if "." in key:
                raise ValueError(
                    f"Dotted key {key!r} cannot be a keyword argument; pass it as "
                    f"graph.bind({{{key!r}: ...}})."
                )
            if key in merged:
                raise ValueError(f"{key!r} given both in the mapping and as a keyword to bind()")
            merged[key] = value
        valid = self.inputs.all
        merged = self._flatten_scoped(merged, valid)
        for key in merged:
            if "." in key:
                self._check_scoped_key(key)
                continue
            if key in valid:
                continue
            producers = self._active_producers(key)
            if producers:
                raise ValueError(
                    f"Cannot bind {key!r}: it is produced inside the graph by "
                    f"{', '.join(map(repr, producers))}. To feed it from outside, slice the graph "
                    "first with graph.with_entrypoint(...) so its producer is excluded."
                )
            raise ValueError(
                f"Cannot bind {key!r}: it is not an input of this graph."
                f"{did_you_mean(key, valid)} Valid inputs: "
                f"{', '.join(map(repr, valid)) or '(none)'}."
            )
        overridden = [k for k in merged if k in self._inner_bound and k not in self._bound]
        if overridden:
            warnings.warn(
                f"bind() overrides values bound inside nested graphs: "
                f"{', '.join(map(repr, overridden))}. The nested graph will receive the new "
                "value instead of its own binding.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        clone = self._derive()
        clone._bound.update(merged)
        return clone

    def _flatten_scoped(self, values: dict[str, Any], valid: tuple[str, ...]) -> dict[str, Any]:
        """Turn ``{"gn": {"x": 1}}`` into ``{"gn.x": 1}`` (the nested form of G14), recursively."""
        from hypergraph.nodes.graph_node import GraphNode

        flat: dict[str, Any] = {}
        for key, value in values.items():
            node = self._nodes.get(key)
            if key not in valid and isinstance(node, GraphNode) and isinstance(value, Mapping):
                inner = node.graph
                for sub_key, sub_value in inner._flatten_scoped(
                    dict(value), inner.inputs.all
                ).items():
                    flat[f"{key}.{sub_key}"] = sub_value
            else:
                flat[key] = value
        return flat

    def unbind(self, *names: str) -> Graph:
        """A new graph without the bindings of ``names``."""
        clone = self._derive()
        for name in names:
            clone._bound.pop(name, None)
        return clone

    def select(self, *names: str | Sequence[str]) -> Graph:
        """A new graph that runs only what these outputs need and returns only them."""
        flat: list[str] = []
        for item in names:
            flat.extend([item] if isinstance(item, str) else list(item))
        if not flat:
            raise ValueError("select() needs at least one output name")
        valid = self.outputs
        repeated = sorted({n for n in flat if flat.count(n) > 1})
        if repeated:
            raise ValueError(
                f"select() names {repeated[0]!r} more than once; list each output once."
            )
        for name in flat:
            if name not in valid:
                raise ValueError(
                    f"Cannot select {name!r}: it is not an output of this graph."
                    f"{did_you_mean(name, valid)} Valid outputs: "
                    f"{', '.join(map(repr, valid)) or '(none)'}."
                )
        clone = self._derive()
        clone._selected = tuple(dict.fromkeys(flat))
        clone._check_selection_reachable()
        return clone

    def with_retry(self, policy: RetryPolicy | None) -> Graph:
        """A new graph whose nodes retry with ``policy`` unless they declare their own.

        Applies to this graph's function nodes, gates and interrupt handlers; nested graphs keep
        their own default. ``None`` removes the default.
        """
        where = f"Graph {self.name!r}.with_retry()" if self.name else "graph.with_retry()"
        checked = check_retry(policy, where)
        clone = self._derive()
        clone._retry = checked
        return clone

    @property
    def retry(self) -> RetryPolicy | None:
        """The graph-wide retry default (``Graph(..., retry=...)`` or ``with_retry``)."""
        return self._retry

    def with_entrypoint(self, *names: str | HyperNode) -> Graph:
        """A new graph that starts at these nodes; upstream nodes are excluded from runs."""
        clone = self._derive()
        clone._entrypoints = self._checked_entrypoints(_entrypoint_names(names))
        clone._check_selection_reachable()
        return clone

    def _check_selection_reachable(self) -> None:
        if self._selected is None or not self._entrypoints:
            return
        active = self._active_names
        for name in self._selected:
            if not any(p in active for p in self._producers.get(name, ())):
                names = list(self._nodes)
                index = {n: i for i, n in enumerate(names)}
                downstream = reach([index[e] for e in self._entrypoints], self._successors(index))
                producible = [o for i in sorted(downstream) for o in self._nodes[names[i]].outputs]
                raise GraphConfigError(
                    f"Selected output {name!r} cannot be produced from the entrypoints "
                    f"{', '.join(map(repr, self._entrypoints))}: its producers are upstream of "
                    "them. Choose other entrypoints or another selection. Outputs these "
                    f"entrypoints can produce: "
                    f"{', '.join(map(repr, dict.fromkeys(producible))) or '(none)'}."
                )

    def _check_scoped_key(self, key: str, full_key: str | None = None) -> None:
        from hypergraph.nodes.graph_node import GraphNode

        full_key = full_key or key
        head, _, rest = key.partition(".")
        node = self._nodes.get(head)
        if not isinstance(node, GraphNode):
            raise ValueError(
                f"Key {full_key!r} addresses {head!r}, which is not a nested graph node of "
                f"{'this graph' if full_key == key else 'its graph'}. Dotted keys address inputs "
                "of nested graphs: 'graph_node.input'."
            )
        inner = node.graph
        if "." in rest:
            inner._check_scoped_key(rest, full_key)
        elif rest not in inner.inputs.all and rest not in inner.interrupt_outputs:
            raise ValueError(
                f"Key {full_key!r}: nested graph {head!r} has no input {rest!r}. Its inputs: "
                f"{', '.join(map(repr, inner.inputs.all)) or '(none)'}."
            )

    def as_node(
        self,
        name: str | None = None,
        *,
        runner: Runner | None = None,
        namespaced: bool = False,
        map_over: str | Sequence[str] | None = None,
        map_mode: Literal["zip", "product"] = "zip",
        error_handling: Literal["raise", "continue"] = "raise",
        clone: bool | list[str] = False,
    ) -> GraphNode:
        """Wrap this graph as a node of another graph (optionally mapped over inputs)."""
        from hypergraph.nodes.graph_node import GraphNode

        gn = GraphNode(self, name=name, runner=runner, namespaced=namespaced)
        if map_over is not None:
            params = [map_over] if isinstance(map_over, str) else list(map_over)
            gn = gn.map_over(*params, mode=map_mode, error_handling=error_handling, clone=clone)
        return gn

    # ------------------------------------------------------------------ properties
    @property
    def nodes(self) -> dict[str, HyperNode]:
        """A copy of the name -> node mapping, in construction order."""
        return dict(self._nodes)

    @property
    def selected(self) -> tuple[str, ...] | None:
        """Outputs chosen with ``select()``, or ``None`` for all."""
        return self._selected

    @property
    def entrypoints_config(self) -> tuple[str, ...]:
        """Configured entrypoints (empty when the graph starts from its sources)."""
        return self._entrypoints

    @cached_property
    def outputs(self) -> tuple[str, ...]:
        """Every data output of every node, de-duplicated, in first-appearance order."""
        return tuple(dict.fromkeys(o for n in self._nodes.values() for o in n.outputs))

    @cached_property
    def leaf_outputs(self) -> tuple[str, ...]:
        """Outputs of nodes that feed no other node."""
        feeding = {src for src, dst, _ in self._data_edges if src != dst} | {
            src for src, dst in self._order_edges if src != dst
        }
        return tuple(
            dict.fromkeys(
                o for n in self._nodes.values() if n.name not in feeding for o in n.outputs
            )
        )

    @property
    def edges(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """All edges as ``(src, dst, kind, values)`` with kind ``data``/``ordering``/``control``."""
        listing = [(s, d, "data", names) for s, d, names in self._data_edges]
        listing += [(s, d, "ordering", ()) for s, d in self._order_edges]
        listing += [(s, d, "control", ()) for s, d in self._control_edges]
        return listing

    @property
    def nx_graph(self) -> Any:
        """The edges as a ``networkx.DiGraph`` (needs networkx installed)."""
        try:
            import networkx as nx
        except ImportError as exc:
            raise ImportError(
                "graph.nx_graph needs networkx: `pip install networkx`. graph.edges lists the "
                "same edges without it."
            ) from exc
        g = nx.DiGraph()
        for name, n in self._nodes.items():
            g.add_node(name, hypernode=n)
        for src, dst, kind, values in self.edges:
            g.add_edge(src, dst, edge_type=kind, value_names=list(values))
        return g

    @cached_property
    def _components(self) -> list[list[int]]:
        index = {name: i for i, name in enumerate(self._nodes)}
        return topological_components(len(index), self._successors(index))

    @property
    def has_cycles(self) -> bool:
        """True if data, ordering or control edges form a cycle (self-loops included)."""
        return bool(self.cycle_node_names)

    @cached_property
    def cycle_node_names(self) -> tuple[str, ...]:
        """Names of the nodes that take part in a cycle."""
        names = list(self._nodes)
        index = {name: i for i, name in enumerate(names)}
        succ = self._successors(index)
        cyclic: list[str] = []
        for comp in self._components:
            if len(comp) > 1 or comp[0] in succ[comp[0]]:
                cyclic.extend(names[i] for i in comp)
        return tuple(cyclic)

    @property
    def has_async_nodes(self) -> bool:
        """True if any node (nested graphs included) is async."""
        return any(n.is_async for n in self._nodes.values())

    @property
    def has_interrupts(self) -> bool:
        """True if an interrupt node exists at any nesting depth (computed once, iteratively)."""
        try:
            return self.__dict__["_has_interrupts"]  # type: ignore[no-any-return]
        except KeyError:
            pass
        from hypergraph.nodes.graph_node import GraphNode

        for g in _bottom_up(self, "_has_interrupts"):
            g.__dict__["_has_interrupts"] = any(
                n.is_interrupt or (isinstance(n, GraphNode) and n.graph.__dict__["_has_interrupts"])
                for n in g._nodes.values()
            )
        return self.__dict__["_has_interrupts"]  # type: ignore[no-any-return]

    @property
    def has_gates(self) -> bool:
        """True if the graph contains a @route or @ifelse gate."""
        return any(n.is_gate for n in self._nodes.values())

    @property
    def interrupt_nodes(self) -> list[HyperNode]:
        """The interrupt nodes of this graph (not of nested graphs)."""
        return [n for n in self._nodes.values() if n.is_interrupt]

    @property
    def interrupt_outputs(self) -> tuple[str, ...]:
        """Output names of this graph's interrupt nodes: the keys that answer a pause."""
        return tuple(o for n in self._nodes.values() if n.is_interrupt for o in n.outputs)

    # ------------------------------------------------------------------ scope
    @cached_property
    def _active_names(self) -> frozenset[str]:
        """Entrypoints' downstream closure intersected with what the selection needs (X2)."""
        names = list(self._nodes)
        index = {name: i for i, name in enumerate(names)}
        succ = self._successors(index)
        active = set(range(len(names)))
        if self._entrypoints:
            active = reach([index[e] for e in self._entrypoints], succ)
        if self._selected is not None:
            pred: list[list[int]] = [[] for _ in names]
            for v, ws in enumerate(succ):
                for w in ws:
                    pred[w].append(v)
            producers = [
                index[p] for s in self._selected for p in self._producers.get(s, ()) if index[p] in active
            ]
            needed = reach(producers, [[p for p in ps if p in active] for ps in pred])
            active &= needed
        return frozenset(names[i] for i in sorted(active))

    @cached_property
    def _scope_outputs(self) -> tuple[str, ...]:
        """Outputs of the active nodes only: what a run of this configuration can produce."""
        active = self._active_names
        return tuple(
            dict.fromkeys(o for n in self._nodes.values() if n.name in active for o in n.outputs)
        )

    @cached_property
    def _inner_bound(self) -> dict[str, Any]:
        """Ports of nested graph nodes bound on their inner graph -> value (first node wins)."""
        from hypergraph.nodes.graph_node import GraphNode

        found: dict[str, Any] = {}
        for n in self._nodes.values():
            if isinstance(n, GraphNode):
                for port, value in n.bound.items():
                    found.setdefault(port, value)
        return found

    def _active_producers(self, value: str) -> list[str]:
        return [p for p in self._producers.get(value, ()) if p in self._active_names]

    @cached_property
    def inputs(self) -> InputSpec:
        """The inputs of the active scope: required, optional, bound (SPEC G7)."""
        from hypergraph.plan import scope_inputs

        required, optional = scope_inputs(self)
        names = set(required) | set(optional)
        bound = {k: v for k, v in self._inner_bound.items() if k in names}
        bound.update(self._bound)
        return InputSpec(required=required, optional=optional, bound=bound)

    @property
    def plan(self) -> Plan:
        """The execution plan for this configuration, built once and cached (by the plan module)."""
        from hypergraph.plan import plan_for

        return plan_for(self)

    # ------------------------------------------------------------------ hashes
    @property
    def code_hash(self) -> str:
        """SHA-256 over every node's ``definition_hash`` (what changes when code changes)."""
        try:
            return self.__dict__["_code_hash"]  # type: ignore[no-any-return]
        except KeyError:
            pass
        self.definition_hash  # noqa: B018 - fills nested hashes without recursion
        pairs = sorted(f"{name}:{n.definition_hash}" for name, n in self._nodes.items())
        digest = self.__dict__["_code_hash"] = _sha("\n".join(pairs))
        return digest

    @cached_property
    def structural_hash(self) -> str:
        """SHA-256 over names, ports, edges, node kinds and gate targets — no function code."""
        parts = []
        for name, n in sorted(self._nodes.items()):
            targets = [str(t) for t in getattr(n, "targets", [])]
            parts.append(
                f"{name}|{type(n).__name__}|{','.join(n.inputs)}|{','.join(n.outputs)}|"
                f"{','.join(targets)}"
            )
        parts.extend(sorted(f"{s}->{d}:{k}:{','.join(v)}" for s, d, k, v in self.edges))
        return _sha("\n".join(parts))

    @property
    def definition_hash(self) -> str:
        """SHA-256 over sorted ``name:definition_hash`` pairs plus sorted edges.

        Nested graphs are hashed first, deepest first, so any nesting depth works.
        """
        try:
            return self.__dict__["_definition_hash"]  # type: ignore[no-any-return]
        except KeyError:
            pass
        for g in _bottom_up(self, "_definition_hash"):
            pairs = sorted(f"{name}:{n.definition_hash}" for name, n in g._nodes.items())
            pairs.extend(sorted(f"{s}->{d}:{k}:{','.join(v)}" for s, d, k, v in g.edges))
            g.__dict__["_definition_hash"] = _sha("\n".join(pairs))
        return self.__dict__["_definition_hash"]  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ pictures
    def to_mermaid(self, *, depth: int = 1, direction: str = "TD") -> str:
        """Mermaid flowchart text; nested graphs open as boxes up to ``depth`` levels (0: closed)."""
        from hypergraph.viz import to_mermaid

        return to_mermaid(self, depth=depth, direction=direction)

    def to_dot(self, *, depth: int = 1, rankdir: str = "TB") -> str:
        """Graphviz DOT text of the same picture as :meth:`to_mermaid` (no dependency)."""
        from hypergraph.viz import to_dot

        return to_dot(self, depth=depth, rankdir=rankdir)

    def visualize(
        self, path: str | os.PathLike[str], *, format: str | None = None, depth: int = 1
    ) -> Path:
        """Write an SVG/PNG/PDF picture to ``path``; needs Graphviz (the ``viz`` extra)."""
        from hypergraph.viz import visualize

        return visualize(self, Path(path), format=format, depth=depth)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """Notebooks show the graph as its diagram: SVG with Graphviz, else Mermaid Markdown."""
        from hypergraph.viz import graphviz_available, render_graph

        bundle = {
            "text/plain": repr(self),
            "text/markdown": f"```mermaid\n{self.to_mermaid()}```",
        }
        if graphviz_available():
            with contextlib.suppress(Exception):  # a failed render still shows the Mermaid text
                bundle["image/svg+xml"] = render_graph(self, "svg").decode("utf-8")
        return bundle

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return f"Graph({label}nodes={list(self._nodes)!r})"


_SCOPE_CACHES = frozenset(
    {"_active_names", "inputs", "_checked", "_value_roles", "_scope_outputs",
     "_plain_values"}
)


def _bottom_up(graph: Graph, cached: str | Callable[[Graph], bool]) -> list[Graph]:
    """``graph`` and the graphs nested in it that lack ``cached`` (a ``__dict__`` key, or a test
    of whether a graph already has it).

    Children come before parents and ``graph`` last, found without recursion, so a property
    computed in this order only ever reads already-cached values of nested graphs.
    """
    from hypergraph.nodes.graph_node import GraphNode

    order: list[Graph] = []
    seen: set[int] = set()
    stack: list[tuple[Graph, bool]] = [(graph, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            order.append(current)
            continue
        if id(current) in seen:
            continue
        seen.add(id(current))
        stack.append((current, True))
        for n in current._nodes.values():
            if isinstance(n, GraphNode):
                inner = n.graph
                has = cached(inner) if callable(cached) else cached in inner.__dict__
                if not has and id(inner) not in seen:
                    stack.append((inner, False))
    return order


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_identifier(name: str, what: str, *, output: str | None = None) -> None:
    if output is not None:
        fix = (
            f" Rename the output: .rename_outputs({{{output!r}: 'new_name'}}), or change "
            "output_name=... where the node is defined."
        )
    elif name == "<lambda>":
        fix = " Lambdas have no usable name: pass node(..., name='...') or use .with_name('...')."
    else:
        fix = " Rename the node (e.g. .with_name('...'))."
    if not isinstance(name, str) or not name.isidentifier():
        reserved = " ('.' and '/' are reserved for nesting)" if isinstance(name, str) and (
            "." in name or "/" in name
        ) else ""
        raise GraphConfigError(f"{what} is not a valid Python identifier{reserved}.{fix}")
    if keyword.iskeyword(name):
        raise GraphConfigError(f"{what} is a Python keyword.{fix}")


def _different_branches(a: int, b: int, branches: list[set[int]]) -> bool:
    owner_a = next((k for k, br in enumerate(branches) if a in br), None)
    owner_b = next((k for k, br in enumerate(branches) if b in br), None)
    return owner_a is not None and owner_b is not None and owner_a != owner_b


def _same_value(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        equal = a == b
        if not isinstance(equal, bool) and hasattr(equal, "__iter__"):  # array-like results
            return all(equal)
        return bool(equal)
    except Exception:
        return False


def _entrypoint_names(value: Any) -> tuple[str, ...]:
    """R2-3: entrypoints as names or node objects, one or a sequence; never empty."""
    items = (value,) if isinstance(value, str | HyperNode) else value
    try:
        items = tuple(items)
    except TypeError:
        raise GraphConfigError(
            f"entrypoint must be a node name, a node, or a list of them; got "
            f"{type(value).__name__} {value!r}."
        ) from None
    if not items:
        raise GraphConfigError(
            "entrypoint is empty: name at least one node to start from, e.g. "
            "Graph([...], entrypoint='prepare') or graph.with_entrypoint('prepare')."
        )
    names = []
    for item in items:
        if isinstance(item, HyperNode):
            item = item.name
        if not isinstance(item, str) or not item:
            raise GraphConfigError(
                f"entrypoint entries must be node names or nodes; got {type(item).__name__} "
                f"{item!r}."
            )
        names.append(item)
    return tuple(names)
