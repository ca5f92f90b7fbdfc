"""Human in the loop: pause a run at an ``@interrupt`` node, show the value, resume with the answer.

Run it with:  uv run --all-packages python examples/human_in_the_loop.py

An interrupt's function is its *handler*: returning a value answers it automatically, returning
``None`` pauses the run. A paused ``RunResult`` has ``status == "paused"`` and a ``pause`` that
says what to show (``pause.value``) and under which key to send the answer
(``pause.response_key``).

- One pause: re-running with the original values plus the answer works; the interrupt then
  outputs the answer without calling its handler.
- Several turns (review -> revise -> review again): each turn answers the pause pending *now*.
  Continue from the paused state, either in memory with ``checkpoint=result.checkpoint`` or
  through a checkpointer with the same ``workflow_id`` on every turn (which also survives a
  restart of the process). Re-running with a later turn's answer raises
  ``InterruptAnswerError``, because that answer would be used at the first visit.

In a nested graph the key is a dotted path (``"review.decision"``), so answers reach the right
interrupt however deep it sits.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypergraph import AsyncRunner, Graph, RunResult, interrupt, node, route
from hypergraph.checkpointers import InMemoryCheckpointer

BANNED = ("synergy", "leverage")


@node(output_name="draft")
def write_draft(topic: str) -> str:
    return f"Announcing {topic}: faster runs, fewer surprises, and we leverage synergy."


@interrupt(output_name="decision")
def approval(draft: str) -> str | None:
    """Short drafts are approved automatically; everything else waits for a person."""
    return "approve" if len(draft) < 20 else None


@node(output_name="post")
def finalize(draft: str, decision: str) -> str:
    if decision == "approve":
        return draft
    return f"[rewritten per reviewer: {decision!r}] {draft}"


# -- a flat graph: draft -> approval (pauses) -> finalize ---------------------------------------
blog = Graph([write_draft, approval, finalize], name="blog")


# -- the same approval inside a reusable review graph, which first runs a lint step ------------
@node(output_name="issues")
def lint(draft: str) -> list[str]:
    return [word for word in BANNED if word in draft]


@interrupt(output_name="decision")
def editor_approval(draft: str, issues: list[str]) -> str | None:
    """Clean drafts pass on their own; drafts with issues go to the editor."""
    return None if issues else "approve"


review = Graph([lint, editor_approval], name="review")
publishing = Graph([write_draft, review.as_node(), finalize], name="publishing")


def ask_human(shown: Any) -> str:
    """Stands in for a UI or a chat message; a real app would await the person's reply."""
    print(f"  reviewer sees: {shown!r}")
    return "drop the buzzwords"


async def run_until_done(runner: AsyncRunner, graph: Graph, values: dict[str, Any]) -> RunResult:
    result = await runner.run(graph, values)
    while result.paused:
        pause = result.pause
        assert pause is not None
        print(f"paused at {pause.node_name!r}; answer with key {pause.response_key!r}")
        answer = ask_human(pause.values or pause.value)
        # Re-drive: the original values plus every answer so far.
        values = {**values, pause.response_key: answer}
        result = await runner.run(graph, values)
    return result


# -- a two-turn review loop: draft -> editor (pauses) -> revise -> editor (pauses) -> done ------
@node(output_name="text")
def compose(topic: str, notes: str = "") -> str:
    return f"{topic}: we shipped it." + (f" [{notes}]" if notes else "")


@interrupt(output_name="verdict")
def editor(text: str) -> str | None:
    return None  # always a person


@route(targets=["apply_notes", "publish"])
def verdict_gate(verdict: str) -> str:
    return "publish" if verdict == "approve" else "apply_notes"


@node(output_name="notes")
def apply_notes(verdict: str) -> str:
    return verdict


@node(output_name="published")
def publish(text: str) -> str:
    return text


loop = Graph(
    [compose, editor, verdict_gate, apply_notes, publish], name="review_loop", entrypoint="compose"
)
TURNS = ["add numbers", "approve"]


async def two_turns_in_memory(runner: AsyncRunner) -> RunResult:
    """Each turn answers the pending pause and continues from the paused snapshot."""
    result = await runner.run(loop, {"topic": "release"})
    for answer in TURNS:
        assert result.pause is not None
        print(f"  editor sees {result.pause.value!r}, answers {answer!r}")
        result = await runner.run(
            loop, {result.pause.response_key: answer}, checkpoint=result.checkpoint
        )
    return result


async def two_turns_with_a_checkpointer() -> RunResult:
    """The same turns through a checkpointer: only the workflow_id and the answer are passed."""
    runner = AsyncRunner(checkpointer=InMemoryCheckpointer())  # SqliteCheckpointer for restarts
    result = await runner.run(loop, {"topic": "release"}, workflow_id="release-post")
    for answer in TURNS:
        assert result.pause is not None
        print(f"  editor sees {result.pause.value!r}, answers {answer!r}")
        result = await runner.run(loop, {"verdict": answer}, workflow_id="release-post")
    return result


async def main() -> None:
    runner = AsyncRunner()

    print("== flat graph ==")
    values = {"topic": "hypergraph 1.0"}
    result = await runner.run(blog, values)
    print("status:", result.status.value)
    print("values so far:", dict(result.values))
    pause = result.pause
    assert pause is not None
    print(f"paused at {pause.node_name!r}; answer with key {pause.response_key!r}")
    answer = ask_human(pause.value)
    result = await runner.run(blog, {**values, pause.response_key: answer})
    print("status:", result.status.value)
    print("post:", result["post"])

    print("== nested review graph ==")
    done = await run_until_done(runner, publishing, {"topic": "hypergraph 1.0"})
    print("status:", done.status.value)
    print("issues:", done["issues"])
    print("post:", done["post"])

    print("== two review turns, in memory ==")
    done = await two_turns_in_memory(runner)
    print("published:", done["published"])
    print("== two review turns, through a checkpointer ==")
    done = await two_turns_with_a_checkpointer()
    print("published:", done["published"])


if __name__ == "__main__":
    asyncio.run(main())
