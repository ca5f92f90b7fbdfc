"""Retries that survive a crash: kill the run while it backs off, start it again, count the calls.

    python examples/durable_retries.py --fresh --crash-in-backoff 2   # dies waiting after attempt 2
    python examples/durable_retries.py                                # resumes at attempt 3

The API below rate-limits its first two calls (it counts them in a file next to the database, so
the count spans processes). Under ``DBOSAsyncRunner`` each failed attempt is recorded before its
backoff starts, so the restarted program does not call the API again for attempts 1 and 2: it
waits what was left of the backoff and makes attempt 3, which succeeds. Three calls in all, as
without the crash.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from hypergraph import DBOSAsyncRunner, Graph, RetryPolicy, node
from hypergraph.events import EventProcessor, NodeRetryEvent

DATABASE = Path(__file__).with_name("durable_retries.sqlite")
CALLS = DATABASE.with_name(DATABASE.name + ".calls")
CRASH_AFTER = (
    int(sys.argv[sys.argv.index("--crash-in-backoff") + 1]) if "--crash-in-backoff" in sys.argv else None
)


class RateLimitError(Exception):
    """What the API raises when it is called too often."""


def api(prompt: str) -> str:
    """A rate-limited API: its first two calls fail."""
    calls = int(CALLS.read_text()) + 1 if CALLS.exists() else 1
    CALLS.write_text(str(calls))
    if calls <= 2:
        print(f"API call {calls}: rate limited", flush=True)
        raise RateLimitError(f"call {calls}: slow down")
    print(f"API call {calls}: ok", flush=True)
    return f"summary of {prompt!r}"


@node(
    output_name="summary",
    retry=RetryPolicy(max_attempts=4, initial_delay=0.5, backoff=2.0, jitter=False,
                      retry_on=(RateLimitError,)),
)
async def summarize(document: str) -> str:
    return api(document)


class ShowRetries(EventProcessor):
    """Prints each retry; with ``--crash-in-backoff N``, SIGKILLs the process during backoff N."""

    def on_node_retry(self, event: NodeRetryEvent) -> None:
        print(f"attempt {event.attempt} failed ({event.error}); retrying in {event.delay_s:g} s", flush=True)
        if event.attempt == CRASH_AFTER:
            print("killing the process during the backoff", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


GRAPH = Graph([summarize], name="durable_retries")


async def main() -> None:
    if "--fresh" in sys.argv:
        for stale in DATABASE.parent.glob(DATABASE.name + "*"):
            stale.unlink()
    runner = DBOSAsyncRunner(system_database_url=f"sqlite:///{DATABASE}", graphs=[GRAPH])
    result = await runner.run(
        GRAPH, {"document": "report.pdf"}, workflow_id="summary-1", event_processors=[ShowRetries()]
    )
    print(f"summary: {result.values['summary']}")
    print(f"API calls in all: {CALLS.read_text()}")


if __name__ == "__main__":
    asyncio.run(main())
