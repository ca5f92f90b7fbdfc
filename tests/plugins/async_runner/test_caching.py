"""Node caching through AsyncRunner: hits, events, interrupts never cached."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from hypergraph import AsyncRunner, Graph, InMemoryCache, interrupt, node
from hypergraph.events import CacheMissEvent, EventProcessor, NodeEndEvent


class Recorder(EventProcessor):
    def __init__(self) -> None:
        self.events: list[Any] = []

    def on_event(self, event: Any) -> None:
        self.events.append(event)


# A module-level counter: a counter in the closure would be part of the function's state, so
# each call would change the cache key (see the caching section of the README).
CALLS: Counter[str] = Counter()


def test_async_node_is_cached_across_runs() -> None:
    """The second run with the same input does not await the function again."""
    calls = CALLS
    calls.clear()

    @node(output_name="answer", cache=True)
    async def ask(question: str) -> str:
        CALLS["ask"] += 1
        await asyncio.sleep(0)
        return question.upper()

    runner = AsyncRunner(cache=InMemoryCache())
    recorder = Recorder()

    async def main() -> tuple[Any, Any]:
        first = await runner.run(Graph([ask]), {"question": "hi"})
        second = await runner.run(Graph([ask]), {"question": "hi"}, event_processors=[recorder])
        return first, second

    first, second = asyncio.run(main())
    assert first["answer"] == second["answer"] == "HI"
    assert calls["ask"] == 1
    end = next(e for e in recorder.events if isinstance(e, NodeEndEvent))
    assert end.cached is True


def test_async_generator_caches_the_joined_text() -> None:
    """CA9: the drained value is what is cached."""
    calls = CALLS
    calls.clear()

    @node(output_name="text", cache=True)
    async def stream(prompt: str) -> str:
        CALLS["stream"] += 1
        for word in prompt.split():
            yield word + " "

    runner = AsyncRunner(cache=InMemoryCache())

    async def main() -> list[str]:
        return [(await runner.run(Graph([stream]), {"prompt": "a b"}))["text"] for _ in range(2)]

    assert asyncio.run(main()) == ["a b ", "a b "]
    assert calls["stream"] == 1


def test_interrupts_are_never_cached_even_with_cache_true() -> None:
    """HI11: an interrupt's handler runs on every visit, whatever cache= says."""
    calls: Counter[str] = Counter()

    @interrupt(output_name="decision", cache=True)
    def approve(draft: str) -> str:
        calls["approve"] += 1
        return "yes"

    runner = AsyncRunner(cache=InMemoryCache())
    recorder = Recorder()

    async def main() -> None:
        for _ in range(2):
            await runner.run(Graph([approve]), {"draft": "d"}, event_processors=[recorder])

    asyncio.run(main())
    assert calls["approve"] == 2
    assert not any(isinstance(e, CacheMissEvent) for e in recorder.events)


def test_miss_reason_names_the_changed_input() -> None:
    """The miss explanation works the same through AsyncRunner."""

    @node(output_name="out", cache=True)
    async def work(a: int, b: int) -> int:
        return a + b

    runner = AsyncRunner(cache=InMemoryCache())
    recorder = Recorder()

    async def main() -> None:
        await runner.run(Graph([work]), {"a": 1, "b": 2})
        await runner.run(Graph([work]), {"a": 1, "b": 3}, event_processors=[recorder])

    asyncio.run(main())
    miss = next(e for e in recorder.events if isinstance(e, CacheMissEvent))
    assert miss.reason == "input changed: 'b'"


def test_disk_cache_io_runs_off_the_event_loop(tmp_path: Any) -> None:
    """A non-memory backend's get/set run in a worker thread, never on the loop's thread."""
    import threading

    from hypergraph import DiskCache

    threads: list[int] = []

    class WatchedDiskCache(DiskCache):  # type: ignore[misc, valid-type]
        def get(self, key: str) -> tuple[bool, Any]:
            threads.append(threading.get_ident())
            return super().get(key)

        def set(self, key: str, value: Any) -> None:
            threads.append(threading.get_ident())
            super().set(key, value)

    @node(output_name="y", cache=True)
    async def work(x: int) -> int:
        return x + 1

    runner = AsyncRunner(cache=WatchedDiskCache(tmp_path / "cache"))

    async def main() -> tuple[int, int]:
        loop_thread = threading.get_ident()
        result = await runner.run(Graph([work]), {"x": 1})
        return result["y"], loop_thread

    value, loop_thread = asyncio.run(main())
    assert value == 2
    assert threads and loop_thread not in threads
