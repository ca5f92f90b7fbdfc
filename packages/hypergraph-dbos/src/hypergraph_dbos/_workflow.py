"""The one generic DBOS workflow every durable run executes, registered when this module loads.

DBOS stores only the workflow's name and its pickled arguments: the graph's registry key, the
run's inputs and options. A recovering process finds the graph by that key, so the workflow
itself never changes when graphs do.
"""

from __future__ import annotations

from typing import Any

from hypergraph_dbos import _app
from hypergraph_dbos._dbos_import import dbos

__all__ = ["WORKFLOW_NAME", "run_graph_workflow"]

WORKFLOW_NAME = "hypergraph.run_graph"


@dbos.DBOS.workflow(name=WORKFLOW_NAME)
async def run_graph_workflow(key: str, inputs: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Run the graph registered under ``key`` with ``inputs``; returns the run's outcome."""
    from hypergraph_dbos.runner import live_target

    graph, runner = live_target(dbos.DBOS.workflow_id) or _app.lookup(key)
    outcome: dict[str, Any] = await runner._workflow_body(graph, inputs, options)
    return outcome
