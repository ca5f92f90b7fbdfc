"""Streaming: watch an "LLM" answer arrive token by token with ``AsyncRunner.iter()``.

Run it with:  uv run --all-packages python examples/streaming.py

The LLM node is an async generator. The runner drains it: every yielded token becomes a
``StreamingChunkEvent`` the moment it is produced, and because the function is annotated
``-> str`` the node's value is the complete text, which downstream nodes receive like any other
value. ``runner.iter(...)`` yields the run's events as they happen; ``.result`` holds the
``RunResult`` once the last event (the run's ``RunEndEvent``) has been seen.
"""

from __future__ import annotations

import asyncio
import re

from hypergraph import AsyncRunner, Graph, node
from hypergraph.events import NodeEndEvent, RunEndEvent, StreamingChunkEvent

FACTS = {
    "runners": "Runners execute graphs. AsyncRunner runs independent async nodes concurrently.",
    "streaming": "Generators are drained by the runner, and every chunk is an event you can watch.",
}


@node(output_name="context")
def retrieve(question: str) -> str:
    """Pick the fact whose topic the question mentions."""
    topic = next((t for t in FACTS if t in question.lower()), "runners")
    return FACTS[topic]


@node(output_name="answer")
async def fake_llm(question: str, context: str) -> str:  # type: ignore[misc]
    """Stands in for a streaming chat completion: yields the answer a few characters at a time."""
    text = f"You asked: {question} Here is what I know. {context}"
    for token in re.findall(r"\S+\s*", text):
        await asyncio.sleep(0.01)  # network latency between tokens
        yield token


@node(output_name="word_count")
def count_words(answer: str) -> int:
    """A downstream node sees the complete text, not a stream."""
    return len(answer.split())


graph = Graph([retrieve, fake_llm, count_words], name="chat")


async def main() -> None:
    runner = AsyncRunner()
    print("streaming: ", end="", flush=True)
    async with runner.iter(graph, {"question": "How does streaming work?"}) as events:
        async for event in events:
            match event:
                case StreamingChunkEvent(chunk=chunk):
                    print(chunk, end="", flush=True)
                case NodeEndEvent(node_name="fake_llm", duration_ms=ms):
                    print(f"\n[fake_llm finished in {ms:.0f} ms]")
                case RunEndEvent(status=status):
                    print(f"[run {status.value}]")
    result = events.result
    assert result is not None
    print("final text:", result["answer"])
    print("word count:", result["word_count"])


if __name__ == "__main__":
    asyncio.run(main())
