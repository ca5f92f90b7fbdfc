"""The one generic DBOS workflow every durable run executes, registered when this module loads.

DBOS stores only the workflow's name and its pickled arguments: the graph's registry key, the
run's inputs and options. A recovering process finds the graph by that key, so the workflow
itself never changes when graphs do.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from hypergraph_dbos import _app
from hypergraph_dbos._dbos_import import dbos

__all__ = ["LIVE_CALL", "WORKFLOW_NAME", "run_graph_workflow"]

WORKFLOW_NAME = "hypergraph.run_graph"

LIVE_CALL: ContextVar[tuple[str, Any, Any, Any] | None] = ContextVar(
    "hypergraph_dbos_live_call", default=None
)
"""(key, graph, runner, RunInfo) of the call starting a workflow from this process, if any."""


@dbos.DBOS.workflow(name=WORKFLOW_NAME)
async def run_graph_workflow(key: str, inputs: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Run the graph registered under ``key`` with ``inputs``; returns the run's outcome.

    A call made by a runner in this process hands over its own graph object (which may differ
    from the registered one in code, never in structure); recovery looks the key up.
    """
    live = LIVE_CALL.get()
    if live is not None and live[0] == key:
        graph, runner = live[1], live[2]
    else:
        graph, runner = _app.lookup(key)
    outcome: dict[str, Any] = await runner._workflow_body(graph, inputs, options)
    return outcome
