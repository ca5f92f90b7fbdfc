"""Property: snapshot after any superstep, restore, continue == the uninterrupted run.

Random DAGs and gated loops; values and the order of node executions must match, and the
inline fast path must agree with the generic task path.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hypergraph import END, FunctionNode, Graph, SyncRunner, route, runtime


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
