"""A third-party runner at work: ThreadPoolRunner runs independent nodes in parallel threads.

Run it with:  uv run --all-packages python examples/thread_pool.py

ThreadPoolRunner lives in the example plugin ``examples/plugins/hypergraph-echo``; it is built
on ``hypergraph.runtime`` (the loop every runner shares) and only chooses how a superstep's
ready nodes run. Shows: parallel siblings, the same runner nested under SyncRunner, and a
processor shared by two runs at once that keeps per-run state by run id (``shutdown_run``).
"""

from __future__ import annotations

import threading

from hypergraph import Graph, SyncRunner, ThreadPoolRunner, node
from hypergraph.events import EventProcessor, NodeEndEvent, RunStartEvent

# three lookups that each wait until all three are in flight: only parallel threads finish them
ALL_IN_FLIGHT = threading.Barrier(3, timeout=10)


def lookup(source: str):  # a node factory: one node per data source
    @node(name=f"from_{source}", output_name=f"{source}_hits")
    def fetch(query: str) -> list[str]:
        ALL_IN_FLIGHT.wait()
        return [f"{source}:{query}"]

    return fetch


@node(output_name="hits")
def merge(web_hits: list[str], wiki_hits: list[str], docs_hits: list[str]) -> list[str]:
    return sorted(web_hits + wiki_hits + docs_hits)


search = Graph([lookup("web"), lookup("wiki"), lookup("docs"), merge], name="search")


class NodesPerRun(EventProcessor):
    """Counts nodes per top-level run, keyed by run id, and prints the count when the run ends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.top: dict[str, str] = {}  # span id -> top-level run id
        self.counts: dict[str, int] = {}
        self.names: dict[str, str] = {}

    def on_run_start(self, event: RunStartEvent) -> None:
        with self.lock:
            run = self.top.get(event.parent_span_id or "", event.run_id)
            self.top[event.span_id] = run
            if run == event.run_id:
                self.counts[run], self.names[run] = 0, event.graph_name or "graph"

    def on_node_start(self, event) -> None:  # any node event: remember its run
        with self.lock:
            self.top[event.span_id] = self.top[event.parent_span_id]

    def on_node_end(self, event: NodeEndEvent) -> None:
        with self.lock:
            self.counts[self.top[event.span_id]] += 1

    def shutdown_run(self, run_id: str) -> None:
        with self.lock:
            print(f"  run {self.names.pop(run_id)!r} ended after {self.counts.pop(run_id)} nodes")


def main() -> None:
    result = ThreadPoolRunner(max_workers=4).run(search, {"query": "hypergraph"})
    print("hits:", result["hits"])

    # the same runner as one node of a SyncRunner graph (SPEC R14)
    @node(output_name="summary")
    def summarize(hits: list[str]) -> str:
        return f"{len(hits)} hits"

    outer = Graph([search.as_node(runner=ThreadPoolRunner()), summarize], name="outer")
    print("nested:", SyncRunner().run(outer, {"query": "loops"})["summary"])

    # two top-level runs at once, in two threads, sharing one processor
    counter = NodesPerRun()
    tiny = Graph([merge], name="tiny")
    other = threading.Thread(
        target=SyncRunner().run,
        args=(tiny, {"web_hits": [], "wiki_hits": [], "docs_hits": []}),
        kwargs={"event_processors": [counter]},
    )
    other.start()
    ThreadPoolRunner().run(search, {"query": "shared"}, event_processors=[counter])
    other.join()


if __name__ == "__main__":
    main()
