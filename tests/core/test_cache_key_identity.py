"""Cache keys identify what a function computes: code, closure values, bound instance, partials."""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

import pytest

from hypergraph import FunctionNode, Graph, InMemoryCache, SyncRunner, node
from hypergraph.cache import NodeCache

CALLS: list[int] = []


def make_scaler(factor: int) -> FunctionNode:
    @node(output_name="y", cache=True)
    def scale(x: int) -> int:
        return x * factor

    return scale


class Model:
    def __init__(self, weight: int) -> None:
        self.weight = weight

    def predict(self, x: int) -> int:
        return x * self.weight


def run_twice(first: FunctionNode, second: FunctionNode, x: int = 5) -> tuple[Any, Any]:
    runner = SyncRunner(cache=InMemoryCache())
    a = runner.run(Graph([first]), {"x": x})["y"]
    b = runner.run(Graph([second]), {"x": x})["y"]
    return a, b


def test_closures_from_one_factory_do_not_share_cache_entries() -> None:
    """make_scaler(2) and make_scaler(3) have the same code but different closure values."""
    assert run_twice(make_scaler(2), make_scaler(3)) == (10, 15)


def test_same_closure_values_do_share_cache_entries() -> None:
    """Two closures with equal values compute the same thing, so the second is a hit."""
    runner = SyncRunner(cache=InMemoryCache())
    CALLS.clear()

    def make(factor: int) -> FunctionNode:
        def scale(x: int) -> int:
            CALLS.append(factor)
            return x * factor

        return FunctionNode(scale, output_name="y", cache=True)

    runner.run(Graph([make(2)]), {"x": 1})
    runner.run(Graph([make(2)]), {"x": 1})
    assert CALLS == [2]


def test_bound_methods_of_different_instances_do_not_share_entries() -> None:
    """Model(2).predict and Model(7).predict are keyed by the instance's state."""
    first = FunctionNode(Model(2).predict, output_name="y", cache=True)
    second = FunctionNode(Model(7).predict, output_name="y", cache=True)
    assert run_twice(first, second) == (10, 35)


def test_mutating_the_bound_instance_is_a_miss() -> None:
    """State is read at lookup time, so a changed attribute gives a fresh result."""
    model = Model(2)
    predict = FunctionNode(model.predict, output_name="y", cache=True)
    runner = SyncRunner(cache=InMemoryCache())
    graph = Graph([predict])
    assert runner.run(graph, {"x": 5})["y"] == 10
    model.weight = 4
    assert runner.run(graph, {"x": 5})["y"] == 20


def test_two_lambdas_on_one_line_do_not_share_entries() -> None:
    """Lambdas written on one line share their source text but not their code."""
    double, triple = (lambda x: x * 2), (lambda x: x * 3)
    first = FunctionNode(double, name="f", output_name="y", cache=True)
    second = FunctionNode(triple, name="f", output_name="y", cache=True)
    assert run_twice(first, second) == (10, 15)


def test_partials_with_different_arguments_do_not_share_entries() -> None:
    """functools.partial arguments are part of the key."""

    def power(x: int, exponent: int) -> int:
        return x**exponent

    first = FunctionNode(functools.partial(power, exponent=2), name="p", output_name="y", cache=True)
    second = FunctionNode(functools.partial(power, exponent=3), name="p", output_name="y", cache=True)
    assert run_twice(first, second, x=2) == (4, 8)


def test_functions_in_a_closure_are_keyed_by_their_code() -> None:
    """A decorator's wrapper is keyed by the function it wraps, not by its name."""

    def logged(func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(x: int) -> int:
            return func(x)

        return wrapper

    @logged
    def add_one(x: int) -> int:
        return x + 1

    add_two = logged(lambda x: x + 2)
    first = FunctionNode(add_one, name="f", output_name="y", cache=True)
    second = FunctionNode(add_two, name="f", output_name="y", cache=True)
    assert run_twice(first, second) == (6, 7)


def test_unhashable_closure_runs_uncached_with_one_warning_naming_the_node() -> None:
    """A closure holding a lock cannot be hashed by value: no cache, one UserWarning."""
    lock = threading.Lock()
    calls = []

    @node(output_name="y", cache=True)
    def guarded(x: int) -> int:
        with lock:
            calls.append(x)
        return x

    runner = SyncRunner(cache=InMemoryCache())
    graph = Graph([guarded])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runner.run(graph, {"x": 1})
        runner.run(graph, {"x": 1})
    assert calls == [1, 1]
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1
    assert "'guarded'" in messages[0] and "uncached" in messages[0]


def test_a_changed_closure_value_is_named_in_the_miss_reason() -> None:
    """The explainer reports the function state as what changed."""
    box = {"factor": 2}

    def scale(x: int) -> int:
        return x * box["factor"]

    cache = NodeCache(InMemoryCache())
    n = FunctionNode(scale, output_name="y", cache=True)
    first = cache.lookup(n, {"x": 1})
    assert first is not None and first.reason == "first time seen"
    box["factor"] = 3
    second = cache.lookup(n, {"x": 1})
    assert second is not None and second.reason == "input changed: '<function state>'"


def test_plain_function_keys_do_not_depend_on_state() -> None:
    """A module-level function without closure keeps the same key from lookup to lookup."""
    cache = NodeCache(InMemoryCache())
    n = make_scaler(2).with_name("s")
    assert cache.lookup(n, {"x": 1}).key == cache.lookup(n, {"x": 1}).key  # type: ignore[union-attr]


@pytest.mark.parametrize("factor", [2, 3])
def test_definition_hash_is_the_code_not_the_closure(factor: int) -> None:
    """definition_hash names the code; closure values enter the cache key only."""
    assert make_scaler(factor).definition_hash == make_scaler(1).definition_hash



class Scaler:
    """A callable object: its attributes are part of the cache key."""

    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, x: int) -> int:
        return x * self.factor


def test_callable_objects_with_different_state_do_not_share_entries() -> None:
    """Scaler(2) and Scaler(3) share their __call__ code but not their cache entries."""
    first = FunctionNode(Scaler(2), name="s", output_name="y", cache=True)
    second = FunctionNode(Scaler(3), name="s", output_name="y", cache=True)
    assert run_twice(first, second) == (10, 15)


OFFSET = 1


@node(output_name="y", cache=True)
def shift(x: int) -> int:
    return x + OFFSET


def test_a_changed_module_constant_is_a_miss() -> None:
    """Module-level constants a function reads are part of its key, by value."""
    global OFFSET
    runner = SyncRunner(cache=InMemoryCache())
    graph = Graph([shift])
    try:
        assert runner.run(graph, {"x": 1})["y"] == 2
        OFFSET = 10
        assert runner.run(graph, {"x": 1})["y"] == 11
    finally:
        OFFSET = 1
    assert runner.run(graph, {"x": 1})["y"] == 2
