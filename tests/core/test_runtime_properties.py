"""Property: snapshot after any superstep, restore, continue == the uninterrupted run.

Random DAGs and gated loops; values and the order of node executions must match, and the
inline fast path must agree with the generic task path.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from hypergraph import END, FunctionNode, Graph, SyncRunner, route, runtime
from hypergraph.events import EventProcessor


class SnapshottingRunner(SyncRunner):
    """Runs every node as a task and keeps a snapshot after every superstep."""

    def __init__(self, order: list[str]) -> None:
        super().__init__()
        self.order = order
        self.snapshots: list[tuple[int, runtime.RunSnapshot]] = []

    def _driver(self, info: Any) -> runtime.SyncDriver:
        runner = self

        class Persisting(runtime.SyncDriver):
            persists = True

            def handle(self, effect: Any) -> Any:
                if isinstance(effect, runtime.Committed) and not effect.identity.path:
                    runner.snapshots.append((len(runner.order), effect.snapshot()))
                    return None
                return super().handle(effect)

        return Persisting(self, None, info.emitter, observed=True)


def _dag(spec: list[list[int]], order: list[str]) -> Graph:
    """Node i reads the outputs of the earlier nodes listed in spec[i] (or input 'x')."""
    nodes = []
    for i, sources in enumerate(spec):
        params = [f"v{j}" for j in sources] or ["x"]

        def body(*args: int, _i: int = i) -> int:
            order.append(f"n{_i}")
            return sum(args) + _i

        namespace: dict[str, Any] = {"body": body}
        exec(  # a real signature, so inputs are inferred by name
            f"def n{i}({', '.join(params)}):\n    return body({', '.join(params)})", namespace
        )
        nodes.append(FunctionNode(namespace[f"n{i}"], output_name=f"v{i}"))
    return Graph(nodes)


def _loop(limit: int, tail: int, order: list[str]) -> Graph:
    """inc/check loop up to ``limit``, then ``tail`` nodes consuming the count."""

    def inc(count: int) -> int:
        order.append("inc")
        return count + 1

    def check(count: int) -> object:
        order.append("check")
        return END if count >= limit else "inc"

    nodes: list[Any] = [FunctionNode(inc, output_name="count"), route(targets=["inc", END])(check)]
    def make_after(t: int) -> Any:
        def after(count: int) -> int:
            order.append(f"after{t}")
            return count * 10 + t

        return after

    for t in range(tail):
        nodes.append(FunctionNode(make_after(t), name=f"after{t}", output_name=f"a{t}"))
    return Graph(nodes, entrypoint="inc")


def _check_restores(graph: Graph, values: dict[str, Any], order: list[str]) -> None:
    order.clear()
    fast = SyncRunner().run(graph, values)
    fast_order = list(order)
    order.clear()
    runner = SnapshottingRunner(order)
    full = runner.run(graph, values)
    assert dict(full.values) == dict(fast.values)
    assert order == fast_order  # the inline path and the task path agree
    full_order = list(order)
    for done, snap in runner.snapshots:
        order.clear()
        resumed = SyncRunner().run(graph, {}, checkpoint=snap)
        assert dict(resumed.values) == dict(full.values)
        assert order == full_order[done:]


dags = st.integers(min_value=1, max_value=7).flatmap(
    lambda n: st.tuples(
        *[st.lists(st.integers(0, max(i - 1, 0)), max_size=min(i, 3), unique=True).map(
            lambda srcs, i=i: [j for j in srcs if j < i]
        ) for i in range(n)]
    )
)


@settings(max_examples=60, deadline=None)
@given(spec=dags, x=st.integers(-5, 5))
def test_restoring_a_dag_after_any_superstep_continues_identically(spec, x):
    """Random DAGs: every snapshot, restored, finishes with the same values and order."""
    order: list[str] = []
    _check_restores(_dag(list(spec), order), {"x": x}, order)


@settings(max_examples=40, deadline=None)
@given(limit=st.integers(1, 6), start=st.integers(0, 3), tail=st.integers(0, 2))
def test_restoring_a_gated_loop_after_any_superstep_continues_identically(limit, start, tail):
    """Gated loops: decisions, iteration counts and versions survive a snapshot."""
    order: list[str] = []
    _check_restores(_loop(limit, tail, order), {"count": start}, order)


# ---------------------------------------------------------------------------- compiled vs generic
class _Stop(BaseException):
    """An interrupt from inside a node (not an ``Exception``), like ``KeyboardInterrupt``."""


def _failing_dag(
    spec: list[list[int]], failing: set[int], order: list[str], *, on_odd: bool = False,
    stop_at: int | None = None,
) -> Graph:
    """Like ``_dag``; nodes in ``failing`` raise (``on_odd``: only when their result would be
    odd, so some map items fail and some do not), node ``stop_at`` raises ``_Stop``, node 0 has
    a mutable default, the last node has two outputs."""
    nodes = []
    last = len(spec) - 1
    for i, sources in enumerate(spec):
        params = [f"v{j}" for j in sources] or ["x"]

        def body(*args: int, _i: int = i) -> Any:
            order.append(f"n{_i}")
            total = sum(a if isinstance(a, int) else len(a) for a in args) + _i
            if _i in failing and (not on_odd or total % 2):
                raise ValueError(f"n{_i} failed")
            if _i == stop_at:
                raise _Stop(f"n{_i} interrupted")
            return (total, -total) if _i == last and _i > 0 else total

        namespace: dict[str, Any] = {"body": body}
        extra = ", pad=[]" if i == 0 else ""
        exec(
            f"def n{i}({', '.join(params)}{extra}):\n    return body({', '.join(params)})",
            namespace,
        )
        outputs: Any = (f"v{i}", f"w{i}") if i == last and i > 0 else f"v{i}"
        nodes.append(FunctionNode(namespace[f"n{i}"], output_name=outputs))
    return Graph(nodes)


def _outcome(result: Any, order: list[str]) -> tuple[Any, ...]:
    error = None if result.error is None else (
        type(result.error), str(result.error), getattr(result.error, "__notes__", None)
    )
    return dict(result.values), result.status, error, list(order), result.checkpoint


def _both_paths(run: Any, order: list[str]) -> tuple[Any, Any]:
    """``run()`` once compiled, once on the generic loop (same process, fresh order)."""
    from hypergraph.runtime import _compiled

    order.clear()
    compiled = _outcome(run(), order)
    order.clear()
    previous = _compiled.set_enabled(False)
    try:
        generic = _outcome(run(), order)
    finally:
        _compiled.set_enabled(previous)
    return compiled, generic


@settings(max_examples=80, deadline=None)
@given(spec=dags, x=st.integers(-5, 5), failing=st.sets(st.integers(0, 6), max_size=2))
def test_compiled_runs_equal_the_generic_loop_on_random_dags(spec, x, failing):
    """Values, execution order, status, error and snapshot agree with the compiled path off."""
    order: list[str] = []
    graph = _failing_dag(list(spec), failing, order)
    from hypergraph.engine import engine_for

    assert engine_for(graph).compiled is not None
    runner = SyncRunner()
    compiled, generic = _both_paths(
        lambda: runner.run(graph, {"x": x}, error_handling="continue"), order
    )
    assert compiled == generic


@settings(max_examples=40, deadline=None)
@given(spec=dags, x=st.integers(-5, 5), failing=st.sets(st.integers(0, 6), max_size=2))
def test_compiled_async_runs_finish_siblings_like_the_generic_loop(spec, x, failing):
    """AsyncRunner lets a failing superstep's siblings finish: compiled and generic agree."""
    import asyncio

    from hypergraph import AsyncRunner

    order: list[str] = []
    graph = _failing_dag(list(spec), failing, order)
    runner = AsyncRunner()
    compiled, generic = _both_paths(
        lambda: asyncio.run(runner.run(graph, {"x": x}, error_handling="continue")), order
    )
    assert compiled == generic


