"""The checkpointer contract: behaviours every checkpointer must show, as pytest tests.

A checkpointer plugin subclasses :class:`CheckpointerContract` in its own test suite and provides
the ``checkpointer`` fixture (a fresh, empty store per test)::

    from hypergraph.testing import CheckpointerContract

    class TestPostgresCheckpointer(CheckpointerContract):
        @pytest.fixture
        def checkpointer(self, postgres_url):
            cp = PostgresCheckpointer(postgres_url)
            yield cp
            cp.close()

A persistent backend subclasses :class:`PersistentCheckpointerContract` instead and also
provides ``reopen`` (a fixture returning a function that opens the same store again), so the
contract checks that nothing is lost between connections.
Both write paths are exercised: the sync one directly, the async one through ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import attrs
import pytest

from hypergraph.checkpointers import (
    Checkpoint,
    Checkpointer,
    FinishedRuns,
    LineageNode,
    RunRecord,
    StepRecord,
    StepStatus,
    SyncCheckpointer,
    WorkflowStatus,
)
from hypergraph.checkpointers.base import save_each, save_each_sync
from hypergraph.checkpointers.records import child_runs_of
from hypergraph.exceptions import RunNotFoundError, WorkflowForkError

__all__ = ["CheckpointerContract", "Colour", "PersistentCheckpointerContract", "Point"]


@attrs.frozen
class Point:
    """An attrs value the contract stores (importable, so a JSON backend can restore it)."""

    x: int
    y: int


class Colour(Enum):
    """An enum value the contract stores."""

    RED = "red"
    BLUE = "blue"


def _step(run_id: str, superstep: int, node: str, index: int, **fields: Any) -> StepRecord:
    return StepRecord(run_id, superstep, node, index, **fields)


def _superstep(cp: Any, run_id: str, superstep: int, node: str, values: dict[str, Any]) -> None:
    """One superstep with one completed step writing ``values``, as a run loop saves it."""
    cp.save_superstep_sync(
        run_id,
        (_step(run_id, superstep, node, superstep, values=values),),
        Checkpoint(run_id, superstep, dict(values), {"superstep": superstep, "last": node}),
    )


class CheckpointerContract:
    """Subclass and override the ``checkpointer`` fixture to run the contract against a backend."""

    @pytest.fixture
    def checkpointer(self) -> Any:
        raise NotImplementedError("override the `checkpointer` fixture to return a fresh store")

    @pytest.fixture
    def keeps_every_superstep(self) -> bool:
        """Override to return False for a store that keeps only each run's latest checkpoint
        (``SqliteCheckpointer(durability="exit")``)."""
        return True

    # -- protocols and lifetime ---------------------------------------------------------------

    def test_implements_both_protocols(self, checkpointer: Any) -> None:
        """The backend has the sync path SyncRunner needs and the async path AsyncRunner needs."""
        assert isinstance(checkpointer, SyncCheckpointer)
        assert isinstance(checkpointer, Checkpointer)

    def test_close_works_awaited_or_not(self, checkpointer: Any) -> None:
        """``close()`` can be called plainly or awaited."""

        async def close() -> None:
            await checkpointer.close()

        asyncio.run(close())

    # -- runs ---------------------------------------------------------------------------------

    def test_created_run_is_readable(self, checkpointer: Any) -> None:
        """A created run reads back with its fields, ACTIVE, with its inputs and timestamps."""
        created = RunRecord(
            "wf-1", graph_name="pipeline", inputs={"query": "hello", "k": 3},
            graph_struct_hash="s1", graph_code_hash="c1", config={"scope": ["a"]},
        )
        checkpointer.create_run_sync(created)
        run = checkpointer.get_run("wf-1")
        assert run is not None
        assert run.status is WorkflowStatus.ACTIVE
        assert (run.graph_name, run.graph_struct_hash, run.graph_code_hash) == ("pipeline", "s1", "c1")
        assert run.inputs == {"query": "hello", "k": 3}
        assert run.config == {"scope": ["a"]}
        assert run.created_at.tzinfo is not None
        assert abs((run.created_at - created.created_at).total_seconds()) < 0.001
        assert run.completed_at is None

    def test_unknown_run_reads_as_none_or_not_found(self, checkpointer: Any) -> None:
        """``get_run`` of an unknown id is ``None``; the other reads raise ``RunNotFoundError``."""
        assert checkpointer.get_run("nope") is None
        for read in (checkpointer.steps, checkpointer.checkpoint, checkpointer.values,
                     checkpointer.state, checkpointer.lineage, checkpointer.fork_workflow,
                     checkpointer.retry_workflow):
            with pytest.raises(RunNotFoundError, match="'nope'"):
                read("nope")

    def test_duplicate_run_id_is_refused(self, checkpointer: Any) -> None:
        """Creating a run under a recorded id raises ``WorkflowForkError`` naming it."""
        checkpointer.create_run_sync(RunRecord("twice"))
        with pytest.raises(WorkflowForkError, match="'twice'"):
            checkpointer.create_run_sync(RunRecord("twice"))

    # -- supersteps ---------------------------------------------------------------------------

    def test_steps_come_back_in_execution_order(self, checkpointer: Any) -> None:
        """Every step of every superstep is recorded, in the order saved, with its fields."""
        checkpointer.create_run_sync(RunRecord("wf"))
        checkpointer.save_superstep_sync(
            "wf",
            (
                _step("wf", 0, "left", 0, values={"a": 1}, duration_ms=1.5,
                      input_versions={"x": 1}),
                _step("wf", 0, "right", 1, values={"b": 2}, cached=True),
            ),
            Checkpoint("wf", 0, {"a": 1, "b": 2}, {"n": 0}),
        )
        checkpointer.save_superstep_sync(
            "wf", (_step("wf", 1, "gate", 2, decision=["left"], child_run_id="wf/inner"),),
            Checkpoint("wf", 1, {}, {"n": 1}),
        )
        steps = checkpointer.steps("wf")
        assert [(s.superstep, s.node_name, s.index) for s in steps] == [
            (0, "left", 0), (0, "right", 1), (1, "gate", 2)
        ]
        left, right, gate = steps
        assert left.values == {"a": 1}
        assert left.input_versions == {"x": 1}
        assert left.duration_ms == 1.5
        assert right.cached is True and left.cached is False
        assert gate.decision == ["left"]
        assert gate.child_run_id == "wf/inner"
        assert all(s.status is StepStatus.COMPLETED for s in steps)
        assert [s.node_name for s in checkpointer.steps("wf", superstep=0)] == ["left", "right"]

    def test_step_saved_alone_is_recorded(self, checkpointer: Any) -> None:
        """``save_step_sync`` records a step without a checkpoint."""
        checkpointer.create_run_sync(RunRecord("wf"))
        checkpointer.save_step_sync(_step("wf", 0, "only", 0, values={"v": 1}))
        assert [s.node_name for s in checkpointer.steps("wf")] == ["only"]
        assert checkpointer.checkpoint("wf").superstep is None

    def test_checkpoint_accumulates_what_each_superstep_changed(self, checkpointer: Any) -> None:
        """A checkpoint's values fold the changes of every superstep; its state is the latest."""
        checkpointer.create_run_sync(RunRecord("wf", inputs={"x": 1}))
        _superstep(checkpointer, "wf", 0, "a", {"a": 10})
        _superstep(checkpointer, "wf", 1, "b", {"b": 20})
        _superstep(checkpointer, "wf", 2, "a", {"a": 11})
        found = checkpointer.checkpoint("wf")
        assert found.run_id == "wf"
        assert found.superstep == 2
        assert found.values == {"a": 11, "b": 20}
        assert found.state == {"superstep": 2, "last": "a"}
        assert found.inputs == {"x": 1}
        assert checkpointer.values("wf") == {"a": 11, "b": 20}
        assert checkpointer.state("wf") == {"x": 1, "a": 11, "b": 20}

    def test_full_values_each_superstep_read_back_the_same(self, checkpointer: Any) -> None:
        """A loop passing all values every superstep (same objects again) reads back the same."""
        checkpointer.create_run_sync(RunRecord("wf"))
        big = list(range(1000))
        values: dict[str, Any] = {}
        for s, (name, value) in enumerate((("big", big), ("a", 1), ("a", 2), ("b", (3,)))):
            values = {**values, name: value}
            checkpointer.save_superstep_sync(
                "wf", (_step("wf", s, name, s, values={name: value}),),
                Checkpoint("wf", s, values, {"superstep": s}),
            )
        checkpointer.update_run_status_sync("wf", WorkflowStatus.COMPLETED)
        assert checkpointer.values("wf") == {"big": big, "a": 2, "b": (3,)}

    def test_checkpoint_after_an_earlier_superstep(
        self, checkpointer: Any, keeps_every_superstep: bool
    ) -> None:
        """``checkpoint(id, superstep=n)`` is the run after superstep ``n`` (if it was kept)."""
        checkpointer.create_run_sync(RunRecord("wf"))
        _superstep(checkpointer, "wf", 0, "a", {"a": 10})
        _superstep(checkpointer, "wf", 1, "b", {"b": 11})
        checkpointer.update_run_status_sync("wf", WorkflowStatus.COMPLETED)
        earlier = checkpointer.checkpoint("wf", superstep=0)
        if keeps_every_superstep:
            assert (earlier.superstep, earlier.values, earlier.state) == (
                0, {"a": 10}, {"superstep": 0, "last": "a"}
            )
        else:  # only the latest checkpoint was written: nothing is recorded before it
            assert (earlier.superstep, earlier.values, earlier.state) == (None, {}, {})
        assert checkpointer.checkpoint("wf").values == {"a": 10, "b": 11}

    def test_states_between_two_supersteps_come_back_in_order(
        self, checkpointer: Any, keeps_every_superstep: bool
    ) -> None:
        """The ``("states", id, after, before)`` read a resume folds chained deltas with: the
        loop states of the checkpoints strictly between two supersteps, oldest first."""
        from hypergraph.runtime import read_sync

        def ask(after: int, before: int) -> Any:
            return (yield ("states", "wf", after, before))

        checkpointer.create_run_sync(RunRecord("wf"))
        for s, node in enumerate("abcde"):
            _superstep(checkpointer, "wf", s, node, {node: s})
        checkpointer.update_run_status_sync("wf", WorkflowStatus.COMPLETED)
        states = read_sync(checkpointer, ask(0, 4))
        if keeps_every_superstep:
            assert states == [{"superstep": s, "last": n} for s, n in ((1, "b"), (2, "c"), (3, "d"))]
        else:  # only the latest checkpoint (superstep 4) was written
            assert states == []

    def test_run_without_supersteps_starts_from_its_inputs(self, checkpointer: Any) -> None:
        """Before any superstep the checkpoint has no superstep, no values and the inputs."""
        checkpointer.create_run_sync(RunRecord("wf", inputs={"x": 1}))
        found = checkpointer.checkpoint("wf")
        assert (found.superstep, found.values, found.state, found.inputs) == (None, {}, {}, {"x": 1})

    def test_values_come_back_with_their_types(self, checkpointer: Any) -> None:
        """Tuples, sets, bytes, non-string keys, attrs values, enums and datetimes round-trip."""
        values = {
            "tuple": (1, (2, "three")),
            "set": {1, 2},
            "frozen": frozenset({"a"}),
            "bytes": b"\x00\xff",
            "keys": {1: "one", (2, 3): "pair"},
            "nested": {"list": [1.5, None, True, {"deep": [()]}]},
            "tagged": {"__hg__": "not a tag"},
            "point": Point(1, 2),
            "colour": Colour.BLUE,
            "when": datetime(2026, 12, 1, 12, 30, tzinfo=UTC),
            "inf": float("inf"),
        }
        checkpointer.create_run_sync(RunRecord("wf", inputs={"seed": (1, 2)}))
        _superstep(checkpointer, "wf", 0, "make", values)
        for restored in (checkpointer.steps("wf")[0].values, checkpointer.values("wf")):
            assert restored == values
            assert {k: type(v) for k, v in restored.items()} == {
                k: type(v) for k, v in values.items()
            }
        assert checkpointer.get_run("wf").inputs == {"seed": (1, 2)}

    # -- status -------------------------------------------------------------------------------

    def test_completed_run_counts_steps_and_records_completion(self, checkpointer: Any) -> None:
        """COMPLETED stamps ``completed_at`` and a duration, and counts completed steps."""
        checkpointer.create_run_sync(RunRecord("wf"))
        _superstep(checkpointer, "wf", 0, "a", {"a": 1})
        _superstep(checkpointer, "wf", 1, "b", {"b": 1})
        checkpointer.update_run_status_sync("wf", WorkflowStatus.COMPLETED)
        run = checkpointer.get_run("wf")
        assert run.status is WorkflowStatus.COMPLETED
        assert (run.node_count, run.error_count) == (2, 0)
        assert run.completed_at is not None and run.completed_at >= run.created_at
        assert run.duration_ms is not None and run.duration_ms >= 0

    def test_failed_steps_are_recorded_and_counted(self, checkpointer: Any) -> None:
        """A failed step keeps its error text; the run's error and error count are recorded."""
        checkpointer.create_run_sync(RunRecord("wf"))
        _superstep(checkpointer, "wf", 0, "a", {"a": 1})
        checkpointer.save_superstep_sync(
            "wf",
            (_step("wf", 1, "boom", 1, status=StepStatus.FAILED, error="ValueError: bad"),),
            Checkpoint("wf", 1, {}, {"failed": ["boom"]}),
        )
        checkpointer.update_run_status_sync(
            "wf", WorkflowStatus.FAILED, error="ValueError: bad", duration_ms=12.5
        )
        run = checkpointer.get_run("wf")
        assert (run.status, run.node_count, run.error_count) == (WorkflowStatus.FAILED, 1, 1)
        assert (run.error, run.duration_ms) == ("ValueError: bad", 12.5)
        failed = checkpointer.steps("wf")[-1]
        assert (failed.status, failed.error) == (StepStatus.FAILED, "ValueError: bad")

    def test_resumed_run_is_active_again(self, checkpointer: Any) -> None:
        """Setting ACTIVE on a paused run clears its completion time and error."""
        checkpointer.create_run_sync(RunRecord("wf"))
        checkpointer.update_run_status_sync("wf", WorkflowStatus.PAUSED)
        assert checkpointer.get_run("wf").status is WorkflowStatus.PAUSED
        checkpointer.update_run_status_sync("wf", "active")
        run = checkpointer.get_run("wf")
        assert (run.status, run.completed_at, run.error) == (WorkflowStatus.ACTIVE, None, None)

    def test_status_of_unknown_run_is_not_found(self, checkpointer: Any) -> None:
        """Updating the status of an unrecorded run raises ``RunNotFoundError``."""
        with pytest.raises(RunNotFoundError):
            checkpointer.update_run_status_sync("ghost", WorkflowStatus.COMPLETED)

    # -- listing ------------------------------------------------------------------------------

    def test_runs_filter_by_status_graph_and_parent(self, checkpointer: Any) -> None:
        """``runs()`` lists oldest first and filters by status, graph name, parent, top level."""
        checkpointer.create_run_sync(RunRecord("a", graph_name="etl"))
        checkpointer.create_run_sync(RunRecord("b", graph_name="chat"))
        checkpointer.create_run_sync(RunRecord("b/0", graph_name="chat", parent_run_id="b"))
        checkpointer.update_run_status_sync("a", WorkflowStatus.COMPLETED)
        assert [r.id for r in checkpointer.runs()] == ["a", "b", "b/0"]
        assert [r.id for r in checkpointer.runs(status="completed")] == ["a"]
        assert [r.id for r in checkpointer.runs(status=WorkflowStatus.ACTIVE)] == ["b", "b/0"]
        assert [r.id for r in checkpointer.runs(graph_name="chat")] == ["b", "b/0"]
        assert [r.id for r in checkpointer.runs(parent="b")] == ["b/0"]
        assert [r.id for r in checkpointer.runs(top_level=True)] == ["a", "b"]
        assert [r.id for r in checkpointer.runs(limit=1)] == ["a"]
        with pytest.raises(ValueError, match="'completed'"):
            checkpointer.runs(status="done")

    def test_every_child_of_a_map_is_listed(self, checkpointer: Any) -> None:
        """A parent with 1,000 child runs lists all 1,000 of them, in order (no paging)."""
        checkpointer.create_run_sync(RunRecord("batch"))
        for i in range(1000):
            child = f"batch/{i}"
            checkpointer.create_run_sync(
                RunRecord(child, parent_run_id="batch", input_signature=f"sig-{i}")
            )
            _superstep(checkpointer, child, 0, "work", {"out": i})
            checkpointer.update_run_status_sync(child, WorkflowStatus.COMPLETED)
        children = checkpointer.runs(parent="batch")
        assert [c.id for c in children] == [f"batch/{i}" for i in range(1000)]
        assert {c.input_signature for c in children} == {f"sig-{i}" for i in range(1000)}
        assert all(c.status is WorkflowStatus.COMPLETED for c in children)
        assert checkpointer.values("batch/999") == {"out": 999}
        restored = checkpointer.children("batch")
        assert [(run.id, values) for run, values in restored] == [
            (f"batch/{i}", {"out": i}) for i in range(1000)
        ]
        assert asyncio.run(checkpointer.get_children("batch")) == restored
        if hasattr(checkpointer, "child_runs"):  # the optional narrow read a re-run map uses
            expected = child_runs_of(restored)
            assert checkpointer.child_runs("batch") == expected
            assert asyncio.run(checkpointer.get_child_runs("batch")) == expected

    def test_finished_runs_are_recorded_as_each_run_would_be(self, checkpointer: Any) -> None:
        """``save_runs_sync``/``save_runs`` (optional; ``CheckpointerBase`` has both, and a
        backend without them is written run by run as ``save_each_sync`` does): each run of a
        ``FinishedRuns`` reads back completed, with its inputs, signature, steps and last
        checkpoint, listed under its parent in start order; a taken id is refused."""
        save = getattr(checkpointer, "save_runs_sync", None) or (
            lambda runs: save_each_sync(checkpointer, runs)
        )
        save_async = getattr(checkpointer, "save_runs", None) or (
            lambda runs: save_each(checkpointer, runs)
        )
        checkpointer.create_run_sync(RunRecord("m", graph_name="g"))
        template = RunRecord("", graph_name="g", parent_run_id="m", graph_struct_hash="s")
        state = {"superstep": 2, "last": "b"}
        start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()

        def finished(first: int, count: int) -> FinishedRuns:
            runs = []
            for i in range(first, first + count):
                at = start + i
                steps = [
                    (0, "a", 0, StepStatus.COMPLETED, {"y": i + 1}, ("x",), (1,), 0.5, False,
                     None, None, at + 0.1, None),
                    (1, "b", 1, StepStatus.COMPLETED, {"z": Point(i, 0)}, ("y",), (1,), 0.5,
                     False, None, None, at + 0.2, None),
                ]
                values = {"x": i, "y": i + 1, "z": Point(i, 0)}
                runs.append((f"m/{i}", {"x": i}, f"sig-{i}", at, at + 0.5, steps, values))
            return FinishedRuns(template, runs, 1, state)

        save(finished(0, 2))
        asyncio.run(save_async(finished(2, 1)))
        with pytest.raises(WorkflowForkError, match="m/1"):
            save(finished(1, 1))
        checkpointer.update_run_status_sync("m", WorkflowStatus.COMPLETED)
        children = checkpointer.runs(parent="m")
        assert [c.id for c in children] == ["m/0", "m/1", "m/2"]
        for i, run in enumerate(children):
            assert run.status is WorkflowStatus.COMPLETED
            assert (run.inputs, run.input_signature, run.graph_name) == ({"x": i}, f"sig-{i}", "g")
            assert run.graph_struct_hash == "s" and run.node_count == 2 and run.error_count == 0
            assert run.created_at == datetime.fromtimestamp(start + i, UTC)
            steps = checkpointer.steps(run.id)
            assert [(s.node_name, s.values, s.input_versions) for s in steps] == [
                ("a", {"y": i + 1}, {"x": 1}), ("b", {"z": Point(i, 0)}, {"y": 1}),
            ]
            stored = checkpointer.checkpoint(run.id)
            assert (stored.superstep, stored.values, stored.state, stored.inputs) == (
                1, {"x": i, "y": i + 1, "z": Point(i, 0)}, state, {"x": i},
            )

    # -- fork, retry, lineage -----------------------------------------------------------------

    def test_fork_starts_a_new_run_from_the_checkpoint(self, checkpointer: Any) -> None:
        """A fork is a new ACTIVE run with the source's graph and inputs and its checkpoint."""
        checkpointer.create_run_sync(
            RunRecord("src", graph_name="g", inputs={"x": 1}, graph_struct_hash="s")
        )
        _superstep(checkpointer, "src", 0, "a", {"a": 1})
        _superstep(checkpointer, "src", 1, "b", {"b": 2})
        checkpointer.update_run_status_sync("src", WorkflowStatus.COMPLETED)
        new_id, start = checkpointer.fork_workflow("src")
        assert new_id.startswith("src-fork-")
        assert (start.run_id, start.superstep, start.values) == (new_id, 1, {"a": 1, "b": 2})
        assert start.state == {"superstep": 1, "last": "b"}
        assert start.inputs == {"x": 1}
        fork = checkpointer.get_run(new_id)
        assert (fork.status, fork.forked_from, fork.fork_superstep) == (
            WorkflowStatus.ACTIVE, "src", 1
        )
        assert (fork.graph_name, fork.graph_struct_hash, fork.inputs) == ("g", "s", {"x": 1})
        # the fork owns a copy of its starting point: resuming it needs nothing from the source
        assert checkpointer.checkpoint(new_id) == start

    def test_fork_at_a_superstep_into_a_chosen_id(
        self, checkpointer: Any, keeps_every_superstep: bool
    ) -> None:
        """``fork_workflow(src, workflow_id=..., superstep=n)`` starts after superstep ``n``."""
        checkpointer.create_run_sync(RunRecord("src"))
        _superstep(checkpointer, "src", 0, "a", {"a": 1})
        _superstep(checkpointer, "src", 1, "a", {"a": 2})
        checkpointer.update_run_status_sync("src", WorkflowStatus.COMPLETED)
        new_id, start = checkpointer.fork_workflow("src", workflow_id="mine", superstep=0)
        expected = (0, {"a": 1}) if keeps_every_superstep else (None, {})
        assert (new_id, start.superstep, start.values) == ("mine", *expected)
        assert checkpointer.get_run("mine").fork_superstep == expected[0]

    def test_fork_into_a_recorded_id_is_refused(self, checkpointer: Any) -> None:
        """Forking into an id that exists raises ``WorkflowForkError``; nothing is written."""
        checkpointer.create_run_sync(RunRecord("src"))
        checkpointer.create_run_sync(RunRecord("taken"))
        with pytest.raises(WorkflowForkError, match="'taken'"):
            checkpointer.fork_workflow("src", workflow_id="taken")
        assert checkpointer.get_run("taken").forked_from is None

    def test_retry_records_retry_lineage(self, checkpointer: Any) -> None:
        """A retry gets a fresh auto id, ``retry_of`` and a retry index counting the chain."""
        checkpointer.create_run_sync(RunRecord("job", inputs={"n": 1}))
        _superstep(checkpointer, "job", 0, "a", {"a": 1})
        checkpointer.update_run_status_sync("job", WorkflowStatus.FAILED, error="boom")
        first, start = checkpointer.retry_workflow("job")
        assert first.startswith("run-")
        assert (start.superstep, start.values, start.inputs) == (0, {"a": 1}, {"n": 1})
        second, _ = checkpointer.retry_workflow(first)
        assert (checkpointer.get_run(first).retry_of, checkpointer.get_run(first).retry_index) == (
            "job", 1
        )
        assert (checkpointer.get_run(second).retry_of, checkpointer.get_run(second).retry_index) == (
            first, 2
        )

    def test_lineage_is_the_whole_tree_from_any_member(self, checkpointer: Any) -> None:
        """``lineage(id)`` of any run in a fork/retry family is the tree from the root run."""
        checkpointer.create_run_sync(RunRecord("root"))
        _superstep(checkpointer, "root", 0, "a", {"a": 1})
        fork_a, _ = checkpointer.fork_workflow("root", workflow_id="fork-a")
        checkpointer.fork_workflow("root", workflow_id="fork-b")
        checkpointer.retry_workflow(fork_a, workflow_id="retry-a")
        for member in ("root", "fork-a", "fork-b", "retry-a"):
            tree = checkpointer.lineage(member)
            assert isinstance(tree, LineageNode)
            assert tree.run.id == "root"
            assert tree.ids() == ["root", "fork-a", "retry-a", "fork-b"]
        tree = checkpointer.lineage("retry-a")
        assert [node.relation for node in tree.walk()] == ["root", "fork", "retry", "fork"]
        assert "retry #1 of fork-a" in tree.render()

    # -- async path ---------------------------------------------------------------------------

    def test_async_path_writes_and_reads_the_same_records(self, checkpointer: Any) -> None:
        """The awaitable methods write and read exactly what the sync ones do."""

        async def scenario() -> tuple[Any, ...]:
            await checkpointer.create_run(RunRecord("aw", graph_name="g", inputs={"x": 1}))
            await checkpointer.save_superstep(
                "aw", (_step("aw", 0, "a", 0, values={"a": 1}),), Checkpoint("aw", 0, {"a": 1}, {})
            )
            await checkpointer.save_step(_step("aw", 1, "b", 1, values={"b": 2}))
            await checkpointer.update_run_status("aw", WorkflowStatus.COMPLETED)
            await checkpointer.flush_async()
            fork_id, _ = await checkpointer.fork_workflow_async("aw", workflow_id="aw-fork")
            retry_id, _ = await checkpointer.retry_workflow_async("aw", workflow_id="aw-retry")
            return (
                await checkpointer.get_run_async("aw"),
                await checkpointer.get_steps("aw"),
                await checkpointer.get_state("aw"),
                await checkpointer.get_values("aw"),
                await checkpointer.get_checkpoint("aw"),
                await checkpointer.get_runs(top_level=True),
                await checkpointer.get_lineage("aw"),
                fork_id,
                retry_id,
            )

        run, steps, state, values, found, runs, tree, fork_id, retry_id = asyncio.run(scenario())
        assert run == checkpointer.get_run("aw")
        assert run.status is WorkflowStatus.COMPLETED and run.node_count == 2
        assert steps == checkpointer.steps("aw")
        assert [s.node_name for s in steps] == ["a", "b"]
        assert state == {"x": 1, "a": 1}
        assert values == {"a": 1}
        assert found == checkpointer.checkpoint("aw")
        assert [r.id for r in runs] == ["aw", "aw-fork", "aw-retry"]
        assert tree.ids() == ["aw", "aw-fork", "aw-retry"]
        assert (fork_id, retry_id) == ("aw-fork", "aw-retry")

    # -- records ------------------------------------------------------------------------------

    def test_records_round_trip_through_the_serde_converter(self, checkpointer: Any) -> None:
        """Run and step records read back convert to JSON-ready dicts and back, equal."""
        from hypergraph.serde import make_converter

        checkpointer.create_run_sync(RunRecord("wf", graph_name="g", inputs={"x": 1}))
        _superstep(checkpointer, "wf", 0, "a", {"a": [1, 2]})
        checkpointer.update_run_status_sync("wf", WorkflowStatus.COMPLETED)
        converter = make_converter()
        run = checkpointer.get_run("wf")
        step = checkpointer.steps("wf")[0]
        assert converter.structure(converter.unstructure(run), RunRecord) == run
        assert converter.structure(converter.unstructure(step), StepRecord) == step
        assert converter.unstructure(run)["status"] == "completed"

    # -- concurrency and persistence ----------------------------------------------------------

    def test_threads_writing_different_runs_lose_nothing(self, checkpointer: Any) -> None:
        """Eight threads each writing their own run leave every step and status recorded."""

        def work(t: int) -> None:
            run_id = f"thread-{t}"
            checkpointer.create_run_sync(RunRecord(run_id))
            for s in range(25):
                _superstep(checkpointer, run_id, s, f"n{s}", {f"v{s}": t * 100 + s})
            checkpointer.update_run_status_sync(run_id, WorkflowStatus.COMPLETED)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for t in range(8):
            run = checkpointer.get_run(f"thread-{t}")
            assert (run.status, run.node_count) == (WorkflowStatus.COMPLETED, 25)
            assert checkpointer.values(f"thread-{t}")["v24"] == t * 100 + 24


