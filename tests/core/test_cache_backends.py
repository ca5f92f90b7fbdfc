"""Caching building blocks: InMemoryCache, cache keys, miss explanations and the runner helper."""

from __future__ import annotations

import hashlib
import logging
import pickle
import subprocess
import sys
import threading

import pytest

from hypergraph import (
    END,
    CacheBackend,
    Graph,
    InMemoryCache,
    MemoryCache,
    interrupt,
    node,
    route,
)
from hypergraph.cache import (
    CODE_CHANGED,
    FIRST_TIME,
    UNKEYABLE,
    CachedResult,
    MissExplainer,
    NodeCache,
    cache_key,
    fingerprint,
)
from hypergraph.plugins import list_plugins

HASH = "0" * 64


class ExplodingPickle:
    """An input whose pickling fails with an exception pickle itself never raises."""

    def __reduce__(self) -> tuple[object, ...]:
        raise RuntimeError("cannot reduce me")


@node(output_name="embedding", cache=True)
def embed(text: str) -> list[float]:
    return [float(len(text))]


@node(output_name="answer", cache=True)
def answer(q: str, context: str = "") -> str:
    return f"{q}:{context}"


@route(targets=["embed", END], cache=True)
def decide(text: str) -> object:
    return END if not text else "embed"


# ---------------------------------------------------------------------------- InMemoryCache
def test_memory_cache_is_an_alias_of_in_memory_cache():
    """``MemoryCache`` is the very same class as ``InMemoryCache``."""
    assert MemoryCache is InMemoryCache


def test_in_memory_cache_is_a_cache_backend():
    """``InMemoryCache`` satisfies the runtime-checkable ``CacheBackend`` protocol."""
    assert isinstance(InMemoryCache(), CacheBackend)


def test_in_memory_cache_is_registered_by_core():
    """Core registers ``InMemoryCache`` through its own cache-backend hook, like any plugin."""
    core = next(p for p in list_plugins() if p.distribution == "hypergraph-core")
    names = {(r.name, r.kind, r.target) for r in core.registrations}
    assert ("InMemoryCache", "cache", "hypergraph.cache.memory:InMemoryCache") in names


def test_unbounded_cache_keeps_every_entry():
    """Without ``max_size`` nothing is ever evicted."""
    cache = InMemoryCache()
    for i in range(1000):
        cache.set(f"{i:x}", i)
    assert len(cache) == 1000
    assert cache.get("0") == (True, 0)