@settings(max_examples=40, deadline=None)
@given(
    spec=dags,
    xs=st.lists(st.integers(-5, 5), max_size=5),
    failing=st.sets(st.integers(0, 6), max_size=1),
)
def test_compiled_maps_equal_the_generic_loop(spec, xs, failing):
    """Map items on the light compiled path give the same per-item results as the generic one."""
    order: list[str] = []
    graph = _failing_dag(list(spec), failing, order)
    runner = SyncRunner()

    def run() -> Any:
        result = runner.map(graph, {"x": xs}, map_over="x", error_handling="continue")
        return _MapView(result)

    compiled, generic = _both_paths(run, order)
    assert compiled == generic


class _MapView:
    """A MapResult's observable content, shaped like a RunResult for ``_outcome``."""

    def __init__(self, result: Any) -> None:
        items = [
            (dict(r.values), r.status, None if r.error is None else str(r.error), r.checkpoint)
            for r in result
        ]
        self.values = {"items": items, "column": result["v0"], "len": len(result)}
        self.status = result.status
        self.error = None
        self.checkpoint = [len(result.failures), result.summary().split(" in ")[0]]


def test_forcing_the_generic_path_gives_the_same_chain_result_and_snapshot():
    """A 30-node chain run with the compiled path switched off matches the compiled run."""
    from hypergraph.runtime import _compiled

    order: list[str] = []
    graph = _dag([[]] + [[i] for i in range(29)], order)
    runner = SyncRunner()
    compiled, generic = _both_paths(lambda: runner.run(graph, {"x": 1}), order)
    assert compiled == generic
    assert compiled[3] == [f"n{i}" for i in range(30)]
    assert _compiled.enabled()


