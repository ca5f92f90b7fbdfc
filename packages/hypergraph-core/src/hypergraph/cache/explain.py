"""``MissExplainer``: why a cache-enabled node missed — first time, code changed, input changed.

What a reason means, precisely
------------------------------
A reason compares the current miss with **the previous execution of the same node** recorded by
the same explainer (one per runner), where "the same node" is the same name and input names
(``node_identity``) *and* the same ``definition_hash``. Only misses are recorded: a hit costs no
extra pickling, and what a reason describes is what is different from the last time the node
actually ran. Map items and nested graphs share the runner's explainer, so the second item of a
``map`` is compared with the first.

- ``"first time seen"``: this node (name + input names) never missed before in this explainer.
- ``"code changed"``: it last missed with another ``definition_hash`` and has no record for the
  current one (its function was edited, or another graph has a different function under the
  same name). Once both versions have run, each is compared with its own previous execution,
  so two graphs with same-named nodes do not keep reporting "code changed".
- ``"input changed: 'a', 'b'"``: the named inputs (sorted) differ from the previous execution
  of this very definition.
- ``None``: nothing observable changed — same code, same inputs, yet a miss (the entry was
  evicted, the previous run failed, its outputs could not be stored, or it is in another
  process's memory).

It is an in-memory aid for ``CacheMissEvent.reason``: it never touches the backend and never
decides hit or miss. It is bounded (least recently recorded first), so a forgotten node reads as
"first time seen" again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping

__all__ = ["CODE_CHANGED", "FIRST_TIME", "MissExplainer"]

FIRST_TIME = "first time seen"
CODE_CHANGED = "code changed"
INPUT_CHANGED = "input changed: "


class MissExplainer:
    """Compares each miss of a node with its previous execution and names what changed.

    Call ``observe`` on every miss (not on hits). Thread-safe; keeps at most ``max_nodes``
    (node, definition) records.
    """

    def __init__(self, max_nodes: int = 4096) -> None:
        if max_nodes < 1:
            raise ValueError(f"max_nodes must be positive, got {max_nodes!r}")
        self.max_nodes = max_nodes
        self._lock = threading.Lock()
        # (identity, definition_hash) -> input fingerprints of that definition's last execution
        self._seen: OrderedDict[tuple[Hashable, str], dict[str, str]] = OrderedDict()
        # identity -> the definition_hash it last executed with
        self._last_hash: OrderedDict[Hashable, str] = OrderedDict()

    def observe(
        self,
        identity: Hashable,
        definition_hash: str,
        fingerprints: Mapping[str, str] | None,
    ) -> str | None:
        """Record this execution and return why it missed, compared with the previous one.

        ``identity`` names the node independently of any graph (``node_identity``).
        ``fingerprints`` maps each input name to ``hypergraph.cache.fingerprint(value)``;
        ``None`` (an input could not be fingerprinted) records nothing and explains nothing.
        Returns ``"first time seen"``, ``"code changed"``, ``"input changed: 'a', 'b'"`` or
        ``None`` when nothing observable changed (see the module docstring).
        """
        if fingerprints is None:
            return None
        current = dict(fingerprints)
        record = (identity, definition_hash)
        with self._lock:
            previous = self._seen.get(record)
            last_hash = self._last_hash.get(identity)
            self._seen[record] = current
            self._seen.move_to_end(record)
            self._last_hash[identity] = definition_hash
            self._last_hash.move_to_end(identity)
            while len(self._seen) > self.max_nodes:
                self._seen.popitem(last=False)
            while len(self._last_hash) > self.max_nodes:
                self._last_hash.popitem(last=False)
        if previous is None:
            if last_hash is not None and last_hash != definition_hash:
                return CODE_CHANGED
            return FIRST_TIME
        changed = sorted(
            name for name in current.keys() | previous.keys()
            if current.get(name) != previous.get(name)
        )
        if changed:
            return INPUT_CHANGED + ", ".join(repr(name) for name in changed)
        return None

    def forget(self, identity: Hashable) -> None:
        """Drop what is remembered about one node, every definition of it."""
        with self._lock:
            self._last_hash.pop(identity, None)
            for record in [r for r in self._seen if r[0] == identity]:
                del self._seen[record]

    def __len__(self) -> int:
        """How many (node, definition) records are kept."""
        with self._lock:
            return len(self._seen)
