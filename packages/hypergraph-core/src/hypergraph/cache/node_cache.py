"""``NodeCache``: the one object a runner calls to look a node's result up and to store it.

It composes the pieces of this package — which nodes take part (CA1, CA3, HI11), the key (CA2),
the payload (CA3, GT14) and the miss explanation — so that every runner follows the same rules
by calling two methods. See ``hypergraph.cache`` for the call sequence.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Hashable, Mapping
from typing import Any

import attrs

from hypergraph._stack import user_stacklevel
from hypergraph.cache.explain import MissExplainer
from hypergraph.cache.keys import cache_key, fingerprint
from hypergraph.cache.protocol import CacheBackend
from hypergraph.nodes import GraphNode, HyperNode
from hypergraph.nodes._identity import Unstable, state_digest

__all__ = [
    "UNKEYABLE",
    "UNSTABLE_STATE",
    "CacheLookup",
    "CachedResult",
    "NodeCache",
    "is_cacheable",
    "node_identity",
]

logger = logging.getLogger("hypergraph.cache")

UNKEYABLE = "inputs cannot be pickled"
"""Miss reason when no key could be computed; the node runs uncached and nothing is stored."""

UNSTABLE_STATE = "function state cannot be hashed"
"""Miss reason when the function's closure or instance cannot be hashed by value (runs uncached)."""

STATE_INPUT = "<function state>"
"""How a change of closure values or bound instance state is named in a miss reason."""


@attrs.frozen
class CachedResult:
    """What a backend stores for one successful node execution (SPEC CA3, GT14).

    ``outputs`` is the node's output dict, in the node's output order. ``decision`` is a gate's
    *raw* return value (a target name, ``END``, a list of names, ``True``/``False``, or ``None``),
    not the plan's resolved indices, so the entry means the same in every graph.
    """

    outputs: dict[str, Any]
    decision: Any = None


@attrs.frozen
class CacheLookup:
    """The answer to ``NodeCache.lookup`` for one cache-enabled node execution.

    - ``key``: the cache key, or ``None`` when an input cannot be pickled (then ``hit`` is False,
      ``reason`` is ``UNKEYABLE`` and ``store`` does nothing).
    - ``hit``: the result was found; ``outputs`` (named by *this* node's outputs) and
      ``decision`` (gates) replace calling the function.
    - ``reason``: on a miss, why — ``"first time seen"``, ``"code changed"``,
      ``"input changed: 'q'"`` (each compared with the previous *execution* of the same node by
      this runner, see ``hypergraph.cache.explain``), ``UNKEYABLE``, a backend failure — or
      ``None`` when unknown.
    """

    key: str | None
    hit: bool
    outputs: dict[str, Any] | None = None
    decision: Any = None
    reason: str | None = None


def is_cacheable(node: HyperNode) -> bool:
    """True when ``node`` opted in with ``cache=True`` and may be cached at all.

    Interrupts (HI11) and nested graphs (CA3: cache their inner nodes) never are.
    """
    return bool(node.cache) and not node.is_interrupt and not isinstance(node, GraphNode)


def node_identity(node: HyperNode) -> Hashable:
    """How the miss explainer recognises "the same node" across runs and graphs: name + inputs.

    The explainer further separates records by ``definition_hash`` (see ``MissExplainer``).
    """
    return (node.name, node.inputs)


