"""DB7: a paused run is a workflow waiting for its answer, answered from any process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hypergraph import (
    DBOSAsyncRunner,
    Graph,
    InputOverrideRequiresForkError,
    RunStatus,
    interrupt,
    node,
)


@node(output_name="draft")
def write(order: int) -> str:
    return f"draft {order}"


@interrupt(output_name="decision")
def approve(draft: str) -> None:
    return None


@node(output_name="final")
def publish(draft: str, decision: str) -> str:
    return f"{draft}: {decision}"


GRAPH = Graph([write, approve, publish], name="approval_in_process")
NESTED = Graph([GRAPH.as_node(name="review")], name="approval_nested")


def test_an_answer_from_another_process_completes_the_paused_workflow(
    tmp_path: Path, run_program: Any, markers: Any
) -> None:
    """Start and pause in one process; answer in a second: the run finishes without redoing work."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    first = run_program("approval.py", url, str(tmp_path), "approval-1")
    assert "paused=decision" in first.stdout.splitlines(), first.stderr
    second = run_program("approval.py", url, str(tmp_path), "approval-1", "ship it")
    assert "result=draft for order 7: ship it" in second.stdout.splitlines(), second.stderr
    assert len(markers(tmp_path, "write")) == 1
    assert len(markers(tmp_path, "publish")) == 1


def test_a_program_with_changed_graphs_refuses_to_continue_a_pending_run(
    tmp_path: Path, run_program: Any
) -> None:
    """DB5: another application version (its graphs changed) gets GraphChangedError, not a hang."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    first = run_program("approval.py", url, str(tmp_path), "approval-2")
    assert "paused=decision" in first.stdout.splitlines(), first.stderr
    other = run_program(
        "approval.py", url, str(tmp_path), "approval-2", "ship it",
        env={"HYPERGRAPH_TEST_EXTRA_GRAPH": "1"},
    )
    assert other.returncode != 0
    assert "GraphChangedError" in other.stderr
    assert "'approval-2' is pending under application version" in other.stderr


def test_a_paused_run_resumes_by_response_key_in_the_same_process() -> None:
    """HI9 on DBOS: the answer continues the same workflow, and the result completes it."""

    async def scenario() -> tuple[Any, Any]:
        runner = DBOSAsyncRunner()
        paused = await runner.run(GRAPH, {"order": 3}, workflow_id="approve-same-process")
        done = await runner.run(GRAPH, {"decision": "yes"}, workflow_id="approve-same-process")
        return paused, done

    paused, done = asyncio.run(scenario())
    assert paused.status is RunStatus.PAUSED
    assert paused.pause.response_key == "decision"
    assert paused.values == {"draft": "draft 3"}
    assert done.status is RunStatus.COMPLETED
    assert done.values["final"] == "draft 3: yes"


def test_a_nested_pause_resumes_with_the_dotted_key_from_a_new_event_loop() -> None:
    """A pause inside a nested graph answers with ``review.decision``, even after its loop ended."""
    runner = DBOSAsyncRunner()
    paused = asyncio.run(runner.run(NESTED, {"order": 4}, workflow_id="approve-nested"))
    assert paused.pause.response_key == "review.decision"
    done = asyncio.run(runner.run(NESTED, {"review.decision": "ok"}, workflow_id="approve-nested"))
    assert done.status is RunStatus.COMPLETED
    assert done.values["final"] == "draft 4: ok"


def test_new_inputs_for_a_paused_workflow_require_a_fork() -> None:
    """CP3: only answers (and the same inputs again, R2-5) are accepted when resuming."""

    async def scenario() -> None:
        runner = DBOSAsyncRunner()
        await runner.run(GRAPH, {"order": 5}, workflow_id="approve-override")
        same = await runner.run(GRAPH, {"order": 5, "decision": "fine"}, workflow_id="approve-override")
        assert same.values["final"] == "draft 5: fine"
        with pytest.raises(InputOverrideRequiresForkError, match=r"'order'.*fork"):
            await runner.run(GRAPH, {"order": 6}, workflow_id="approve-override")

    asyncio.run(scenario())
