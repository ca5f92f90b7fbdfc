"""Node types: functions, gates, interrupts and nested graphs."""

from hypergraph.nodes._base import HyperNode
from hypergraph.nodes.function import FunctionNode, node
from hypergraph.nodes.gates import END, GateNode, IfElseNode, RouteNode, branch, ifelse, route
from hypergraph.nodes.graph_node import GraphNode
from hypergraph.nodes.interrupt import InterruptNode, interrupt

__all__ = [
    "END",
    "FunctionNode",
    "GateNode",
    "GraphNode",
    "HyperNode",
    "IfElseNode",
    "InterruptNode",
    "RouteNode",
    "branch",
    "ifelse",
    "interrupt",
    "node",
    "route",
]