class PersistentCheckpointerContract(CheckpointerContract):
    """The contract plus what a store that outlives its process must do.

    Override ``reopen`` as well: a fixture returning ``f(closed) -> checkpointer`` that opens
    the store ``closed`` used, after ``closed.close()``.
    """

    @pytest.fixture
    def reopen(self) -> Callable[[Any], Any]:
        raise NotImplementedError("override the `reopen` fixture for a persistent store")

    def test_reopened_store_keeps_everything(
        self, checkpointer: Any, reopen: Callable[[Any], Any]
    ) -> None:
        """A store closed and opened again has every run, step and checkpoint, equal."""
        checkpointer.create_run_sync(RunRecord("kept", inputs={"x": (1, 2)}))
        _superstep(checkpointer, "kept", 0, "a", {"a": {1, 2}})
        checkpointer.update_run_status_sync("kept", WorkflowStatus.PAUSED)
        before = (checkpointer.get_run("kept"), checkpointer.steps("kept"),
                  checkpointer.checkpoint("kept"))
        checkpointer.close()
        again = reopen(checkpointer)
        try:
            after = (again.get_run("kept"), again.steps("kept"), again.checkpoint("kept"))
        finally:
            again.close()
        assert after == before

    def test_status_change_makes_everything_durable(
        self, checkpointer: Any, reopen: Callable[[Any], Any]
    ) -> None:
        """After a status update returns, another connection to the store sees every record."""
        checkpointer.create_run_sync(RunRecord("seen"))
        for s in range(5):
            _superstep(checkpointer, "seen", s, "a", {"a": s})
        checkpointer.update_run_status_sync("seen", WorkflowStatus.COMPLETED)
        other = reopen(checkpointer)
        try:
            assert other.get_run("seen").node_count == 5
            assert other.values("seen") == {"a": 4}
        finally:
            other.close()