def _nested(spec: list[list[int]], failing: set[int], order: list[str]) -> Graph:
    """A random inner DAG as a graph node, a sibling in its superstep, and a consumer after."""
    inner = _failing_dag(spec, {i for i in failing if i < 10}, order)

    def sibling(x: int) -> int:
        order.append("sibling")
        if 10 in failing:
            raise ValueError("sibling failed")
        return x * 3

    def after(v0: int, s: int) -> int:
        order.append("after")
        return v0 + s

    return Graph([
        inner.as_node(name="inner"),
        FunctionNode(sibling, output_name="s"),
        FunctionNode(after, output_name="total"),
    ])


nested_cases = {  # ``_nested`` graphs: the inner DAG, its input, who fails, which runner
    "spec": dags,
    "x": st.integers(-5, 5),
    "failing": st.sets(st.sampled_from([0, 1, 2, 10]), max_size=2),
    "use_async": st.booleans(),
}


@settings(max_examples=50, deadline=None)
@given(**nested_cases)
def test_compiled_nested_graphs_equal_the_generic_loop(spec, x, failing, use_async):
    """A nested graph called by the parent's compiled code matches the generic nesting."""
    import asyncio

    from hypergraph import AsyncRunner

    order: list[str] = []
    graph = _nested(list(spec), failing, order)
    if use_async:
        runner: Any = AsyncRunner()

        def run() -> Any:
            return asyncio.run(runner.run(graph, {"x": x}, error_handling="continue"))
    else:
        runner = SyncRunner()

        def run() -> Any:
            return runner.run(graph, {"x": x}, error_handling="continue")

    compiled, generic = _both_paths(run, order)
    assert compiled == generic


