"""Batch embeddings: a sync pipeline hands its heavy, columnar middle step to Daft.

    DO_NOT_TRACK=1 uv run --all-packages python examples/batch_embeddings.py

The outer graph runs on SyncRunner: it splits a corpus into passages, then ranks them against a
query. The middle step is a nested graph run by DaftRunner over all passages at once: a row-wise
tokenizer, then a ``batch=True`` node that embeds whole Series with a ``@stateful`` model. Daft
builds the model once per worker (here: once), not once per passage, and the nested graph's
outputs come back to SyncRunner as lists aligned with the passages.

The "model" is a deterministic hashing embedder so the example needs no download; a real one
would load weights in ``__init__`` the same way.
"""

from __future__ import annotations

import hashlib
import math
import os

os.environ.setdefault("DO_NOT_TRACK", "1")

import daft

from hypergraph import DaftRunner, Graph, SyncRunner, node, stateful

DIMENSIONS = 64


@stateful
class HashingEmbedder:
    """Maps tokens to fixed random directions; built once per Daft worker."""

    loads = 0

    def __init__(self) -> None:
        type(self).loads += 1
        self.table: dict[str, list[float]] = {}

    def direction(self, token: str) -> list[float]:
        if token not in self.table:
            digest = hashlib.sha256(token.encode()).digest() * 2
            self.table[token] = [(b - 127.5) / 127.5 for b in digest[:DIMENSIONS]]
        return self.table[token]

    def embed(self, tokens: list[str]) -> list[float]:
        total = [0.0] * DIMENSIONS
        for token in tokens:
            for i, v in enumerate(self.direction(token)):
                total[i] += v
        norm = math.sqrt(sum(v * v for v in total)) or 1.0
        return [v / norm for v in total]


# -- outer, sync: preprocessing -------------------------------------------------------------
@node(output_name="passage")
def split(corpus: str) -> list[str]:
    return [p.strip() for p in corpus.split("\n\n") if p.strip()]


# -- nested, on Daft: one row per passage ---------------------------------------------------
@node(output_name="tokens")
def tokenize(passage: str) -> list[str]:
    return [w.strip(".,;:!?").lower() for w in passage.split() if len(w) > 2]


@node(output_name="vector", batch=True)
def embed(tokens: daft.Series, model: HashingEmbedder) -> list[list[float]]:
    return [model.embed(t) for t in tokens.to_pylist()]


EMBED = Graph([tokenize, embed], name="embed_passages")


# -- outer, sync: postprocessing ------------------------------------------------------------
@node(output_name="ranking")
def rank(passage: list[str], vector: list[list[float]], query: str, model: HashingEmbedder) -> list[tuple[float, str]]:
    probe = model.embed([w.lower() for w in query.split()])
    scores = [sum(a * b for a, b in zip(probe, v, strict=True)) for v in vector]
    return sorted(zip(scores, passage, strict=True), reverse=True)


CORPUS = """Daft runs Python functions over columns of data, locally or on a Ray cluster.

A graph node is a plain Python function; edges come from parameter names.

Ray schedules tasks on workers across a cluster of machines.

Soup is best with fresh bread and a little salt."""


def main() -> None:
    pipeline = Graph([
        split,
        EMBED.as_node(runner=DaftRunner()).map_over("passage"),
        rank,
    ])
    model = HashingEmbedder()  # the driver's instance, used by rank(); Daft builds its own
    result = SyncRunner().run(
        pipeline, {"corpus": CORPUS, "query": "ray cluster workers", "model": model}
    )
    print(f"status: {result.status.value}")
    print(f"passages embedded: {len(result['vector'])} x {len(result['vector'][0])} dimensions")
    for score, passage in result["ranking"]:
        print(f"{score:+.3f}  {passage[:60]}")
    print(f"best match: {result['ranking'][0][1][:40]}")


if __name__ == "__main__":
    main()