class NodeCache:
    """A runner's cache: its ``backend`` plus the per-backend miss explainer.

    Create one per runner (per backend) and keep it for the runner's lifetime, so explanations
    compare against earlier runs, nested graphs and map items (CA8). Thread-safe.

    Hits cost one pickle of the inputs (the key). A miss additionally fingerprints each input
    for the explanation (see ``hypergraph.cache.explain`` for what a reason means);
    ``explain_misses=False`` skips that and leaves every ``reason`` ``None`` except ``UNKEYABLE``
    and backend failures.
    """

    def __init__(
        self,
        backend: CacheBackend,
        *,
        explain_misses: bool = True,
        max_explained_nodes: int = 4096,
    ) -> None:
        self.backend = backend
        self.explainer = MissExplainer(max_explained_nodes) if explain_misses else None
        self._warned: set[tuple[str, str]] = set()
        self._warned_lock = threading.Lock()

    def lookup(self, node: HyperNode, kwargs: Mapping[str, Any]) -> CacheLookup | None:
        """Look ``node``'s result up for these arguments; ``None`` when the node is not cached.

        ``kwargs`` are the function's keyword arguments keyed by *parameter* name, exactly as
        the engine's ``collect`` returns them; the key uses the graph-facing (renamed) input
        names. A backend whose ``get`` raises is logged and counts as a miss.
        """
        if not is_cacheable(node):
            return None
        inputs: Mapping[str, Any] = _inputs_by_name(node, kwargs)
        definition_hash = node.definition_hash
        behaviour = definition_hash
        state: str | None = None
        reader = getattr(node, "state_reader", None)
        current = reader() if reader is not None else None
        if current is not None:
            try:
                state = state_digest(current)
            except Unstable as exc:
                self._warn_unstable(node, exc)
                return CacheLookup(key=None, hit=False, reason=UNSTABLE_STATE)
            behaviour = f"{definition_hash}:{state}"
        key = cache_key(behaviour, inputs, node_name=node.name)
        if key is None:
            return CacheLookup(key=None, hit=False, reason=UNKEYABLE)
        if state is not None and self.explainer is not None:
            # a changed closure or instance is explained like a changed input
            inputs = {**inputs, STATE_INPUT: _Digest(state)}
        try:
            found, value = self.backend.get(key)
        except Exception as exc:
            logger.warning(
                "Cache backend %r failed to read the entry of node %r (%s: %s); running it.",
                self.backend, node.name, type(exc).__name__, exc,
            )
            self._explain(node, definition_hash, inputs)  # still an execution to compare with
            return CacheLookup(key=key, hit=False, reason=f"cache read failed: {type(exc).__name__}")
        if found:
            outputs = _outputs_for(node, value)
            if outputs is not None:
                # A hit is not recorded by the explainer: no fingerprints are computed for it.
                return CacheLookup(key=key, hit=True, outputs=outputs, decision=value.decision)
            self._explain(node, definition_hash, inputs)
            return CacheLookup(
                key=key, hit=False, reason="cached entry does not fit the node's outputs"
            )
        return CacheLookup(key=key, hit=False, reason=self._explain(node, definition_hash, inputs))

    def store(self, lookup: CacheLookup, outputs: Mapping[str, Any], decision: Any = None) -> None:
        """Store a successful execution's ``outputs`` (and a gate's raw ``decision``) under ``lookup.key``.

        Does nothing when ``lookup.key`` is ``None``. Call it only after the node succeeded
        (CA3). A backend whose ``set`` raises is logged; the run goes on with the fresh result.
        """
        if lookup.key is None:
            return
        entry = CachedResult(outputs=dict(outputs), decision=decision)
        try:
            self.backend.set(lookup.key, entry)
        except Exception as exc:
            logger.warning(
                "Cache backend %r failed to store an entry (%s: %s); the result is not cached.",
                self.backend, type(exc).__name__, exc,
            )

    def _warn_unstable(self, node: HyperNode, exc: Unstable) -> None:
        """One warning per node (name and code) for the lifetime of this cache."""
        marker = (node.name, node.definition_hash)
        with self._warned_lock:
            if marker in self._warned:
                return
            self._warned.add(marker)
        warnings.warn(
            f"Node {node.name!r} runs uncached: the state its function carries (closure values, "
            f"the bound instance or partial arguments) cannot be hashed by value ({exc}), so a "
            "cache key could not tell it apart from another function with the same code. Make "
            "that state picklable, pass it as an input, or set cache=False on the node.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )

    def _explain(
        self, node: HyperNode, definition_hash: str, inputs: Mapping[str, Any]
    ) -> str | None:
        if self.explainer is None:
            return None
        prints: dict[str, str] = {}
        for name, value in inputs.items():
            digest = value.hexdigest if isinstance(value, _Digest) else fingerprint(value)
            if digest is None:
                return None
            prints[name] = digest
        return self.explainer.observe(node_identity(node), definition_hash, prints)

    def __repr__(self) -> str:
        return f"NodeCache({self.backend!r})"


class _Digest:
    """A precomputed fingerprint passed through the explainer's inputs."""

    __slots__ = ("hexdigest",)

    def __init__(self, hexdigest: str) -> None:
        self.hexdigest = hexdigest


def _inputs_by_name(node: HyperNode, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    param_of = node._param_of
    return {name: kwargs[param_of[name]] for name in node.inputs}


def _outputs_for(node: HyperNode, value: Any) -> dict[str, Any] | None:
    """The cached outputs named by ``node``'s outputs, or ``None`` if the entry does not fit.

    The key ignores output names, so a node whose outputs were renamed finds entries written
    under the old names: they are matched by position, which is what the function returned.
    """
    if not isinstance(value, CachedResult):
        return None
    stored = value.outputs
    names = node.outputs
    if len(stored) != len(names):
        return None
    if tuple(stored) == names:
        return dict(stored)
    return dict(zip(names, stored.values(), strict=True))
