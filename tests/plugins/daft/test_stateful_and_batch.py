"""@stateful resources built once per worker, and batch=True nodes fed whole Series (DF6)."""

from __future__ import annotations

import os
from pathlib import Path

import daft
import pytest

from hypergraph import AsyncRunner, DaftRunner, Graph, SyncRunner, node, stateful

LOG_ENV = "HYPERGRAPH_TEST_STATEFUL_LOG"


@stateful
class Model:
    """A stand-in for a heavy model: every construction is logged to a file."""

    def __init__(self) -> None:
        path = os.environ.get(LOG_ENV)
        if path:
            with open(path, "a") as fh:
                fh.write(f"{os.getpid()}\n")
        self.weight = 3

    def predict(self, x: int) -> int:
        return x * self.weight


@node(output_name="score")
def predict(x: int, model: Model) -> int:
    return model.predict(x)


@pytest.fixture
def construction_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "constructions.txt"
    monkeypatch.setenv(LOG_ENV, str(path))
    return path


def constructions(path: Path) -> int:
    return len(path.read_text().split()) if path.exists() else 0


def test_stateful_resource_is_built_once_per_worker_not_per_row(
    runner: DaftRunner, construction_log: Path
) -> None:
    """Mapping 2,000 rows builds the model on the driver once and in the native worker once."""
    driver_model = Model()
    assert constructions(construction_log) == 1
    results = runner.map(
        Graph([predict]), {"x": list(range(2000)), "model": driver_model}, map_over="x"
    )
    assert results["score"] == [x * 3 for x in range(2000)]
    assert constructions(construction_log) == 2


def test_bound_stateful_value_is_rebuilt_on_the_worker(
    runner: DaftRunner, construction_log: Path
) -> None:
    """A stateful instance bound to the graph works the same as one passed in values."""
    graph = Graph([predict]).bind(model=Model())
    assert runner.map(graph, {"x": [1, 2, 3]}, map_over="x")["score"] == [3, 6, 9]
    assert constructions(construction_log) == 2


def test_other_runners_treat_stateful_values_as_plain_values(construction_log: Path) -> None:
    """SyncRunner and AsyncRunner pass the very instance given, and build nothing."""
    import asyncio

    model = Model()
    seen: list[object] = []

    @node(output_name="score")
    def keep(x: int, model: Model) -> int:
        seen.append(model)
        return model.predict(x)

    assert SyncRunner().run(Graph([keep]), {"x": 2, "model": model})["score"] == 6
    result = asyncio.run(AsyncRunner().run(Graph([keep]), {"x": 2, "model": model}))
    assert result["score"] == 6
    assert seen == [model, model]
    assert constructions(construction_log) == 1


def test_batch_nodes_receive_whole_series(runner: DaftRunner) -> None:
    """A batch=True node gets a daft.Series per column input and returns one value per row."""
    sizes: list[int] = []

    @node(output_name="tripled", batch=True)
    def triple(x: daft.Series, offset: int) -> list[int]:
        assert isinstance(x, daft.Series)
        sizes.append(len(x))
        return [v * 3 + offset for v in x.to_pylist()]

    results = runner.map(Graph([triple]), {"x": list(range(500)), "offset": 1}, map_over="x")
    assert results["tripled"] == [v * 3 + 1 for v in range(500)]
    assert sum(sizes) == 500
    assert len(sizes) < 500


def test_batch_nodes_skip_rows_whose_inputs_failed(runner: DaftRunner) -> None:
    """Rows failed upstream stay failed; the batch node runs on the remaining rows only."""

    @node(output_name="y")
    def picky(x: int) -> int:
        if x % 2:
            raise ValueError(f"odd {x}")
        return x

    @node(output_name="z", batch=True)
    def tenfold(y: daft.Series) -> daft.Series:
        return daft.Series.from_pylist([v * 10 for v in y.to_pylist()])

    results = runner.map(
        Graph([picky, tenfold]), {"x": [0, 1, 2, 3]}, map_over="x", error_handling="continue"
    )
    assert results["z"] == [0, None, 20, None]
    assert [type(f.error) for f in results.failures] == [ValueError, ValueError]


def test_batch_node_with_a_stateful_resource(runner: DaftRunner, construction_log: Path) -> None:
    """A batch node can use a @stateful model; it is built once for all batches."""

    @node(output_name="scores", batch=True)
    def score_all(x: daft.Series, model: Model) -> list[int]:
        return [model.predict(v) for v in x.to_pylist()]

    results = runner.map(
        Graph([score_all]), {"x": list(range(300)), "model": Model()}, map_over="x"
    )
    assert results["scores"] == [v * 3 for v in range(300)]
    assert constructions(construction_log) == 2


def test_batch_node_returning_the_wrong_length_fails_clearly(runner: DaftRunner) -> None:
    """A batch node must return one value per row; otherwise it fails naming itself."""

    @node(output_name="z", batch=True)
    def too_few(x: daft.Series) -> list[int]:
        return [1]

    with pytest.raises(ValueError, match="Batch node 'too_few' returned 1 values for a batch of 3"):
        runner.map(Graph([too_few]), {"x": [1, 2, 3]}, map_over="x")


def test_run_rebuilds_a_stateful_value_on_the_worker(
    runner: DaftRunner, construction_log: Path
) -> None:
    """run() treats a stateful value like map() does: a worker-side instance, built once."""
    assert runner.run(Graph([predict]), {"x": 4, "model": Model()})["score"] == 12
    assert constructions(construction_log) == 2
