"""Cost of decorating a plain function with ``@node`` (issue 14), next to plain Python.

Run: ``uv run --all-packages python benchmarks/node_cost.py``. The baseline is building a
function object from its code (what a ``def`` statement does), measured in the same run.
"""

from __future__ import annotations

import timeit
import types

from hypergraph import node


def sample(x: int, y: int = 1) -> int:
    return x + y


def main() -> None:
    number = 50_000
    decorate = node(output_name="z")
    best_node = min(timeit.repeat(lambda: decorate(sample), number=number, repeat=5)) / number
    code, env = sample.__code__, sample.__globals__
    best_def = min(
        timeit.repeat(lambda: types.FunctionType(code, env), number=number, repeat=5)
    ) / number
    hashed = min(
        timeit.repeat(lambda: decorate(sample).definition_hash, number=number, repeat=5)
    ) / number
    print(f"@node on a plain function: {best_node * 1e6:.2f} us ({best_node / best_def:.0f}x a def)")
    print(f"@node + definition_hash (memoized per code object): {hashed * 1e6:.2f} us")


if __name__ == "__main__":
    main()
