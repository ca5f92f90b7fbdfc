"""Retries and timeouts: one declaration per node instead of a hand-written retry loop.

Run it with:  uv run --all-packages python examples/retries.py

A flaky "LLM API" is rate limited twice, then answers. ``retry=RetryPolicy(...)`` retries it
inside one node execution (the rest of the graph sees one outcome); each retried attempt is a
``NodeRetryEvent``. A second call hangs on its first attempt: ``timeout=`` cancels it with
``NodeTimeoutError``, which the policy retries because its ``retry_on`` includes TimeoutError.
The delays are tiny so the example finishes at once; real code would use seconds.
"""

from __future__ import annotations

import asyncio

from hypergraph import AsyncRunner, Graph, NodeTimeoutError, RetryPolicy, node
from hypergraph.events import EventProcessor, NodeRetryEvent


class RateLimitError(Exception):
    """What a provider's client raises on HTTP 429."""


attempts = {"call_llm": 0, "summarize": 0}

POLICY = RetryPolicy(
    max_attempts=4, initial_delay=0.01, backoff=2.0, max_delay=0.1, jitter=True,
    retry_on=(TimeoutError, RateLimitError),
)


@node(output_name="reply", retry=POLICY, timeout=5.0)
async def call_llm(prompt: str) -> str:
    """Rate limited on the first two attempts."""
    attempts["call_llm"] += 1
    if attempts["call_llm"] <= 2:
        raise RateLimitError("429: slow down")
    return f"An answer to {prompt!r}"


@node(output_name="summary", retry=POLICY, timeout=0.05)
async def summarize(reply: str) -> str:
    """Hangs on its first attempt; the timeout cancels it and the retry answers."""
    attempts["summarize"] += 1
    if attempts["summarize"] == 1:
        await asyncio.Event().wait()  # never set: stands in for a stuck connection
    return reply.upper()


@node(output_name="words")
def count_words(summary: str) -> int:
    """No policy: runs exactly as it would without this feature."""
    return len(summary.split())


class RetryLog(EventProcessor):
    """Prints every retried attempt."""

    def on_node_retry(self, event: NodeRetryEvent) -> None:
        print(
            f"  retry {event.node_name}: attempt {event.attempt}/{event.max_attempts} failed "
            f"({event.error_type}), next in {event.delay_s * 1000:.0f} ms"
        )


@node(output_name="never", timeout=0.01)
async def stuck(prompt: str) -> str:
    await asyncio.Event().wait()
    return prompt


async def main() -> None:
    graph = Graph([call_llm, summarize, count_words], name="assistant")
    result = await AsyncRunner().run(graph, {"prompt": "why retry?"}, event_processors=[RetryLog()])
    print(f"status: {result.status}")
    print(f"summary: {result['summary']}")
    print(f"attempts: call_llm={attempts['call_llm']}, summarize={attempts['summarize']}")

    # without a policy a timeout fails the node at once, naming the node and the limit
    try:
        await AsyncRunner().run(Graph([stuck]), {"prompt": "hello"})
    except NodeTimeoutError as error:
        print(f"timeout: {error.node_name} after {error.timeout:g} s")


if __name__ == "__main__":
    asyncio.run(main())