@settings(max_examples=30, deadline=None)
@given(
    length=st.integers(1, 4),
    xs=st.lists(st.integers(-3, 3), max_size=6),
    failing=st.sets(st.integers(0, 3), max_size=1),
    limit=st.sampled_from([None, 2]),
)
def test_compiled_async_map_items_equal_the_generic_loop(length, xs, failing, limit):
    """A chain mixing async and sync functions, mapped on AsyncRunner: same items either way."""
    import asyncio

    from hypergraph import AsyncRunner

    order: list[str] = []

    def make(i: int) -> Any:
        if i % 2 == 0:

            async def body(x: int) -> int:
                order.append(f"n{i}")
                if i in failing and x == 1:
                    raise ValueError(f"n{i} failed on 1")
                return x + i

        else:

            def body(x: int) -> int:  # type: ignore[misc]
                order.append(f"n{i}")
                if i in failing and x == 1:
                    raise ValueError(f"n{i} failed on 1")
                return x * 2

        return FunctionNode(body, name=f"n{i}", output_name=f"v{i}").rename_inputs(
            x="x" if i == 0 else f"v{i - 1}"
        )

    graph = Graph([make(i) for i in range(length)])
    runner = AsyncRunner()

    def run() -> Any:
        return _MapView(asyncio.run(runner.map(
            graph, {"x": xs}, map_over="x", error_handling="continue", max_concurrency=limit,
        )))

    compiled, generic = _both_paths(run, order)
    # items run concurrently: how their calls interleave depends on the event loop's timing
    # (ticks every 2 ms), so the executions are compared as a multiset
    assert compiled[:3] == generic[:3] and compiled[4] == generic[4]
    assert sorted(compiled[3]) == sorted(generic[3])


# ---------------------------------------------------------------------------- journaled records
class _Quiet(EventProcessor):
    """Ignores events: attached, it sends a recorded run down the generic task path
    (``Committed`` per superstep) instead of the journaled one."""

    def on_event(self, event: Any) -> None:
        return None


def _steps_of(cp: Any, run_id: str) -> list[tuple[Any, ...]]:
    """A run's step records, timings left out; child run ids without the workflow id they
    start with (two recordings of one graph differ only in that)."""
    return [
        (s.superstep, s.node_name, s.index, s.status, s.values, s.input_versions, s.decision,
         s.error, s.child_run_id and s.child_run_id.partition("/")[2])
        for s in cp.steps(run_id)
    ]


def _restorable(cp: Any, stored: Any) -> Any:
    """The snapshot a resume restores from a stored checkpoint (chained deltas folded)."""
    from hypergraph.runtime._checkpoint_state import base_reads, snapshot_of
    from hypergraph.runtime._workflow import read_sync

    return snapshot_of(stored, read_sync(cp, base_reads(stored)))


def _records(cp: Any, run_id: str) -> tuple[Any, ...]:
    """What a checkpointer holds for a run, timings left out: its status, its steps and the
    state a resume restores after every superstep it recorded (chained deltas folded)."""
    steps = _steps_of(cp, run_id)
    snapshots = []
    for superstep in sorted({s[0] for s in steps}):
        snap = _restorable(cp, cp.checkpoint(run_id, superstep=superstep))
        assert snap is not None
        # a node that never ran counts 0 executions, listed or not (the task path lists the
        # unstarted siblings of a failure, the journal only what ran)
        ran = {name: n for name, n in snap.executions.items() if n}
        snapshots.append(attrs.evolve(snap, executions=ran))
    return cp.get_run(run_id).status, steps, snapshots


def _both_recordings(graph: Graph, values: dict[str, Any], order: list[str]) -> None:
    from hypergraph.checkpointers import InMemoryCheckpointer, SqliteCheckpointer

    for make in (InMemoryCheckpointer, lambda: SqliteCheckpointer(":memory:")):
        cp = make()
        order.clear()
        SyncRunner(checkpointer=cp).run(graph, values, workflow_id="j", error_handling="continue")
        journaled_order = list(order)
        order.clear()
        SyncRunner(checkpointer=cp).run(
            graph, values, workflow_id="g", error_handling="continue", event_processors=[_Quiet()]
        )
        assert order == journaled_order
        assert _records(cp, "j") == _records(cp, "g")


@settings(max_examples=60, deadline=None)
@given(spec=dags, x=st.integers(-5, 5), failing=st.sets(st.integers(0, 6), max_size=2))
def test_journaled_supersteps_record_what_the_task_path_records(spec, x, failing):
    """Random DAGs with failing nodes: a recorded run that journals its calls stores the same
    steps, statuses and per-superstep checkpoints as the task path (``Committed``)."""
    order: list[str] = []
    _both_recordings(_failing_dag(list(spec), set(failing), order), {"x": x}, order)


