"""RunState: everything one run has computed so far, as one attrs value.

The engine mutates it in place between supersteps (copying would cost more than the nodes), and
a checkpointer can persist it after any superstep: it holds no plan objects, only names,
integer node indices and user values.
"""

from __future__ import annotations

from typing import Any

import attrs

from hypergraph.nodes.gates import _End

__all__ = ["SEED", "Decision", "RunState"]

Decision = list[int] | _End
"""A gate's pending decision: target node indices still to run, or END."""

SEED = -1
"""Writer index of values the caller provided (SPEC X8a: an original input seed)."""


@attrs.define(slots=True, eq=False)
class RunState:
    """Values, versions, routing decisions and superstep counters of one run."""

    values: dict[str, Any] = attrs.field(factory=dict)
    versions: dict[str, int] = attrs.field(factory=dict)
    # name -> index of the node that wrote the current value (SEED for provided inputs)
    writers: dict[str, int] = attrs.field(factory=dict)
    # per node: versions of its inputs when it last ran (None: never ran)
    consumed: list[tuple[int, ...] | None] = attrs.field(factory=list)
    exec_count: list[int] = attrs.field(factory=list)
    # gate index -> pending target indices, or END
    decisions: dict[int, Decision] = attrs.field(factory=dict)
    cut_off: set[int] = attrs.field(factory=set)
    superstep: int = 0
    # cyclic component index -> supersteps it contributed nodes to (SPEC X19)
    iterations: dict[int, int] = attrs.field(factory=dict)
    # components to evaluate next superstep, and predecessor counts of the others
    runnable: list[int] = attrs.field(factory=list)
    pending_preds: list[int] = attrs.field(factory=list)
    # single-node DAG components whose node is in the current batch
    finishing: list[int] = attrs.field(factory=list)
    provided: dict[str, Any] = attrs.field(factory=dict)
    # interrupt answers by output name (SPEC HI3)
    answers: dict[str, Any] = attrs.field(factory=dict)
    # nested graph node name -> values addressed to it with dotted keys (SPEC G14)
    scoped: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    # nested graph node name -> interrupt answers for its next run, used up once handed over
    nested_answers: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    # nodes whose execution failed in the last superstep (they run again after a restore)
    failed: set[int] = attrs.field(factory=set)
    # the interrupt (or nested graph node) the run paused at
    paused: str | None = None
    # snapshots of paused nested runs by graph-node name, restored when the node runs again
    children: dict[str, Any] = attrs.field(factory=dict)
    # False once restored: a precomputed schedule only describes a run from its start
    scheduled: bool = True
