"""Fail, fix the code, resume: a checkpointed pipeline keeps every step that is still valid.

Run it with:  uv run --all-packages python examples/resume_after_fix.py

A ``SqliteCheckpointer`` records each superstep of the run under its ``workflow_id``. The first
attempt fails in ``report``. We then "fix the code": ``report`` no longer crashes, and we also
correct a bug in ``score``, a step that had already completed. Running the same program again
with the same ``workflow_id`` resumes the recorded run: ``load`` and ``clean`` are not run again,
``score`` runs again because its code changed, ``rank`` because it is downstream of ``score``,
and ``report`` because it never finished. ``result.rerun`` says which completed steps ran again
and why.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypergraph import Graph, SyncRunner, node
from hypergraph.checkpointers import SqliteCheckpointer

executed: list[str] = []


@node(output_name="rows")
def load(source: str) -> list[str]:
    executed.append("load")
    return [f"{source}:{n}" for n in (3, 1, 2)]


@node(output_name="clean_rows")
def clean(rows: list[str]) -> list[str]:
    executed.append("clean")
    return [row.strip() for row in rows]


@node(output_name="ranking")
def rank(scores: dict[str, int]) -> list[str]:
    executed.append("rank")
    return sorted(scores, key=scores.__getitem__, reverse=True)


def build(*, fixed: bool) -> Graph:
    """The pipeline as it is before (``fixed=False``) and after the fix."""
    if fixed:

        @node(output_name="scores", name="score")
        def score(clean_rows: list[str]) -> dict[str, int]:
            executed.append("score")
            return {row: int(row.split(":")[1]) for row in clean_rows}

        @node(output_name="summary", name="report")
        def report(ranking: list[str]) -> str:
            executed.append("report")
            return "top: " + ", ".join(ranking)

    else:

        @node(output_name="scores", name="score")
        def score(clean_rows: list[str]) -> dict[str, int]:
            executed.append("score")
            return {row: -int(row.split(":")[1]) for row in clean_rows}  # bug: wrong sign

        @node(output_name="summary", name="report")
        def report(ranking: list[str]) -> str:
            executed.append("report")
            raise ConnectionError("the report service is down")

    return Graph([load, clean, score, rank, report], name="pipeline")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "runs.db")

        print("== first attempt ==")
        with SqliteCheckpointer(path) as checkpointer:
            runner = SyncRunner(checkpointer=checkpointer)
            result = runner.run(
                build(fixed=False), {"source": "db"}, workflow_id="nightly",
                error_handling="continue",
            )
            print("status:", result.status.value, "-", result.error)
            print("executed:", executed)
            print("recorded:", checkpointer.get_run("nightly"))

        executed.clear()
        print("== after fixing score and report: same program, same workflow_id ==")
        with SqliteCheckpointer(path) as checkpointer:  # a new process would do the same
            runner = SyncRunner(checkpointer=checkpointer)
            result = runner.run(build(fixed=True), {"source": "db"}, workflow_id="nightly")
            print("status:", result.status.value)
            print("executed:", executed)
            for name, reason in result.rerun.items():
                print(f"re-ran {name}: {reason}")
            print("summary:", result["summary"])
            steps = [f"{s.node_name}:{s.status.value}" for s in checkpointer.steps("nightly")]
            print("steps:", " ".join(steps))


if __name__ == "__main__":
    main()
