"""Mistakes a type checker must now catch (each line marked `# E:` must be reported)."""

from __future__ import annotations

from hypergraph import AsyncRunner, DiskCache, FunctionNode, Graph, SyncRunner, node
from hypergraph.checkpointers import SqliteCheckpointer
from hypergraph.events import OpenTelemetryProcessor, RichProgressProcessor


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


double("three")  # E: arg-type
SyncRunner().run(Graph([double]), {"x": 1}, error_handling="ignore")  # E: arg-type
SyncRunner().map(Graph([double]), {"x": [1]}, map_over="x", map_mode="zipped")  # E: arg-type
SyncRunner().run(Graph([double]), {"x": 1}, on_missing="raise")  # E: arg-type
wrong_node: FunctionNode[[str], int] = double  # E: assignment
pending = AsyncRunner().run(Graph([double]), {"x": 1}, error_handling="ignore")  # E: arg-type
DiskCache(cache_dir=3.5)  # E: arg-type
RichProgressProcessor(colour="red")  # E: call-arg
OpenTelemetryProcessor(tracer_nam="x")  # E: call-arg
SqliteCheckpointer(":memory:", durability="later")  # E: arg-type
