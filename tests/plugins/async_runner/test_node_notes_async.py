"""AsyncRunner notes a failing node's exception like SyncRunner does."""

from __future__ import annotations

import asyncio

import pytest

from hypergraph import AsyncRunner, Graph, node


@node(output_name="a")
async def ok(x: int) -> int:
    await asyncio.sleep(0)
    return x


@node(output_name="b")
async def bad(x: int) -> int:
    await asyncio.sleep(0)
    raise LookupError("no b")


def _notes(exc: BaseException) -> list[str]:
    return [n for n in getattr(exc, "__notes__", []) if n.startswith("hypergraph:")]


def test_async_failure_among_siblings_names_the_failing_node():
    """In a superstep of concurrent siblings, the note names the one that raised."""
    with pytest.raises(LookupError) as info:
        asyncio.run(AsyncRunner().run(Graph([ok, bad], name="pair"), x=3))
    assert _notes(info.value) == [
        "hypergraph: node 'pair/bad' failed in superstep 0 with inputs: x=3"
    ]


def test_async_nested_failure_names_the_graph_path():
    """A failure inside a nested graph run by AsyncRunner carries the full path."""
    inner = Graph([bad], name="inner")
    outer = Graph([inner.as_node()], name="outer")
    with pytest.raises(LookupError) as info:
        asyncio.run(AsyncRunner().run(outer, x=1))
    assert _notes(info.value) == [
        "hypergraph: node 'outer/inner/bad' failed in superstep 0 with inputs: x=1"
    ]
