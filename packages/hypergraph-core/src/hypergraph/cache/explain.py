"""``MissExplainer``: why a cache-enabled node missed — first time, code changed, input changed.

It remembers, per node, the ``definition_hash`` and the input fingerprints of the last lookup,
and compares the next lookup against them. It is an in-memory aid for ``CacheMissEvent.reason``:
it never touches the backend and never decides hit or miss. It is bounded (least recently seen
nodes are forgotten), so a forgotten node reads as "first time seen" again, and a miss it cannot
account for (same code, same inputs: the entry was evicted, the previous run failed, or its
outputs could not be stored) has no explanation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping

__all__ = ["CODE_CHANGED", "FIRST_TIME", "MissExplainer"]

FIRST_TIME = "first time seen"
CODE_CHANGED = "code changed"


class MissExplainer:
    """Compares each lookup of a node with the previous one and names what changed.

    ``observe`` is called on every lookup, hit or miss, so that "the last one seen" is accurate.
    Thread-safe; keeps at most ``max_nodes`` nodes.
    """

    def __init__(self, max_nodes: int = 4096) -> None:
        if max_nodes < 1:
            raise ValueError(f"max_nodes must be positive, got {max_nodes!r}")
        self.max_nodes = max_nodes
        self._lock = threading.Lock()
        self._seen: OrderedDict[Hashable, tuple[str, Mapping[str, str]]] = OrderedDict()

    def observe(
        self,
        identity: Hashable,
        definition_hash: str,
        fingerprints: Mapping[str, str] | None,
    ) -> str | None:
        """Record this lookup and return why it would miss, compared with the previous one.

        ``identity`` names the node independently of any graph (``node_identity``).
        ``fingerprints`` maps each input name to ``hypergraph.cache.fingerprint(value)``;
        ``None`` (an input could not be fingerprinted) records nothing and explains nothing.
        Returns ``"first time seen"``, ``"code changed"``, ``"input changed: 'a', 'b'"`` or
        ``None`` when nothing observable changed.
        """
        if fingerprints is None:
            return None
        current = (definition_hash, dict(fingerprints))
        with self._lock:
            previous = self._seen.get(identity)
            self._seen[identity] = current
            self._seen.move_to_end(identity)
            while len(self._seen) > self.max_nodes:
                self._seen.popitem(last=False)
        if previous is None:
            return FIRST_TIME
        old_hash, old_prints = previous
        if old_hash != definition_hash:
            return CODE_CHANGED
        changed = sorted(
            name for name in current[1].keys() | old_prints.keys()
            if current[1].get(name) != old_prints.get(name)
        )
        if changed:
            return "input changed: " + ", ".join(repr(name) for name in changed)
        return None

    def forget(self, identity: Hashable) -> None:
        """Drop what is remembered about one node."""
        with self._lock:
            self._seen.pop(identity, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)
