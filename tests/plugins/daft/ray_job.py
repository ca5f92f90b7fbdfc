"""Runs graphs through Daft's Ray runner on a fresh local Ray cluster; prints a JSON report.

Started in a subprocess by test_ray.py, because Daft's runner choice is process-wide: the other
Daft tests keep the native runner.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import daft
import ray

from hypergraph import DaftRunner, Graph, RunStatus, node, stateful

LOG = os.environ["HYPERGRAPH_RAY_STATEFUL_LOG"]


class NodeFailed(Exception):
    """A user exception type that must come back from a Ray worker as itself."""


@stateful
class Model:
    """Logs each construction (pid) so the driver can count them."""

    def __init__(self) -> None:
        with open(LOG, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        self.weight = 3


@node(output_name="score")
def predict(x: int, model: Model) -> int:
    if x == -1:
        raise NodeFailed("bad row -1")
    return x * model.weight


@node(output_name="label")
async def describe(score: int) -> str:
    await asyncio.sleep(0)
    return f"s{score}"


def constructions() -> list[str]:
    with open(LOG) as fh:
        return fh.read().split()


def main() -> None:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    daft.set_runner_ray()
    runner = DaftRunner()
    graph = Graph([predict, describe])
    report: dict[str, object] = {"driver_pid": os.getpid()}

    model = Model()  # the driver's own instance: one construction, never shipped
    rows = 400
    frame = daft.from_pydict({"x": list(range(rows))}).into_partitions(4)
    before = len(constructions())
    mapped = runner.map_dataframe(graph, frame, values={"model": model})
    built = constructions()[before:]
    report["map_dataframe"] = {
        "rows": rows,
        "ok": mapped["score"] == [x * 3 for x in range(rows)]
        and mapped["label"] == [f"s{x * 3}" for x in range(rows)],
        "constructions": len(built),
        "worker_pids": sorted(set(built)),
    }

    before = len(constructions())
    listed = runner.map(graph, {"x": list(range(rows)), "model": model}, map_over="x")
    report["map"] = {
        "ok": listed["score"] == [x * 3 for x in range(rows)],
        "constructions": len(constructions()) - before,
    }

    try:
        runner.run(graph, {"x": -1, "model": model})
    except NodeFailed as exc:
        report["raise"] = {"type": type(exc).__name__, "message": str(exc), "caught_as_itself": True}
    except Exception as exc:  # the wrong type: report it so the test shows what arrived
        report["raise"] = {"type": type(exc).__name__, "message": str(exc), "caught_as_itself": False}

    continued = runner.map(
        graph, {"x": [1, -1, 2], "model": model}, map_over="x", error_handling="continue"
    )
    report["continue"] = {
        "statuses": [r.status.value for r in continued],
        "error_types": [type(f.error).__name__ for f in continued.failures],
        "completed": continued["score"],
    }
    report["runner"] = daft.get_or_infer_runner_type()
    assert continued.status == RunStatus.FAILED
    json.dump(report, sys.stdout)
    ray.shutdown()


if __name__ == "__main__":
    main()