@settings(max_examples=30, deadline=None)
@given(limit=st.integers(1, 6), start=st.integers(0, 3), tail=st.integers(0, 2))
def test_journaled_gated_loops_record_what_the_task_path_records(limit, start, tail):
    """Gated loops (decisions, iterations, versions): the same records on both paths."""
    order: list[str] = []
    _both_recordings(_loop(limit, tail, order), {"count": start}, order)


# ---------------------------------------------------------------------------- "exit" recordings
def _exit_records(cp: Any, run_id: str) -> tuple[Any, ...]:
    """An "exit" run's record, timings left out: its inputs, status and counts, its steps,
    and its one checkpoint (values, inputs and the state a resume restores); None if absent."""
    run = cp.get_run(run_id)
    if run is None:  # e.g. a nested graph that never started
        return None
    stored = cp.checkpoint(run_id)
    steps = cp.steps(run_id)
    assert run.completed_at is not None and run.created_at <= run.completed_at
    assert run.duration_ms is not None and run.duration_ms >= sum(s.duration_ms for s in steps)
    return (
        run.inputs, run.status, run.error, run.node_count, run.error_count, _steps_of(cp, run_id),
        stored.superstep, stored.values, stored.inputs, _restorable(cp, stored),
        run.graph_name, run.graph_struct_hash, run.graph_code_hash, run.input_signature,
        run.config, run.parent_run_id is None,
    )


def _compiled_and_generic_exit(
    record: Any, ids: list[str], order: list[str]
) -> tuple[list[Any], list[Any]]:
    """``record(cp, id)`` twice compiled (learning how such runs end, then using it) and once
    with the compiled path off, on one "exit" store; the records of ``ids`` under each."""
    from hypergraph.checkpointers import SqliteCheckpointer
    from hypergraph.runtime import _compiled

    cp = SqliteCheckpointer(":memory:", durability="exit")
    results = []
    for wid, generic in (("c1", False), ("c2", False), ("g", True)):
        order.clear()
        previous = _compiled.set_enabled(not generic)
        try:
            result = record(cp, wid)
        finally:
            _compiled.set_enabled(previous)
        records = [_exit_records(cp, f"{wid}{suffix}") for suffix in ids]
        results.append((records, sorted(order), _outcome(result, [])[:3]))
    cp.close()
    return results[:2], results[2]


@settings(max_examples=60, deadline=None)
@given(spec=dags, x=st.integers(-5, 5), failing=st.sets(st.integers(0, 6), max_size=2))
def test_exit_mode_compiled_runs_record_what_the_generic_loop_records(spec, x, failing):
    """An "exit" run on its compiled code (timed, journaled afterwards) stores the same steps,
    counts and checkpoint as the generic journaled loop, also when a node fails; the second
    compiled run takes the learned end (``CompiledEnd``) instead of committing a state."""
    from hypergraph.engine import engine_for

    order: list[str] = []
    graph = _failing_dag(list(spec), set(failing), order, on_odd=True)
    compiled_code = engine_for(graph).compiled
    assert compiled_code is not None and compiled_code.run_timed is not None
    compiled_code.ends.clear()

    def record(cp: Any, wid: str) -> Any:
        return SyncRunner(checkpointer=cp).run(
            graph, {"x": x}, workflow_id=wid, error_handling="continue"
        )

    compiled, generic = _compiled_and_generic_exit(record, [""], order)
    assert compiled[0] == generic and compiled[1] == generic
    if generic[2][1].value == "completed":
        assert compiled_code.ends  # the first completed run taught the second one


