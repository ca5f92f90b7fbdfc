"""A run whose caller stops it (iter() left early, a cancelled task) is a CANCELLED workflow.

AsyncRunner cancels the run; DBOSAsyncRunner does the same and records it in DBOS, so neither a
restart nor DBOS's recovery continues a run its caller stopped. Running the same workflow id
again resumes it: finished steps are kept, the rest runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS

from hypergraph import DBOSAsyncRunner, Graph, node
from hypergraph.events import EventProcessor


def test_a_cancelled_run_reports_stopped_and_is_recorded_cancelled() -> None:
    """R2-6: cancelling the caller ends the run 'stopped' for processors and CANCELLED in DBOS."""
    ends: list[Any] = []

    class Recorder(EventProcessor):
        def on_run_end(self, event: Any) -> None:
            ends.append(event.status)

    running = asyncio.Event()
    cancelled: list[bool] = []

    @node(output_name="y")
    async def slow(x: int) -> int:
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return x

    async def main() -> str:
        task = asyncio.ensure_future(
            DBOSAsyncRunner().run(
                Graph([slow], name="cancel_me"), {"x": 1}, workflow_id="cancel-me-1",
                event_processors=[Recorder()],
            )
        )
        await running.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        status = await DBOS.get_workflow_status_async("cancel-me-1")
        assert status is not None
        return str(status.status)

    assert asyncio.run(main()) == "CANCELLED"
    assert cancelled == [True]  # the node's own await was cancelled, not left running
    assert ends == ["stopped"]


class Seen(EventProcessor):
    """(event type, node name or run status) of every event, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def on_event(self, event: Any) -> None:
        status = getattr(event, "status", "")
        detail = getattr(event, "node_name", None) or str(getattr(status, "value", status))
        self.events.append((type(event).__name__, detail))


def test_running_a_cancelled_workflow_id_again_resumes_it_without_redoing_finished_nodes() -> None:
    """The same workflow id after a cancellation continues the run: finished nodes stay done."""
    calls: list[str] = []
    hold = {"on": True}
    running = asyncio.Event()

    @node(output_name="a")
    def first(x: int) -> int:
        calls.append("first")
        return x + 1

    @node(output_name="b")
    async def second(a: int) -> int:
        calls.append("second")
        if hold["on"]:
            running.set()
            await asyncio.Event().wait()
        return a * 10

    graph = Graph([first, second], name="cancel_resume")

    async def main() -> int:
        runner = DBOSAsyncRunner()
        task = asyncio.ensure_future(runner.run(graph, {"x": 1}, workflow_id="cancel-resume-1"))
        await running.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        hold["on"] = False
        result = await runner.run(
            graph, {"x": 1}, workflow_id="cancel-resume-1", event_processors=[seen]
        )
        return int(result["b"])

    seen = Seen()
    assert asyncio.run(main()) == 20
    assert calls == ["first", "second", "second"]
    # the resumed workflow executes on DBOS's own event loop; its events still reach the caller
    assert ("NodeEndEvent", "second") in seen.events
    assert seen.events[-1] == ("RunEndEvent", "completed")


def test_a_restart_does_not_resume_a_stopped_run_but_the_same_id_does(
    tmp_path: Path, run_program: Any, markers: Any
) -> None:
    """Left early in one process, the run stays CANCELLED through a restart until run again."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    (tmp_path / "hold").touch()
    stopped = run_program("stopper.py", url, str(tmp_path), "stop-1", "stop")
    assert "status=CANCELLED" in stopped.stdout.splitlines(), stopped.stderr
    (tmp_path / "hold").unlink()
    launched = run_program("stopper.py", url, str(tmp_path), "stop-1", "launch")
    assert "status=CANCELLED" in launched.stdout.splitlines(), launched.stderr
    assert len(markers(tmp_path, "wait")) == 1  # launching recovered nothing
    again = run_program("stopper.py", url, str(tmp_path), "stop-1", "again")
    assert "result=20" in again.stdout.splitlines(), again.stderr
    assert "status=SUCCESS" in again.stdout.splitlines()
    assert len(markers(tmp_path, "prepare")) == 1
    assert len(markers(tmp_path, "wait")) == 2


def test_stopping_a_run_stops_its_nested_child_workflow_and_the_same_id_resumes_both() -> None:
    """A cancelled caller cancels the child workflow's running node too; rerunning finishes both."""
    calls: list[str] = []
    hold = {"on": True}
    running = asyncio.Event()
    cancelled: list[bool] = []

    @node(output_name="a")
    def before(x: int) -> int:
        calls.append("before")
        return x + 1

    @node(output_name="b")
    async def inside(a: int) -> int:
        calls.append("inside")
        if hold["on"]:
            running.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
        return a * 10

    graph = Graph([before, Graph([inside], name="held_inner").as_node(name="held")], name="held")

    async def main() -> tuple[list[str], int]:
        runner = DBOSAsyncRunner()
        task = asyncio.ensure_future(runner.run(graph, {"x": 1}, workflow_id="held-1"))
        await running.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        statuses = [
            str(getattr(await DBOS.get_workflow_status_async(wid), "status", None))
            for wid in ("held-1", "held-1/held")
        ]
        hold["on"] = False
        result = await runner.run(graph, {"x": 1}, workflow_id="held-1")
        return statuses, int(result["b"])

    statuses, b = asyncio.run(main())
    assert statuses == ["CANCELLED", "CANCELLED"]
    assert cancelled == [True]
    assert b == 20
    assert calls == ["before", "inside", "inside"]


def test_cancelling_a_map_cancels_every_item_workflow_and_the_same_id_resumes_them() -> None:
    """map(workflow_id=...) cancelled while its items run: all CANCELLED; the same id finishes."""
    import threading

    hold = {"on": True}
    calls: list[int] = []
    all_running = threading.Event()  # items execute on DBOS's own event loop (the queue's)

    @node(output_name="y")
    async def slow(x: int) -> int:
        calls.append(x)
        if len(calls) == 3:
            all_running.set()
        if hold["on"]:
            await asyncio.Event().wait()
        return x * 2

    graph = Graph([slow], name="cancel_map")

    async def main() -> tuple[list[str], list[int]]:
        runner = DBOSAsyncRunner()
        task = asyncio.ensure_future(
            runner.map(graph, {"x": [1, 2, 3]}, map_over="x", workflow_id="cancel-map-1")
        )
        assert await asyncio.to_thread(all_running.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        items = await DBOS.list_workflows_async(workflow_id_prefix="cancel-map-1/")
        statuses = sorted(str(item.status) for item in items)
        hold["on"] = False
        again = await runner.map(graph, {"x": [1, 2, 3]}, map_over="x", workflow_id="cancel-map-1")
        return statuses, [result["y"] for result in again]

    statuses, values = asyncio.run(main())
    assert statuses == ["CANCELLED"] * 3
    assert values == [2, 4, 6]
    assert sorted(calls) == [1, 1, 2, 2, 3, 3]  # each item ran once more, none twice more
