"""The same graphs give the same values through SyncRunner and AsyncRunner (SPEC R, X, GT, MP, GN)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hypergraph import END, AsyncRunner, Graph, SyncRunner, ifelse, node, route


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


@node(output_name="squared")
def square(x: int) -> int:
    return x * x


@node(output_name="negated")
def negate(x: int) -> int:
    return -x


@node(output_name="total")
def combine(doubled: int, squared: int, negated: int) -> int:
    return doubled + squared + negated


@ifelse(when_true="big", when_false="small")
def is_big(x: int) -> bool:
    return x > 10


@node(output_name="label")
def big(x: int) -> str:
    return f"big {x}"


@node(output_name="label")
def small(x: int) -> str:
    return f"small {x}"


@route(targets=["shout", "whisper", END])
def pick_style(style: str) -> object:
    return END if style == "none" else style


@node(output_name="text")
def shout(word: str) -> str:
    return word.upper()


@node(output_name="text")
def whisper(word: str) -> str:
    return word.lower()


@node(output_name="draft")
def generate(prompt: str, feedback: str = "") -> str:
    return prompt + "+"


@node(output_name="feedback")
def critique(draft: str) -> str:
    return f"more than {draft!r}"


@route(targets=["generate", END])
def revise(feedback: str = "") -> object:
    return "generate"


@node(output_name="count")
def increment(count: int) -> int:
    return count + 1


@route(targets=["increment", END])
def until_five(count: int) -> object:
    return END if count >= 5 else "increment"


@node(output_name="numbers")
def count_up(n: int):  # type: ignore[no-untyped-def]
    yield from range(n)


@node(output_name="sum_of_numbers")
def total_of(numbers: list[int]) -> int:
    return sum(numbers)


@node(output_name="words")
def split_words(sentence: str):  # type: ignore[no-untyped-def]
    yield from sentence.split()


@node(output_name="y")
def fails_on_two(x: int) -> int:
    if x == 2:
        raise ValueError("x must not be 2")
    return x


@node(output_name="result")
def explode(doubled: int) -> int:
    raise RuntimeError(f"cannot use {doubled}")


@node(output_name="sum")
def add(a: int, b: int) -> int:
    return a + b


inner = Graph([double], name="inner")

RUN_CASES: dict[str, tuple[Graph, dict[str, Any], dict[str, Any]]] = {
    "chain": (Graph([double, add_one]), {"x": 5}, {}),
    "fan_out_fan_in": (Graph([double, square, negate, combine]), {"x": 3}, {}),
    "ifelse_true": (Graph([is_big, big, small]), {"x": 11}, {}),
    "ifelse_false": (Graph([is_big, big, small]), {"x": 1}, {}),
    "route_target": (Graph([pick_style, shout, whisper]), {"style": "shout", "word": "Hi"}, {}),
    "route_end": (Graph([pick_style, shout, whisper]), {"style": "none", "word": "Hi"}, {}),
    "tc3_equal_reproduction_stops": (
        Graph([generate, critique, revise], entrypoint="generate"), {"prompt": "p"}, {},
    ),
    "tc5_loop_to_five": (
        Graph([increment, until_five], entrypoint="increment"), {"count": 0},
        {"max_iterations": 10},
    ),
    "nested": (Graph([inner.as_node(), add_one], name="outer"), {"x": 3}, {}),
    "nested_map_over": (
        Graph([inner.as_node().map_over("x")], name="outer"), {"x": [1, 2, 3]}, {},
    ),
    "generators": (Graph([count_up, total_of, split_words]), {"n": 4, "sentence": "a b"}, {}),
    "error_continue": (
        Graph([double, explode]), {"x": 2}, {"error_handling": "continue"},
    ),
}

MAP_CASES: dict[str, tuple[Graph, dict[str, Any], dict[str, Any]]] = {
    "map_zip": (Graph([add]), {"a": [1, 2, 3], "b": [10, 20, 30]}, {"map_over": ["a", "b"]}),
    "map_product": (
        Graph([add]), {"a": [1, 2], "b": [10, 20]},
        {"map_over": ["a", "b"], "map_mode": "product"},
    ),
    "map_continue": (
        Graph([fails_on_two]), {"x": [1, 2, 3]},
        {"map_over": "x", "error_handling": "continue"},
    ),
}


def summarize_run(result: Any) -> tuple[Any, dict[str, Any], str | None]:
    error = None if result.error is None else f"{type(result.error).__name__}: {result.error}"
    return result.status, dict(result.values), error


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_run_gives_equal_values_in_both_runners(case: str) -> None:
    """run() returns the same status, values and error text from SyncRunner and AsyncRunner."""
    graph, values, options = RUN_CASES[case]
    expected = SyncRunner().run(graph, values, **options)
    got = asyncio.run(AsyncRunner().run(graph, values, **options))
    assert summarize_run(got) == summarize_run(expected)


@pytest.mark.parametrize("case", list(MAP_CASES))
def test_map_gives_equal_values_in_both_runners(case: str) -> None:
    """map() returns the same item statuses and values from SyncRunner and AsyncRunner."""
    graph, values, options = MAP_CASES[case]
    expected = SyncRunner().map(graph, values, **options)
    got = asyncio.run(AsyncRunner().map(graph, values, **options))
    assert [summarize_run(r) for r in got] == [summarize_run(r) for r in expected]
    assert got.status == expected.status


def test_parity_cases_produce_the_documented_values() -> None:
    """The parity graphs are not vacuous: a few of them give the values the spec states."""
    runner = AsyncRunner()

    def run(case: str) -> dict[str, Any]:
        graph, values, options = RUN_CASES[case]
        return dict(asyncio.run(runner.run(graph, values, **options)).values)

    assert run("tc5_loop_to_five") == {"count": 5}
    assert run("tc3_equal_reproduction_stops") == {"draft": "p+", "feedback": "more than 'p+'"}
    assert run("nested_map_over") == {"doubled": [2, 4, 6]}
    assert run("generators") == {"numbers": [0, 1, 2, 3], "sum_of_numbers": 6, "words": ["a", "b"]}
    assert run("route_end") == {}
    assert run("error_continue") == {"doubled": 4}
