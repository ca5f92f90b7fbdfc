"""The four execution modes under AsyncRunner: detection, draining, chunk events (SPEC N5, GN1-GN6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from hypergraph import AsyncRunner, Graph, RunStatus, node
from hypergraph.events import NodeEndEvent, NodeStartEvent, StreamingChunkEvent


@node(output_name="data")
def load_data(path: str) -> dict:
    return {"items": [1, 2, 3, 4, 5]}


@node(output_name="chunks")
def chunk_items(data: dict) -> Iterator[list[int]]:
    items = data["items"]
    for i in range(0, len(items), 2):
        yield items[i : i + 2]


@node(output_name="processed")
async def process_chunk(chunks: Iterator[list[int]]) -> list[int]:
    results = []
    for chunk in chunks:
        await asyncio.sleep(0)
        results.extend([x * 2 for x in chunk])
    return results


@node(output_name="labels")
async def label(processed: list[int]) -> AsyncIterator[str]:
    for x in processed:
        await asyncio.sleep(0)
        yield f"#{x}"


@node(output_name="tokens")
async def stream_llm(prompt: str) -> AsyncIterator[str]:
    """Seed 003: stream LLM response tokens."""
    words = ["Hello", "world", "from", "LLM"]
    for word in words:
        await asyncio.sleep(0.001)
        yield word


@node(output_name="response")
async def collect_tokens(tokens: AsyncIterator[str]) -> str:
    """Seed 003: collect all tokens into a response."""
    parts = []
    async for token in tokens:
        parts.append(token)
    return " ".join(parts)


@node(output_name="text")
async def stream_text(prompt: str) -> str:  # type: ignore[misc]
    for piece in ("Once ", "upon ", "a time"):
        await asyncio.sleep(0)
        yield piece


def test_mode_detection_covers_all_four_modes() -> None:
    """is_async / is_generator are detected once, from the function, for all four modes."""
    modes = {n.name: (n.is_async, n.is_generator) for n in (load_data, chunk_items, process_chunk, label)}
    assert modes == {
        "load_data": (False, False),
        "chunk_items": (False, True),
        "process_chunk": (True, False),
        "label": (True, True),
    }


def test_all_four_modes_run_in_one_graph() -> None:
    """Sync function, sync generator, async function and async generator cooperate in one graph."""
    graph = Graph([load_data, chunk_items, process_chunk, label])
    result = asyncio.run(AsyncRunner().run(graph, {"path": "data.json"}))
    assert result.status == RunStatus.COMPLETED
    assert result["chunks"] == [[1, 2], [3, 4], [5]]
    assert result["processed"] == [2, 4, 6, 8, 10]
    assert result["labels"] == ["#2", "#4", "#6", "#8", "#10"]


def test_async_generator_is_drained_into_a_list() -> None:
    """GN2: an async generator annotated AsyncIterator[str] is stored as the list of its chunks."""
    result = asyncio.run(AsyncRunner().run(Graph([stream_llm]), {"prompt": "hi"}))
    assert result["tokens"] == ["Hello", "world", "from", "LLM"]
    assert isinstance(result["tokens"], list)


def test_str_annotated_async_generator_is_joined_into_the_complete_text() -> None:
    """GN2: an async generator annotated ``-> str`` is stored as the joined text."""
    result = asyncio.run(AsyncRunner().run(Graph([stream_text]), {"prompt": "story"}))
    assert result["text"] == "Once upon a time"


def test_drained_list_supports_async_for_in_seed_003_collect_tokens() -> None:
    """GN3: seed 003's stream_llm + collect_tokens example works verbatim (the list supports async for)."""
    graph = Graph([stream_llm, collect_tokens])
    runner = AsyncRunner()
    result = asyncio.run(runner.run(graph, {"prompt": "Say hello"}))
    assert result["response"] == "Hello world from LLM"


def test_drained_list_still_behaves_like_a_list() -> None:
    """GN3: the drained value equals a plain list, sums, indexes and has a length."""
    result = asyncio.run(AsyncRunner().run(Graph([chunk_items]), {"data": {"items": [1, 2, 3]}}))
    chunks = result["chunks"]
    assert chunks == [[1, 2], [3]]
    assert len(chunks) == 2
    assert chunks[1] == [3]
    assert sum(len(c) for c in chunks) == 3


@pytest.mark.parametrize("graph_node", [stream_llm, stream_text], ids=["list", "joined_str"])
def test_each_chunk_emits_a_streaming_chunk_event_between_start_and_end(
    graph_node: Any, recorder: Any
) -> None:
    """GN4: one StreamingChunkEvent per yielded item, indexed, between NodeStart and NodeEnd."""
    asyncio.run(AsyncRunner().run(Graph([graph_node]), {"prompt": "p"}, event_processors=[recorder]))
    mine = [e for e in recorder.events if getattr(e, "node_name", None) == graph_node.name]
    assert isinstance(mine[0], NodeStartEvent)
    assert isinstance(mine[-1], NodeEndEvent)
    chunks = mine[1:-1]
    assert all(isinstance(e, StreamingChunkEvent) for e in chunks)
    assert [e.index for e in chunks] == list(range(len(chunks)))
    assert len(chunks) in (3, 4)


def test_sync_generator_emits_chunk_events_too(recorder: Any) -> None:
    """GN4: a sync generator under AsyncRunner emits one chunk event per item (TC2: four for n=4)."""

    @node(output_name="numbers")
    def count_up(n: int) -> Iterator[int]:
        yield from range(n)

    asyncio.run(AsyncRunner().run(Graph([count_up]), {"n": 4}, event_processors=[recorder]))
    assert [e.chunk for e in recorder.of(StreamingChunkEvent)] == [0, 1, 2, 3]


def test_chunk_events_carry_the_nodes_span_as_parent(recorder: Any) -> None:
    """EV3: a chunk event's parent span is its node's span (the NodeStartEvent's span)."""
    asyncio.run(AsyncRunner().run(Graph([stream_llm]), {"prompt": "p"}, event_processors=[recorder]))
    (start,) = recorder.of(NodeStartEvent)
    assert {e.parent_span_id for e in recorder.of(StreamingChunkEvent)} == {start.span_id}


def test_failure_mid_stream_fails_the_node_and_keeps_emitted_chunks(recorder: Any) -> None:
    """GN5: an exception while iterating fails the node; chunks already emitted stay emitted."""

    @node(output_name="tokens")
    async def breaks(prompt: str) -> AsyncIterator[str]:
        yield "one"
        yield "two"
        raise ConnectionError("stream dropped")

    result = asyncio.run(
        AsyncRunner().run(
            Graph([breaks]), {"prompt": "p"}, error_handling="continue", event_processors=[recorder]
        )
    )
    assert result.status == RunStatus.FAILED
    assert isinstance(result.error, ConnectionError)
    assert "tokens" not in result
    assert [e.chunk for e in recorder.of(StreamingChunkEvent)] == ["one", "two"]