def test_bounded_cache_evicts_the_least_recently_set_entry():
    """With ``max_size=2`` a third entry pushes out the oldest one."""
    cache = InMemoryCache(max_size=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("c", 3)
    assert cache.get("a") == (False, None)
    assert cache.get("b") == (True, 2)
    assert cache.get("c") == (True, 3)


def test_get_refreshes_recency():
    """A hit makes the entry the most recently used, so the other one is evicted next."""
    cache = InMemoryCache(max_size=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)
    assert cache.get("a") == (True, 1)
    assert cache.get("b") == (False, None)


def test_overwriting_refreshes_recency():
    """Setting an existing key again makes it the most recently used."""
    cache = InMemoryCache(max_size=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("a", 10)
    cache.set("c", 3)
    assert cache.get("a") == (True, 10)
    assert "b" not in cache


def test_bounded_cache_never_exceeds_max_size_under_threads():
    """Concurrent writers never leave more than ``max_size`` entries."""
    cache = InMemoryCache(max_size=10)

    def fill(worker: int) -> None:
        for i in range(300):
            cache.set(f"{worker:x}{i:04x}", i)
            cache.get(f"{worker:x}{i // 2:04x}")

    threads = [threading.Thread(target=fill, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 10


def test_hits_are_independent_copies_of_the_stored_value():
    """Mutating what ``get`` returned, or the object given to ``set``, never changes the entry."""
    cache = InMemoryCache()
    value = {"items": [1, 2]}
    cache.set("a", value)
    value["items"].append("changed by the producer")
    hit, first = cache.get("a")
    assert hit and first == {"items": [1, 2]}
    first["items"].append("changed by a consumer")
    assert cache.get("a") == (True, {"items": [1, 2]})
    assert cache.get("a")[1] is not cache.get("a")[1]


def test_an_unpicklable_value_is_skipped_with_a_warning(caplog):
    """Like DiskCache: a value pickle rejects is logged, not stored, and nothing is raised."""
    cache = InMemoryCache()
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        cache.set("a", {"bad": threading.Lock()})
    assert "cannot be pickled" in caplog.text
    assert len(cache) == 0
    assert cache.get("a") == (False, None)


def test_a_value_whose_reduce_raises_anything_is_skipped(caplog):
    """Any exception from pickling, not only the usual TypeError, skips the value."""
    cache = InMemoryCache()
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        cache.set("a", ExplodingPickle())
    assert "RuntimeError" in caplog.text
    assert len(cache) == 0


@pytest.mark.parametrize("size", [-1, True, 1.5])
def test_max_size_must_be_a_non_negative_int(size):
    """``max_size`` that is negative, a bool or not an int is rejected."""
    with pytest.raises(ValueError, match="max_size"):
        InMemoryCache(max_size=size)


# ---------------------------------------------------------------------------- cache_key
def test_cache_key_is_sha256_of_definition_hash_then_sorted_input_pickle():
    """The key is SHA-256 over the definition hash followed by the pickle of sorted pairs (CA2)."""
    expected = hashlib.sha256(
        HASH.encode() + pickle.dumps([("a", 1), ("b", [2])], protocol=5)
    ).hexdigest()
    assert cache_key(HASH, {"b": [2], "a": 1}) == expected


def test_cache_key_ignores_the_order_inputs_are_given_in():
    """The same inputs in another order give the same key."""
    assert cache_key(HASH, {"a": 1, "b": 2}) == cache_key(HASH, {"b": 2, "a": 1})


def test_cache_key_is_stable_across_processes():
    """A fresh interpreter computes the same key for the same definition and inputs."""
    inputs = {"text": "hello", "k": 3, "opts": {"model": "small", "dims": [1, 2]}}
    code = (
        "from hypergraph.cache import cache_key\n"
        f"print(cache_key({HASH!r}, {inputs!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == cache_key(HASH, inputs)


def test_cache_key_changes_with_input_values():
    """Different values of the same input give different keys."""
    assert cache_key(HASH, {"text": "a"}) != cache_key(HASH, {"text": "b"})


def test_cache_key_changes_with_input_names():
    """The same value under another input name gives a different key."""
    assert cache_key(HASH, {"text": "a"}) != cache_key(HASH, {"query": "a"})


def test_cache_key_changes_with_definition_hash():
    """Editing the function (a new definition hash) changes the key."""
    assert cache_key(HASH, {"text": "a"}) != cache_key("1" * 64, {"text": "a"})


def test_cache_key_ignores_the_node_name():
    """A renamed copy of a node looks up the same key as the original."""
    nodes = NodeCache(InMemoryCache())
    original = nodes.lookup(embed, {"text": "hi"})
    renamed = nodes.lookup(embed.with_name("embed_again"), {"text": "hi"})
    assert original is not None and renamed is not None
    assert original.key == renamed.key


def test_cache_key_uses_renamed_input_names():
    """A node whose input was renamed keys on the new, graph-facing name."""
    nodes = NodeCache(InMemoryCache())
    original = nodes.lookup(embed, {"text": "hi"})
    renamed = nodes.lookup(embed.rename_inputs(text="prompt"), {"text": "hi"})
    assert original is not None and renamed is not None
    assert renamed.key == cache_key(embed.definition_hash, {"prompt": "hi"})
    assert renamed.key != original.key


def test_unpicklable_inputs_have_no_key_and_log_a_warning(caplog):
    """An input that cannot be pickled gives ``None`` and a warning on ``hypergraph.cache``."""
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        key = cache_key(HASH, {"lock": threading.Lock()})
    assert key is None
    assert "'lock'" in caplog.text
    assert "uncached" in caplog.text


def test_fingerprint_of_an_unpicklable_value_is_none():
    """A value that cannot be pickled has no fingerprint."""
    assert fingerprint(lambda: None) is None
    assert fingerprint("x") == hashlib.sha256(pickle.dumps("x", protocol=5)).hexdigest()


def test_an_input_whose_reduce_raises_runtime_error_has_no_key(caplog):
    """CA2: any exception while pickling the inputs means "run uncached", with a warning."""
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        key = cache_key(HASH, {"thing": ExplodingPickle()}, node_name="embed")
    assert key is None
    assert "'thing'" in caplog.text and "'embed'" in caplog.text
    assert "RuntimeError: cannot reduce me" in caplog.text


def test_fingerprint_of_a_value_whose_reduce_raises_is_none():
    """``fingerprint`` treats every pickling exception as "cannot be fingerprinted"."""
    assert fingerprint(ExplodingPickle()) is None


def test_lookup_of_an_input_whose_reduce_raises_is_unkeyable(caplog):
    """Through ``NodeCache``: no exception, reason ``UNKEYABLE``, a warning naming the node."""
    nodes = NodeCache(InMemoryCache())
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        lookup = nodes.lookup(embed, {"text": ExplodingPickle()})
    assert lookup is not None
    assert (lookup.key, lookup.hit, lookup.reason) == (None, False, UNKEYABLE)
    assert "node 'embed'" in caplog.text


# ---------------------------------------------------------------------------- which nodes
def test_nodes_without_cache_true_are_not_cached():
    """A node that did not opt in gets no lookup at all (CA1)."""

    @node(output_name="y")
    def plain(x: int) -> int:
        return x

    assert NodeCache(InMemoryCache()).lookup(plain, {"x": 1}) is None


def test_interrupts_are_never_cached():
    """An interrupt with ``cache=True`` still gets no lookup (HI11)."""

    @interrupt(output_name="decision", cache=True)
    def approval(draft: str) -> None:
        return None

    assert NodeCache(InMemoryCache()).lookup(approval, {"draft": "d"}) is None


def test_graph_nodes_are_never_cached():
    """A nested graph gets no lookup; its inner nodes are cached instead (CA3)."""
    inner = Graph([embed], name="inner").as_node()
    assert NodeCache(InMemoryCache()).lookup(inner, {"text": "hi"}) is None


# ---------------------------------------------------------------------------- lookup / store
def test_lookup_misses_then_hits_after_store():
    """A stored result comes back as a hit with the node's outputs."""
    nodes = NodeCache(InMemoryCache())
    first = nodes.lookup(embed, {"text": "hi"})
    assert first is not None and not first.hit
    nodes.store(first, {"embedding": [2.0]})
    second = nodes.lookup(embed, {"text": "hi"})
    assert second is not None
    assert second.hit and second.key == first.key
    assert second.outputs == {"embedding": [2.0]}


def test_the_payload_is_the_output_dict_and_the_decision():
    """The backend holds a ``CachedResult`` with the outputs and, for gates, the decision."""
    backend = InMemoryCache()
    nodes = NodeCache(backend)
    lookup = nodes.lookup(embed, {"text": "hi"})
    assert lookup is not None
    nodes.store(lookup, {"embedding": [2.0]})
    assert backend.get(lookup.key) == (True, CachedResult(outputs={"embedding": [2.0]}))


def test_gate_decisions_are_cached_with_the_outputs():
    """A gate's raw decision, ``END`` included, is replayed on a hit (GT14)."""
    nodes = NodeCache(InMemoryCache())
    miss = nodes.lookup(decide, {"text": ""})
    assert miss is not None
    nodes.store(miss, {}, decision=END)
    hit = nodes.lookup(decide, {"text": ""})
    assert hit is not None and hit.hit
    assert hit.outputs == {}
    assert hit.decision is END


def test_renamed_outputs_still_hit_by_position():
    """A copy with renamed outputs reuses the entry, named by its own outputs."""
    nodes = NodeCache(InMemoryCache())
    lookup = nodes.lookup(embed, {"text": "hi"})
    assert lookup is not None
    nodes.store(lookup, {"embedding": [2.0]})
    renamed = nodes.lookup(embed.rename_outputs(embedding="vector"), {"text": "hi"})
    assert renamed is not None and renamed.hit
    assert renamed.outputs == {"vector": [2.0]}


def test_unpicklable_inputs_miss_and_store_nothing():
    """Without a key the node runs uncached: reason ``UNKEYABLE``, and ``store`` is a no-op."""
    backend = InMemoryCache()
    nodes = NodeCache(backend)
    lookup = nodes.lookup(embed, {"text": threading.Lock()})
    assert lookup is not None
    assert (lookup.key, lookup.hit, lookup.reason) == (None, False, UNKEYABLE)
    nodes.store(lookup, {"embedding": [1.0]})
    assert len(backend) == 0


class BrokenCache:
    """A backend whose every call fails, as a third-party bug might."""

    def get(self, key: str) -> tuple[bool, object]:
        raise OSError("disk gone")

    def set(self, key: str, value: object) -> None:
        raise OSError("disk gone")


def test_a_failing_backend_is_a_logged_miss(caplog):
    """Backend errors never fail the node: ``get`` counts as a miss, ``set`` is skipped."""
    nodes = NodeCache(BrokenCache())
    with caplog.at_level(logging.WARNING, logger="hypergraph.cache"):
        lookup = nodes.lookup(embed, {"text": "hi"})
        assert lookup is not None and not lookup.hit
        nodes.store(lookup, {"embedding": [2.0]})
    assert caplog.text.count("OSError: disk gone") == 2


# ---------------------------------------------------------------------------- miss reasons
def test_first_lookup_is_explained_as_first_time_seen():
    """The first miss of a node says it was never seen before."""
    lookup = NodeCache(InMemoryCache()).lookup(embed, {"text": "hi"})
    assert lookup is not None and lookup.reason == FIRST_TIME == "first time seen"


def test_a_changed_function_is_explained_as_code_changed():
    """Same node name and inputs but a new function source reads as "code changed"."""

    @node(output_name="embedding", cache=True, name="embed")
    def embed_v2(text: str) -> list[float]:
        return [0.0]

    nodes = NodeCache(InMemoryCache())
    nodes.lookup(embed, {"text": "hi"})
    lookup = nodes.lookup(embed_v2, {"text": "hi"})
    assert lookup is not None and lookup.reason == CODE_CHANGED == "code changed"


def test_a_changed_input_is_named_in_the_reason():
    """A miss caused by a new value names that input."""
    nodes = NodeCache(InMemoryCache())
    nodes.lookup(answer, {"q": "what?", "context": "c"})
    lookup = nodes.lookup(answer, {"q": "why?", "context": "c"})
    assert lookup is not None and lookup.reason == "input changed: 'q'"


def test_several_changed_inputs_are_named_in_sorted_order():
    """When more than one input changed, all are named, sorted."""
    nodes = NodeCache(InMemoryCache())
    nodes.lookup(answer, {"q": "what?", "context": "c"})
    lookup = nodes.lookup(answer, {"q": "why?", "context": "d"})
    assert lookup is not None and lookup.reason == "input changed: 'context', 'q'"


def test_an_evicted_entry_has_no_explanation():
    """Same code, same inputs, yet a miss (the entry was evicted): the reason is unknown."""
    nodes = NodeCache(InMemoryCache(max_size=1))
    first = nodes.lookup(embed, {"text": "hi"})
    assert first is not None
    nodes.store(first, {"embedding": [2.0]})
    nodes.backend.set("f" * 64, "pushes the entry out")
    again = nodes.lookup(embed, {"text": "hi"})
    assert again is not None and not again.hit
    assert again.reason is None


def test_explanations_compare_with_the_previous_execution_not_with_hits():
    """A hit is not recorded: a later miss is compared with the node's previous execution."""
    nodes = NodeCache(InMemoryCache())
    for q, context in (("what?", "c"), ("why?", "d")):
        lookup = nodes.lookup(answer, {"q": q, "context": context})
        assert lookup is not None
        nodes.store(lookup, {"answer": "x"})
    hit = nodes.lookup(answer, {"q": "what?", "context": "c"})
    assert hit is not None and hit.hit
    lookup = nodes.lookup(answer, {"q": "what?", "context": "e"})
    # compared with ("why?", "d"), the last execution; not with the hit ("what?", "c")
    assert lookup is not None and lookup.reason == "input changed: 'context', 'q'"


def test_hits_compute_no_fingerprints(monkeypatch):
    """Fingerprints (one more pickle per input) are only computed for misses."""
    import hypergraph.cache.node_cache as node_cache_module

    fingerprinted: list[object] = []

    def counting(value: object) -> str | None:
        fingerprinted.append(value)
        return fingerprint(value)

    monkeypatch.setattr(node_cache_module, "fingerprint", counting)
    nodes = NodeCache(InMemoryCache())
    miss = nodes.lookup(answer, {"q": "what?", "context": "c"})
    assert miss is not None and not miss.hit
    assert len(fingerprinted) == 2
    nodes.store(miss, {"answer": "x"})
    fingerprinted.clear()
    for _ in range(3):
        hit = nodes.lookup(answer, {"q": "what?", "context": "c"})
        assert hit is not None and hit.hit
    assert fingerprinted == []


def test_same_named_nodes_with_different_code_are_told_apart():
    """Two graphs with an ``embed`` each: after both ran, misses name the changed input.

    Only the first execution of the second definition reads "code changed"; from then on each
    definition is compared with its own previous execution.
    """

    @node(output_name="embedding", cache=True, name="embed")
    def other_embed(text: str) -> list[float]:
        return [0.0]

    nodes = NodeCache(InMemoryCache())
    reasons = [
        lookup.reason
        for the_node, text in [
            (embed, "a"), (other_embed, "a"), (embed, "b"), (other_embed, "b"), (embed, "b"),
        ]
        if (lookup := nodes.lookup(the_node, {"text": text})) is not None
    ]
    assert reasons == [
        FIRST_TIME, CODE_CHANGED, "input changed: 'text'", "input changed: 'text'", None
    ]


def test_code_changed_needs_no_record_for_the_current_definition():
    """Going back to a definition seen before compares inputs instead of saying "code changed"."""
    explainer = MissExplainer()
    assert explainer.observe("n", "1" * 64, {"x": "a"}) == FIRST_TIME
    assert explainer.observe("n", "2" * 64, {"x": "a"}) == CODE_CHANGED
    assert explainer.observe("n", "1" * 64, {"x": "b"}) == "input changed: 'x'"
    assert explainer.observe("n", "2" * 64, {"x": "a"}) is None


def test_forget_drops_every_definition_of_a_node():
    """After ``forget`` the node is new again, whichever definition comes next."""
    explainer = MissExplainer()
    explainer.observe("n", "1" * 64, {"x": "a"})
    explainer.observe("n", "2" * 64, {"x": "a"})
    explainer.forget("n")
    assert len(explainer) == 0
    assert explainer.observe("n", "2" * 64, {"x": "a"}) == FIRST_TIME


def test_explanations_can_be_turned_off():
    """``explain_misses=False`` leaves reasons empty and skips the fingerprints."""
    nodes = NodeCache(InMemoryCache(), explain_misses=False)
    lookup = nodes.lookup(embed, {"text": "hi"})
    assert lookup is not None and lookup.reason is None
    assert nodes.explainer is None


def test_the_explainer_remembers_a_bounded_number_of_nodes():
    """Beyond ``max_nodes`` the least recently seen node is forgotten (first time seen again)."""
    explainer = MissExplainer(max_nodes=2)
    for name in ("a", "b", "c"):
        explainer.observe(name, HASH, {"x": "1"})
    assert len(explainer) == 2
    assert explainer.observe("a", HASH, {"x": "1"}) == FIRST_TIME
    assert explainer.observe("c", HASH, {"x": "1"}) is None


def test_unfingerprintable_inputs_are_not_explained():
    """Without fingerprints the explainer neither records nor explains."""
    explainer = MissExplainer()
    assert explainer.observe("a", HASH, None) is None
    assert len(explainer) == 0


def test_in_memory_cache_with_max_size_zero_never_caches() -> None:
    """max_size=0 means "never cache": set stores nothing and every get misses."""
    cache = InMemoryCache(max_size=0)
    cache.set("abc", 1)
    assert cache.get("abc") == (False, None)
    assert len(cache) == 0


def test_in_memory_cache_clear_forgets_every_entry() -> None:
    """clear() empties the cache; it stays usable."""
    cache = InMemoryCache()
    cache.set("abc", 1)
    cache.clear()
    assert len(cache) == 0 and cache.get("abc") == (False, None)
    cache.set("abc", 2)
    assert cache.get("abc") == (True, 2)
