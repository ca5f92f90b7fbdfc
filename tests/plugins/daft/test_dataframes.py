"""Columns with explicit dtypes (sharp edge 1), to_dataframe() and map_dataframe()."""

from __future__ import annotations

from pathlib import Path

import daft
import pytest

from hypergraph import DaftRunner, Graph, MapResult, RunStatus, node


class Payload:
    """An arbitrary Python object: Daft must never infer a dtype for a column of these."""

    def __init__(self, value: int) -> None:
        self.value = value


@node(output_name="wrapped")
def wrap(x: int) -> Payload:
    return Payload(x)


@node(output_name="bumped")
def bump(wrapped: Payload) -> Payload:
    return Payload(wrapped.value + 1)


@node(output_name="label")
def label(bumped: Payload) -> str:
    return f"v{bumped.value}"


PIPELINE = Graph([wrap, bump, label])


def dtypes(frame: daft.DataFrame) -> dict[str, str]:
    return {field.name: str(field.dtype) for field in frame.schema()}


def test_a_10k_row_map_of_objects_builds_python_typed_columns(runner: DaftRunner) -> None:
    """Object inputs and object outputs are explicit Python columns, never the inferred path."""
    objects = [Payload(i) for i in range(10_000)]

    @node(output_name="doubled")
    def double_payload(p: Payload) -> Payload:
        return Payload(p.value * 2)

    frame = runner.to_dataframe(Graph([double_payload]), {"p": objects}, map_over="p")
    assert dtypes(frame) == {"p": "Python", "doubled": "Python"}
    results = runner.map(Graph([double_payload]), {"p": objects}, map_over="p")
    assert results[9_999]["doubled"].value == 19_998


def test_plain_values_get_their_arrow_type_and_objects_stay_python(runner: DaftRunner) -> None:
    """ints and strs become Int64/String inputs; outputs follow simple return annotations."""
    frame = runner.to_dataframe(PIPELINE, {"x": list(range(10))}, map_over="x")
    assert dtypes(frame) == {
        "x": "Int64", "wrapped": "Python", "bumped": "Python", "label": "String",
    }


def test_to_dataframe_is_unexecuted_until_collected(runner: DaftRunner, tmp_path: Path) -> None:
    """Nothing runs when the DataFrame is built; Daft operations compose before collect()."""
    log = tmp_path / "calls.txt"

    @node(output_name="y")
    def logged(x: int, path: str) -> int:
        with open(path, "a") as fh:
            fh.write(f"{x}\n")
        return x * 10

    frame = runner.to_dataframe(
        Graph([logged]), {"x": [1, 2, 3, 4], "path": str(log)}, map_over="x"
    )
    assert not log.exists()
    kept = frame.where(daft.col("y") > 15).select("x", "y").collect().to_pydict()
    assert kept == {"x": [2, 3, 4], "y": [20, 30, 40]}
    assert log.exists()


def test_to_dataframe_has_one_column_per_input_and_output(runner: DaftRunner) -> None:
    """Broadcast inputs are columns too, next to mapped inputs and every output."""

    @node(output_name="scaled")
    def scale(x: int, factor: int) -> int:
        return x * factor

    frame = runner.to_dataframe(Graph([scale]), {"x": [1, 2], "factor": 3}, map_over="x")
    assert frame.collect().to_pydict() == {"x": [1, 2], "factor": [3, 3], "scaled": [3, 6]}


def test_to_dataframe_writes_to_parquet(runner: DaftRunner, tmp_path: Path) -> None:
    """Typed output columns can be written by Daft without collecting first."""
    frame = runner.to_dataframe(PIPELINE, {"x": [1, 2, 3]}, map_over="x").select("x", "label")
    frame.write_parquet(str(tmp_path / "out"))
    back = daft.read_parquet(str(tmp_path / "out")).sort("x").to_pydict()
    assert back == {"x": [1, 2, 3], "label": ["v2", "v3", "v4"]}


def test_map_dataframe_runs_one_item_per_row(runner: DaftRunner) -> None:
    """Each DataFrame row is one item; values= is broadcast; the result is a MapResult."""

    @node(output_name="scaled")
    def scale(x: int, factor: int) -> int:
        return x * factor

    frame = daft.from_pydict({"x": [1, 2, 3], "unused": ["a", "b", "c"]})
    results = runner.map_dataframe(Graph([scale]), frame, values={"factor": 10})
    assert isinstance(results, MapResult)
    assert results["scaled"] == [10, 20, 30]


def test_map_dataframe_renames_columns_to_inputs(runner: DaftRunner) -> None:
    """columns={'column': 'input'} feeds a differently named column."""
    frame = daft.from_pydict({"number": [4, 5]})
    results = runner.map_dataframe(PIPELINE, frame, columns={"number": "x"})
    assert results["label"] == ["v5", "v6"]


def test_map_dataframe_continue_mode_keeps_failures(runner: DaftRunner) -> None:
    """The same error contract as map(): FAILED items in place, the rest complete."""

    @node(output_name="y")
    def picky(x: int) -> int:
        if x == 2:
            raise KeyError("two")
        return x

    results = runner.map_dataframe(
        Graph([picky]), daft.from_pydict({"x": [1, 2, 3]}), error_handling="continue"
    )
    assert [r.status for r in results] == [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.COMPLETED]
    assert isinstance(results[1].error, KeyError)


def test_map_dataframe_refuses_an_input_given_twice(runner: DaftRunner) -> None:
    """An input both in the DataFrame and in values is a ValueError naming it."""
    with pytest.raises(ValueError, match=r"\['x'\].*both as DataFrame columns and as values"):
        runner.map_dataframe(PIPELINE, daft.from_pydict({"x": [1]}), values={"x": 2})


def test_map_dataframe_refuses_unknown_columns(runner: DaftRunner) -> None:
    """A column named in columns= that the DataFrame lacks is reported with the real columns."""
    with pytest.raises(ValueError, match="column 'nope' is not in the DataFrame"):
        runner.map_dataframe(PIPELINE, daft.from_pydict({"x": [1]}), columns=["nope"])