@settings(max_examples=40, deadline=None)
@given(
    spec=dags,
    xs=st.lists(st.integers(-5, 5), min_size=1, max_size=5),
    failing=st.sets(st.integers(0, 6), max_size=2),
    use_async=st.booleans(),
)
def test_exit_mode_compiled_map_items_record_what_the_generic_loop_records(
    spec, xs, failing, use_async
):
    """Map items in "exit" mode on SyncRunner and AsyncRunner (which lets a failing
    superstep's siblings finish): every item's record agrees with the generic loop's."""
    import asyncio

    from hypergraph import AsyncRunner

    order: list[str] = []
    graph = _failing_dag(list(spec), set(failing), order, on_odd=True)

    def record(cp: Any, wid: str) -> Any:
        if use_async:
            result = asyncio.run(AsyncRunner(checkpointer=cp).map(
                graph, {"x": xs}, map_over="x", workflow_id=wid, error_handling="continue"
            ))
        else:
            result = SyncRunner(checkpointer=cp).map(
                graph, {"x": xs}, map_over="x", workflow_id=wid, error_handling="continue"
            )
        return _MapView(result)

    compiled, generic = _compiled_and_generic_exit(
        record, [f"/{i}" for i in range(len(xs))], order
    )
    assert compiled[0] == generic and compiled[1] == generic


def test_an_exit_mode_compiled_run_still_gives_its_checkpoint(tmp_path: Any) -> None:
    """A top-level run that took the learned end has no state; asking its result for the
    checkpoint builds it, equal to the generic loop's."""
    from hypergraph.checkpointers import SqliteCheckpointer
    from hypergraph.runtime import _compiled

    order: list[str] = []
    graph = _failing_dag([[], [0], [1]], set(), order)
    cp = SqliteCheckpointer(tmp_path / "exit.db", durability="exit")
    runner = SyncRunner(checkpointer=cp)
    runner.run(graph, {"x": 1}, workflow_id="first")
    second = runner.run(graph, {"x": 1}, workflow_id="second")
    previous = _compiled.set_enabled(False)
    try:
        generic = runner.run(graph, {"x": 1}, workflow_id="generic")
    finally:
        _compiled.set_enabled(previous)
    assert second.checkpoint is not None and second.checkpoint == generic.checkpoint
    assert dict(second.values) == dict(generic.values)
    assert runner.run(graph, {"x": 2}, workflow_id="fork", fork_from="second").status.value == "completed"
    cp.close()


@settings(max_examples=40, deadline=None)
@given(**nested_cases)
def test_exit_mode_nested_graphs_record_what_the_generic_loop_records(spec, x, failing, use_async):
    """A nested graph in "exit" mode is its own child run (``<id>/inner``), which takes the
    compiled path when its plan compiles: parent and child records equal the generic loop's."""
    import asyncio

    from hypergraph import AsyncRunner

    order: list[str] = []
    graph = _nested(list(spec), set(failing), order)

    def record(cp: Any, wid: str) -> Any:
        if use_async:
            return asyncio.run(AsyncRunner(checkpointer=cp).run(
                graph, {"x": x}, workflow_id=wid, error_handling="continue"
            ))
        return SyncRunner(checkpointer=cp).run(
            graph, {"x": x}, workflow_id=wid, error_handling="continue"
        )

    compiled, generic = _compiled_and_generic_exit(record, ["", "/inner"], order)
    assert compiled[0] == generic and compiled[1] == generic


@settings(max_examples=40, deadline=None)
@given(spec=dags, x=st.integers(-5, 5), stop=st.integers(0, 6), use_async=st.booleans())
def test_exit_mode_compiled_runs_record_an_interrupt_as_the_generic_loop_does(
    spec, x, stop, use_async
):
    """An interrupt inside a node (not an ``Exception``) stops an "exit" run on its compiled
    code as on the generic loop: the calls before it are recorded, so a resume skips them."""
    import asyncio
    import types

    import pytest

    from hypergraph import AsyncRunner

    order: list[str] = []
    graph = _failing_dag(list(spec), set(), order, stop_at=stop % len(spec))

    def record(cp: Any, wid: str) -> Any:
        with pytest.raises(_Stop):
            if use_async:
                asyncio.run(AsyncRunner(checkpointer=cp).run(graph, {"x": x}, workflow_id=wid))
            else:
                SyncRunner(checkpointer=cp).run(graph, {"x": x}, workflow_id=wid)
        return types.SimpleNamespace(values={}, status="stopped", error=None, checkpoint=None)

    compiled, generic = _compiled_and_generic_exit(record, [""], order)
    assert compiled[0] == generic and compiled[1] == generic
    assert generic[0][0][1].value == "stopped"
