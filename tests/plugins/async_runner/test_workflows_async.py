"""AsyncRunner with a checkpointer: resume, multi-turn interrupts across reopened files (HI9)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hypergraph import END, AsyncRunner, Graph, interrupt, node, route
from hypergraph.checkpointers import InMemoryCheckpointer, SqliteCheckpointer, WorkflowStatus
from hypergraph.exceptions import InputOverrideRequiresForkError, InterruptAnswerError

DRAFTS: list[str] = []


@node(output_name="draft")
def write(topic: str, feedback: str = "") -> str:
    text = f"{topic} draft" + (f" ({feedback})" if feedback else "")
    DRAFTS.append(text)
    return text


@interrupt(output_name="decision")
def review(draft: str) -> None:
    return None


@route(targets=["revise", "publish"])
def decide(decision: str) -> str:
    return "publish" if decision == "approve" else "revise"


@node(output_name="feedback")
def revise(decision: str) -> str:
    return decision


@node(output_name="post")
def publish(draft: str) -> str:
    return f"published: {draft}"


editorial = Graph([write, review, decide, revise, publish], name="editorial", entrypoint="write")


@pytest.fixture(autouse=True)
def _clear() -> None:
    DRAFTS.clear()


def test_two_review_turns_resume_through_a_reopened_sqlite_file(tmp_path: Path) -> None:
    """HI9: each resume answers the pause pending now; the second visit pauses again."""
    path = str(tmp_path / "runs.db")

    async def turn(values: dict[str, Any]) -> Any:
        with SqliteCheckpointer(path) as cp:  # a fresh process would open the file the same way
            return await AsyncRunner(checkpointer=cp).run(editorial, values, workflow_id="post-1")

    first = asyncio.run(turn({"topic": "launch"}))
    assert first.paused and first.pause.value == "launch draft"
    second = asyncio.run(turn({"decision": "shorter"}))
    assert second.paused and second.pause.value == "launch draft (shorter)"
    done = asyncio.run(turn({"topic": "launch", "decision": "approve"}))
    assert done["post"] == "published: launch draft (shorter)"
    assert DRAFTS == ["launch draft", "launch draft (shorter)"]
    with SqliteCheckpointer(path) as cp:
        assert cp.get_run("post-1").status is WorkflowStatus.COMPLETED


def test_a_paused_workflow_takes_only_answers(tmp_path: Path) -> None:
    """HI9, CP3: another topic while paused → InputOverrideRequiresForkError."""
    cp = InMemoryCheckpointer()
    runner = AsyncRunner(checkpointer=cp)
    asyncio.run(runner.run(editorial, {"topic": "launch"}, workflow_id="p"))
    with pytest.raises(InputOverrideRequiresForkError, match="'topic'"):
        asyncio.run(runner.run(editorial, {"topic": "other", "decision": "approve"}, workflow_id="p"))


def test_rerunning_with_a_second_turns_answer_raises_instead_of_publishing_the_first_draft() -> None:
    """HI9: the old re-run form can't answer a second visit; the error's checkpoint can."""
    runner = AsyncRunner()
    first = asyncio.run(runner.run(editorial, {"topic": "launch"}))
    assert first.paused
    with pytest.raises(InterruptAnswerError, match=r"checkpoint=") as caught:
        asyncio.run(runner.run(editorial, {"topic": "launch", "decision": "shorter"}))
    done = asyncio.run(
        runner.run(editorial, {"decision": "approve"}, checkpoint=caught.value.checkpoint)
    )
    assert done["post"] == "published: launch draft (shorter)"


def test_the_old_rerun_form_still_answers_a_single_pause() -> None:
    """HI10: re-running with the original values plus the answer finishes a one-turn review."""
    runner = AsyncRunner()
    asyncio.run(runner.run(editorial, {"topic": "launch"}))
    done = asyncio.run(runner.run(editorial, {"topic": "launch", "decision": "approve"}))
    assert done["post"] == "published: launch draft"


def test_in_memory_checkpoints_answer_each_turn_without_a_checkpointer() -> None:
    """R2-4: result.checkpoint continues the paused run, one turn at a time."""
    runner = AsyncRunner()
    result = asyncio.run(runner.run(editorial, {"topic": "launch"}))
    for answer in ("shorter", "bolder", "approve"):
        result = asyncio.run(
            runner.run(editorial, {result.pause.response_key: answer}, checkpoint=result.checkpoint)
        )
    assert result["post"] == "published: launch draft (bolder)"


FLAKY = {"on": True}


@node(output_name="y")
async def fetch(x: int) -> int:
    DRAFTS.append(f"fetch {x}")
    return x * 10


@node(output_name="z")
async def store(y: int) -> int:
    DRAFTS.append(f"store {y}")
    if FLAKY["on"]:
        raise ConnectionError("store is down")
    return y + 1


pipeline = Graph([fetch, store], name="pipeline")


def test_an_async_failure_resumes_without_rerunning_completed_nodes(tmp_path: Path) -> None:
    """CP5: AsyncRunner resumes a failed run from its SQLite checkpoint."""
    path = str(tmp_path / "runs.db")
    FLAKY["on"] = True
    with SqliteCheckpointer(path) as cp, pytest.raises(ConnectionError):
        asyncio.run(AsyncRunner(checkpointer=cp).run(pipeline, {"x": 1}, workflow_id="a"))
    FLAKY["on"] = False
    DRAFTS.clear()
    with SqliteCheckpointer(path) as cp:
        result = asyncio.run(AsyncRunner(checkpointer=cp).run(pipeline, {"x": 1}, workflow_id="a"))
        assert cp.get_run("a").status is WorkflowStatus.COMPLETED
    assert result["z"] == 11
    assert DRAFTS == ["store 10"]


def test_an_async_map_rerun_restores_completed_items(tmp_path: Path) -> None:
    """CP8 under AsyncRunner: only the new item runs; the others are restored."""
    FLAKY["on"] = False
    with SqliteCheckpointer(str(tmp_path / "runs.db")) as cp:
        runner = AsyncRunner(checkpointer=cp)
        asyncio.run(runner.map(pipeline, {"x": [1, 2]}, map_over="x", workflow_id="m"))
        DRAFTS.clear()
        result = asyncio.run(runner.map(pipeline, {"x": [1, 2, 3]}, map_over="x", workflow_id="m"))
        assert sorted(c.id for c in cp.runs(parent="m")) == ["m/0", "m/1", "m/2"]
    assert result["z"] == [11, 21, 31]
    assert [r.restored for r in result] == [True, True, False]
    assert DRAFTS == ["fetch 3", "store 30"]


@pytest.mark.parametrize("backend", ["memory", "sqlite-sync", "sqlite-async", "sqlite-exit"])
def test_children_list_a_concurrent_maps_items_in_item_order(tmp_path: Path, backend: str) -> None:
    """CP8: ``children`` and ``runs(parent=)`` list map items oldest first, by when each item
    started, even when AsyncRunner finishes and commits them in another order; the same for
    a nested graph mapped inside a run (CP9)."""
    count = 4
    last_started: list[asyncio.Event] = []

    @node(output_name="y")
    async def wait_for_the_last(x: int) -> int:
        if x == count - 1:
            last_started[-1].set()
        else:
            await last_started[-1].wait()  # every earlier item commits after the last one
        return x * 10

    graph = Graph([wait_for_the_last], name="ordered")
    outer = Graph([graph.as_node().map_over("x")], name="outer")
    values = {"x": list(range(count))}
    cp: Any = (
        InMemoryCheckpointer()
        if backend == "memory"
        else SqliteCheckpointer(str(tmp_path / "runs.db"), durability=backend.split("-")[1])
    )

    async def both(runner: AsyncRunner) -> None:
        last_started.append(asyncio.Event())
        await runner.map(graph, values, map_over="x", workflow_id="m")
        last_started.append(asyncio.Event())
        await runner.run(outer, values, workflow_id="o")

    with cp:
        asyncio.run(both(AsyncRunner(checkpointer=cp)))
        ids = [f"m/{i}" for i in range(count)]
        assert [run.id for run in cp.runs(parent="m")] == ids
        assert [(run.id, values["y"]) for run, values in cp.children("m")] == [
            (run_id, i * 10) for i, run_id in enumerate(ids)
        ]
        nested = [f"o/ordered/{i}" for i in range(count)]
        assert [run.id for run in cp.runs(parent="o/ordered")] == nested


def test_async_runner_refuses_a_checkpointer_without_the_async_path() -> None:
    """CP1: AsyncRunner needs the awaitable write path."""

    class SyncOnly:
        def create_run_sync(self, run: Any) -> None: ...

    with pytest.raises(TypeError, match="AsyncRunner needs a checkpointer with the async path"):
        AsyncRunner(checkpointer=SyncOnly())


def test_a_nested_pause_resumes_from_the_checkpointer() -> None:
    """HI6, CP9: a paused nested review resumes with its dotted key through the checkpointer."""
    inner = Graph([review], name="check")

    @node(output_name="result")
    def finish(decision: str) -> str:
        return f"got {decision}"

    outer = Graph([write, inner.as_node(name="check"), finish], name="outer")
    cp = InMemoryCheckpointer()
    runner = AsyncRunner(checkpointer=cp)
    first = asyncio.run(runner.run(outer, {"topic": "t"}, workflow_id="n"))
    assert first.pause.response_key == "check.decision"
    done = asyncio.run(runner.run(outer, {"check.decision": "ok"}, workflow_id="n"))
    assert done["result"] == "got ok"
    assert DRAFTS == ["t draft"]
    assert cp.get_run("n").status is WorkflowStatus.COMPLETED
    assert cp.get_run("n/check") is not None


def test_a_gate_to_end_is_recorded_as_end() -> None:
    """CP7: END decisions are stored as the string "END"."""

    @route(targets=["publish", END])
    def stop(draft: str) -> Any:
        return END

    graph = Graph([write, stop, publish], name="stopper")
    cp = InMemoryCheckpointer()
    asyncio.run(AsyncRunner(checkpointer=cp).run(graph, {"topic": "t"}, workflow_id="e"))
    assert next(s for s in cp.steps("e") if s.node_name == "stop").decision == "END"


def _pipeline(scale: int, calls: list[str], broken: dict[str, bool]) -> Graph:
    """prep -> inner (load -> scaled) -> publish_it; ``scale`` is the inner code change."""

    @node(output_name="x")
    async def prep(a: int) -> int:
        calls.append("prep")
        return a + 1

    @node(output_name="y")
    async def load(x: int) -> int:
        calls.append("load")
        return x * 2

    namespace: dict[str, Any] = {"calls": calls}
    exec(f"async def scaled(y):\n    calls.append('scaled')\n    return y * {scale}", namespace)
    scaled = node(namespace["scaled"], output_name="z")

    @node(output_name="out")
    async def publish_it(z: int) -> int:
        calls.append("publish_it")
        if broken["on"]:
            raise RuntimeError("publish_it is broken")
        return z + 1

    inner = Graph([load, scaled], name="inner").as_node()
    return Graph([prep, inner, publish_it], name="pipeline")


def test_an_async_resume_after_a_nested_code_change_resumes_the_child_run(tmp_path: Path) -> None:
    """★ nested under AsyncRunner: only the changed inner node re-runs; the rest is kept."""
    path = str(tmp_path / "nested.db")
    calls: list[str] = []
    broken = {"on": True}
    with SqliteCheckpointer(path) as cp:
        asyncio.run(AsyncRunner(checkpointer=cp).run(
            _pipeline(3, calls, broken), {"a": 1}, workflow_id="wf", error_handling="continue"
        ))
    broken["on"] = False
    calls.clear()
    with SqliteCheckpointer(path) as cp:
        result = asyncio.run(AsyncRunner(checkpointer=cp).run(
            _pipeline(10, calls, broken), {"a": 1}, workflow_id="wf"
        ))
        assert calls == ["scaled", "publish_it"]
        assert result["out"] == 41
        assert result.rerun == {"inner": "code changed", "inner/scaled": "code changed"}
        assert cp.get_run("wf/inner").status is WorkflowStatus.COMPLETED
