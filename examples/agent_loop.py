"""An agent-style loop: draft, critique, and a gate that loops back until the draft is good.

Run it with:  uv run --all-packages python examples/agent_loop.py

Shows cycles (a gate routing back to an earlier node), the entrypoint a loop needs,
max_iterations as a safety net, and an EventProcessor that logs each step.
"""

from __future__ import annotations

from hypergraph import END, Graph, SyncRunner, node, route
from hypergraph.events import EventProcessor, NodeEndEvent, RouteDecisionEvent

STYLE_RULES = ["be concise", "name the audience", "end with an action"]


@node(output_name="draft")
def write(topic: str, feedback: list[str] | None = None) -> str:
    applied = ", ".join(feedback or [])
    return f"Post about {topic}" + (f" ({applied})" if applied else "")


@node(output_name="feedback")
def critique(draft: str) -> list[str]:
    # a rule is "missing" until the draft mentions it; each round fixes one more
    return [rule for rule in STYLE_RULES if rule not in draft][:1] + [
        rule for rule in STYLE_RULES if rule in draft
    ]


@route(targets=["write", END])
def good_enough(draft: str) -> object:
    return END if all(rule in draft for rule in STYLE_RULES) else "write"


class StepLogger(EventProcessor):
    """Prints one line per node and per routing decision."""

    def on_node_end(self, event: NodeEndEvent) -> None:
        print(f"  step {event.superstep:>2}: {event.node_name:<11} {event.duration_ms:6.2f} ms")

    def on_route_decision(self, event: RouteDecisionEvent) -> None:
        print(f"           {event.node_name} -> {event.decision}")


loop = Graph([write, critique, good_enough], name="editor", entrypoint="write")


def main() -> None:
    result = SyncRunner().run(
        loop, {"topic": "hypergraph"}, max_iterations=20, event_processors=[StepLogger()]
    )
    print("status:", result.status)
    print("final draft:", result["draft"])


if __name__ == "__main__":
    main()
