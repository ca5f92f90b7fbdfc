"""Live progress for a nested graph and a batch of 30 documents, one of which fails.

Run it with:  uv run --all-packages python examples/progress.py
Plain lines instead of bars (what CI logs get):  add --plain

Needs the ``progress`` extra (``pip install "hypergraph-core[progress]"``).
"""

from __future__ import annotations

import sys
import time

from hypergraph import Graph, SyncRunner, node
from hypergraph.events import RichProgressProcessor

STEP = 0.02  # seconds of pretend work per node, so the bars have something to show


@node(output_name="text")
def clean(doc: str) -> str:
    time.sleep(STEP)
    if doc == "doc-17":
        raise ValueError(f"{doc} is not valid UTF-8")
    return doc.strip().lower()


@node(output_name="tokens")
def tokenize(text: str) -> list[str]:
    time.sleep(STEP)
    return text.split("-")


# A nested graph: preprocessing runs as one node of the pipeline.
preprocess = Graph([clean, tokenize], name="preprocess")


@node(output_name="vector")
def embed(tokens: list[str]) -> list[int]:
    time.sleep(STEP)
    return [len(token) for token in tokens]


@node(output_name="stored")
def store(vector: list[int]) -> bool:
    time.sleep(STEP)
    return True


pipeline = Graph([preprocess.as_node(), embed, store], name="ingest")


def main() -> None:
    mode = "non-tty" if "--plain" in sys.argv else "auto"
    runner = SyncRunner()

    single = runner.run(
        pipeline, {"doc": "doc-0"}, event_processors=[RichProgressProcessor(force_mode=mode)]
    )
    print("single run:", single.status)

    docs = [f"doc-{i}" for i in range(30)]
    batch = runner.map(
        pipeline,
        {"doc": docs},
        map_over="doc",
        error_handling="continue",
        event_processors=[RichProgressProcessor(force_mode=mode)],
    )
    print("batch:", batch.summary())


if __name__ == "__main__":
    main()
