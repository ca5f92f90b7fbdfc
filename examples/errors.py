"""Errors that point at the node: a failing node's exception names where it happened.

Run it with:  uv run --all-packages python examples/errors.py

The node's own exception propagates unchanged (``except ValueError`` still catches it); a note
(PEP 678) under the traceback names the node by its graph path, the superstep and a short repr
of its inputs. Misspelled names get a "did you mean".
"""

from __future__ import annotations

from hypergraph import Graph, MissingInputError, SyncRunner, node


@node(output_name="embedding")
def embed(query: str) -> list[float]:
    if not query.strip():
        raise ValueError("cannot embed an empty query")
    return [float(len(query))]


@node(output_name="hits")
def search(embedding: list[float], top_k: int = 3) -> list[str]:
    return ["doc"] * top_k


retrieval = Graph([embed, search], name="retrieval")
app = Graph([retrieval.as_node()], name="app")


@node(output_name="hits")
def misspelled(embeding: list[float]) -> list[str]:  # "embeding": one 'd' short
    return ["doc"]


def main() -> None:
    runner = SyncRunner()
    try:
        runner.run(app, query="   ")
    except ValueError as exc:  # the node's own exception, unchanged
        print(f"{type(exc).__name__}: {exc}")
        for note in exc.__notes__:
            print(note)
    try:
        runner.run(Graph([embed, misspelled]), query="hello")
    except MissingInputError as exc:
        print(exc)
    try:
        runner.run(app, query="hello", top_kk=5)
    except ValueError as exc:
        print(exc)


if __name__ == "__main__":
    main()
