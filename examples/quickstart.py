"""Quick start: a small retrieval pipeline, end to end, with nothing to download.

Run it with:  uv run --all-packages python examples/quickstart.py

It shows the core ideas: functions become nodes, edges come from names, a gate routes, a nested
graph is one node of another, and map() runs a batch.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from hypergraph import END, Graph, SyncRunner, node, route

CORPUS = {
    "hypergraph": "hypergraph turns plain python functions into graph nodes wired by name",
    "runners": "runners execute graphs: SyncRunner in a loop, AsyncRunner concurrently",
    "gates": "route and ifelse gates decide which nodes run next, END stops a path",
    "caching": "nodes opt in to caching with cache=True and runners take a cache backend",
}


def vectorize(text: str) -> Counter[str]:
    return Counter(re.findall(r"[a-z]+", text.lower()))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(a[w] * b[w] for w in a)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


@node(output_name="query_vector")
def embed(query: str) -> Counter[str]:
    return vectorize(query)


@node(output_name=("best_doc", "score"))
def retrieve(query_vector: Counter[str]) -> tuple[str, float]:
    scored = [(cosine(query_vector, vectorize(text)), name) for name, text in CORPUS.items()]
    score, name = max(scored)
    return name, score


# A nested graph: retrieval is reusable as a single node.
retrieval = Graph([embed, retrieve], name="retrieval")


@route(targets=["answer", "fallback", END])
def decide(score: float, min_score: float = 0.1) -> object:
    if score >= min_score:
        return "answer"
    return "fallback" if score > 0 else END


@node(output_name="reply")
def answer(best_doc: str) -> str:
    return f"From '{best_doc}': {CORPUS[best_doc]}"


@node(output_name="reply")
def fallback(query: str) -> str:
    return f"I am not sure about {query!r}."


rag = Graph([retrieval.as_node(), decide, answer, fallback], name="rag")


def main() -> None:
    runner = SyncRunner()
    result = runner.run(rag, {"query": "How do gates decide what runs next?"})
    print("status:", result.status)
    print("reply: ", result["reply"])

    questions = ["What do runners do?", "Tell me about caching", "zebra"]
    batch = runner.map(rag, {"query": questions}, map_over="query")
    for question, reply in zip(questions, batch["reply"], strict=True):
        print(f"{question!r:32} -> {reply or '(no reply: the gate chose END)'}")
    print("batch:", batch.summary())


if __name__ == "__main__":
    main()
