"""RetryPolicy values, where policies are declared, and the retry core with injected sleep."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest

from hypergraph import (
    END,
    Graph,
    NodeRetryEvent,
    NodeTimeoutError,
    PolicyError,
    RetryPolicy,
    ifelse,
    interrupt,
    node,
    route,
)
from hypergraph.policies import acall_with_policy, call_with_policy
from hypergraph.serde import make_converter

FAST = RetryPolicy(max_attempts=4, initial_delay=1.0, backoff=2.0, max_delay=5.0, jitter=False)


class Flaky:
    """Fails ``failures`` times with ``error``, then returns ``value``."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionError, value: Any = "ok"):
        self.failures = failures
        self.error = error
        self.value = value
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return self.value


# -- the value ----------------------------------------------------------------------------------


def test_retry_policy_is_a_frozen_value_with_documented_defaults() -> None:
    """Defaults are 3 attempts, 0.5 s doubling up to 30 s with jitter, retrying any Exception."""
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.initial_delay, policy.backoff, policy.max_delay) == (
        3, 0.5, 2.0, 30.0,
    )
    assert policy.jitter is True and policy.retry_on == (Exception,)
    assert policy == RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 5  # type: ignore[misc]


def test_retry_on_accepts_one_class_a_list_or_a_predicate() -> None:
    """A single exception class or a list becomes a tuple; a predicate is kept as given."""
    assert RetryPolicy(retry_on=TimeoutError).retry_on == (TimeoutError,)
    assert RetryPolicy(retry_on=[TimeoutError, KeyError]).retry_on == (TimeoutError, KeyError)

    def transient(error: BaseException) -> bool:
        return "429" in str(error)

    policy = RetryPolicy(retry_on=transient)
    assert policy.retries(RuntimeError("HTTP 429")) and not policy.retries(RuntimeError("404"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_attempts": 0}, "max_attempts counts every call"),
        ({"max_attempts": 2.5}, "integer >= 1"),
        ({"max_attempts": True}, "integer >= 1"),
        ({"initial_delay": -1}, "initial_delay must be finite and >= 0"),
        ({"initial_delay": "1"}, "initial_delay must be a number"),
        ({"backoff": 0.5}, "backoff must be finite and >= 1"),
        ({"max_delay": float("inf")}, "max_delay must be finite"),
        ({"initial_delay": 5, "max_delay": 1}, "cannot be smaller than initial_delay"),
        ({"jitter": 1}, "jitter must be True or False"),
        ({"retry_on": ()}, "empty tuple would never retry"),
        ({"retry_on": (ValueError, "KeyError")}, "'KeyError' is not an exception class"),
        ({"retry_on": (KeyboardInterrupt,)}, "impossible to stop"),
        ({"retry_on": 3}, "retry_on must be exception classes"),
    ],
)
def test_invalid_policy_fields_are_refused_with_the_field_named(options: dict, message: str) -> None:
    """Every field is validated; the PolicyError names the field and the rule."""
    with pytest.raises(PolicyError, match=message):
        RetryPolicy(**options)


def test_policy_error_is_a_value_error() -> None:
    """Code that catches ValueError for bad arguments keeps working."""
    assert issubclass(PolicyError, ValueError)


def test_delays_grow_by_backoff_and_stop_at_max_delay() -> None:
    """Without jitter the waits are 1, 2, 4, then capped at 5 seconds."""
    assert [FAST.delay(n) for n in (1, 2, 3, 4, 2000)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_jitter_draws_between_half_and_all_of_the_delay() -> None:
    """The injected random value scales the wait linearly from half to all of it."""
    policy = RetryPolicy(initial_delay=2.0, jitter=True)
    assert policy.delay(1, random=lambda: 0.0) == 1.0
    assert policy.delay(1, random=lambda: 1.0) == 2.0
    assert policy.delay(1, random=lambda: 0.5) == 1.5


# -- the sync core ------------------------------------------------------------------------------


def test_call_with_policy_retries_until_success_and_sleeps_the_backoff() -> None:
    """Two failures then success: two waits of 1 and 2 seconds, reported through on_retry."""
    slept: list[float] = []
    retries: list[tuple[int, str, float]] = []
    flaky = Flaky(2)
    result = call_with_policy(
        flaky, FAST, node_name="n", sleep=slept.append,
        on_retry=lambda attempt, error, delay: retries.append((attempt, str(error), delay)),
    )
    assert result == "ok" and flaky.calls == 3
    assert slept == [1.0, 2.0]
    assert retries == [(1, "failure 1", 1.0), (2, "failure 2", 2.0)]


def test_the_last_failure_propagates_with_a_note_per_attempt() -> None:
    """After max_attempts the final exception carries notes listing every attempt's error."""
    flaky = Flaky(10)
    with pytest.raises(ConnectionError, match="failure 4") as caught:
        call_with_policy(flaky, FAST, node_name="fetch", sleep=lambda _: None)
    assert flaky.calls == 4
    notes = caught.value.__notes__
    assert "node 'fetch' failed on attempt 4 of 4 (max_attempts reached)" in notes[0]
    assert notes[1:] == [f"  attempt {n}: ConnectionError: failure {n}" for n in (1, 2, 3, 4)]


def test_a_failure_outside_retry_on_propagates_at_once_untouched() -> None:
    """An error the policy doesn't cover is raised on the first attempt, without notes."""
    flaky = Flaky(1, error=KeyError)
    policy = RetryPolicy(retry_on=(ConnectionError,), initial_delay=0)
    with pytest.raises(KeyError) as caught:
        call_with_policy(flaky, policy, node_name="n", sleep=lambda _: None)
    assert flaky.calls == 1
    assert not hasattr(caught.value, "__notes__")


def test_can_retry_false_stops_retrying_and_says_why() -> None:
    """A caller that already streamed output stops the retries; the note names the reason."""
    with pytest.raises(ConnectionError) as caught:
        call_with_policy(
            Flaky(5), FAST, node_name="n", sleep=lambda _: None,
            can_retry=iter([True, False]).__next__,
        )
    assert "attempt 2 of 4 (chunks were already streamed)" in caught.value.__notes__[0]


def test_jitter_uses_the_injected_random_source() -> None:
    """Backoff with jitter is deterministic when tests inject ``random``."""
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=3, initial_delay=4.0, jitter=True)
    call_with_policy(Flaky(2), policy, node_name="n", sleep=slept.append, random=lambda: 0.25)
    assert slept == [2.5, 5.0]


# -- the async core -----------------------------------------------------------------------------


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_acall_with_policy_retries_with_the_injected_async_sleep() -> None:
    """The async core awaits the injected sleep between attempts and awaits on_retry."""
    slept: list[float] = []
    seen: list[int] = []
    flaky = Flaky(2)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def call() -> Any:
        return flaky()

    async def on_retry(attempt: int, error: BaseException, delay: float) -> None:
        seen.append(attempt)

    result = run(acall_with_policy(call, FAST, None, node_name="n", sleep=sleep, on_retry=on_retry))
    assert result == "ok" and slept == [1.0, 2.0] and seen == [1, 2]


def test_a_timeout_raises_node_timeout_error_naming_node_and_limit() -> None:
    """An attempt running past ``timeout`` is cancelled with NodeTimeoutError."""

    async def hang() -> None:
        await asyncio.Event().wait()

    with pytest.raises(NodeTimeoutError, match=r"Node 'slow' timed out after 0\.01 s") as caught:
        run(acall_with_policy(hang, None, 0.01, node_name="slow"))
    assert isinstance(caught.value, TimeoutError)
    assert (caught.value.node_name, caught.value.timeout) == ("slow", 0.01)


def test_timeouts_are_retried_when_retry_on_covers_timeout_error() -> None:
    """The first attempt hangs and times out, the second returns: one outcome, the value."""
    attempts = 0

    async def first_hangs() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await asyncio.Event().wait()
        return "done"

    policy = RetryPolicy(max_attempts=2, initial_delay=0, retry_on=(TimeoutError,))
    assert run(acall_with_policy(first_hangs, policy, 0.01, node_name="n")) == "done"
    assert attempts == 2


def test_a_timeout_error_raised_by_the_node_itself_is_not_relabelled() -> None:
    """Only the policy's own expiry becomes NodeTimeoutError."""

    async def raises() -> None:
        raise TimeoutError("the server said so")

    with pytest.raises(TimeoutError, match="the server said so") as caught:
        run(acall_with_policy(raises, None, 5.0, node_name="n"))
    assert not isinstance(caught.value, NodeTimeoutError)


def test_the_slot_is_held_per_attempt_and_free_while_backing_off() -> None:
    """With a one-permit semaphore as slot, the permit is free during every backoff."""

    async def scenario() -> list[bool]:
        slot = asyncio.Semaphore(1)
        free_while_sleeping: list[bool] = []
        flaky = Flaky(2)

        async def sleep(_: float) -> None:
            free_while_sleeping.append(not slot.locked())

        async def call() -> Any:
            assert slot.locked()
            return flaky()

        await acall_with_policy(call, FAST, None, node_name="n", sleep=sleep, slot=slot)
        assert not slot.locked()
        return free_while_sleeping

    assert run(scenario()) == [True, True]


def test_node_timeout_error_pickles() -> None:
    """NodeTimeoutError survives pickling (process pools, DBOS step errors)."""
    error = pickle.loads(pickle.dumps(NodeTimeoutError("n", 2.5)))
    assert (error.node_name, error.timeout, str(error)) == ("n", 2.5, str(NodeTimeoutError("n", 2.5)))


# -- declarations -------------------------------------------------------------------------------


def test_node_keeps_its_retry_policy_and_timeout() -> None:
    """``@node(retry=..., timeout=...)`` stores both on the node."""
    policy = RetryPolicy(max_attempts=4)

    @node(output_name="reply", retry=policy, timeout=30)
    async def call_llm(prompt: str) -> str:
        return prompt

    assert call_llm.retry is policy and call_llm.timeout == 30.0


def test_timeout_on_a_sync_node_is_refused_at_decoration_with_the_reason() -> None:
    """Sync code cannot be interrupted, so timeout= on a sync node fails when decorated."""
    with pytest.raises(PolicyError, match=r"Node 'work' is synchronous.*async def"):

        @node(output_name="y", timeout=1.0)
        def work(x: int) -> int:
            return x


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "5", True])
def test_timeout_must_be_positive_seconds(timeout: Any) -> None:
    """Zero, negative, NaN and non-numbers are refused."""
    with pytest.raises(PolicyError, match="timeout="):

        @node(output_name="y", timeout=timeout)
        async def work(x: int) -> int:
            return x


def test_retry_must_be_a_retry_policy() -> None:
    """A bare number for retry= gets a message showing the right spelling."""
    with pytest.raises(PolicyError, match=r"retry=RetryPolicy\(max_attempts=3\)"):
        node(lambda x: x, output_name="y", name="n", retry=3)  # type: ignore[call-overload]


def test_gates_and_interrupt_handlers_take_retry() -> None:
    """@route, @ifelse and @interrupt accept retry=; async handlers also timeout=."""
    policy = RetryPolicy(max_attempts=2)

    @route(targets=["a", END], retry=policy)
    def pick(x: int) -> object:
        return END

    @ifelse("a", END, retry=policy)
    def check(x: int) -> bool:
        return True

    @interrupt(output_name="answer", retry=policy, timeout=5)
    async def ask(x: int) -> None:
        return None

    assert pick.retry is policy and check.retry is policy
    assert ask.retry is policy and ask.timeout == 5.0
    with pytest.raises(PolicyError, match="Interrupt handler 'ask_sync' is synchronous"):

        @interrupt(output_name="answer", timeout=5)
        def ask_sync(x: int) -> None:
            return None


def test_a_graph_default_applies_to_nodes_without_their_own() -> None:
    """The plan resolves each node's policy: its own wins over the graph's default."""
    own = RetryPolicy(max_attempts=5)
    default = RetryPolicy(max_attempts=2)

    @node(output_name="a", retry=own)
    def first(x: int) -> int:
        return x

    @node(output_name="b")
    def second(a: int) -> int:
        return a

    plan = Graph([first, second], retry=default).plan
    assert [np.retry for np in plan.nodes] == [own, default]
    assert plan.has_policies


def test_with_retry_returns_a_new_graph_and_leaves_the_original_alone() -> None:
    """with_retry() is a derived value: the original graph keeps no default."""

    @node(output_name="b")
    def second(a: int) -> int:
        return a

    graph = Graph([second])
    retried = graph.with_retry(RetryPolicy(max_attempts=2))
    assert graph.retry is None and retried.retry == RetryPolicy(max_attempts=2)
    assert graph.plan.nodes[0].retry is None and not graph.plan.has_policies
    assert retried.plan.nodes[0].retry == RetryPolicy(max_attempts=2)
    assert retried.with_retry(None).plan.nodes[0].retry is None


def test_max_attempts_one_switches_a_graph_default_off_for_a_node() -> None:
    """A node declaring RetryPolicy(max_attempts=1) resolves to no policy at all."""

    @node(output_name="b", retry=RetryPolicy(max_attempts=1))
    def once(a: int) -> int:
        return a

    plan = Graph([once], retry=RetryPolicy()).plan
    assert plan.nodes[0].retry is None and not plan.nodes[0].has_policy


def test_nested_graph_nodes_are_never_retried_as_a_whole() -> None:
    """A GraphNode gets no policy from its parent's default; its inner graph has its own."""

    @node(output_name="b")
    def inner_node(a: int) -> int:
        return a

    inner = Graph([inner_node], name="inner")
    outer = Graph([inner.as_node()], retry=RetryPolicy())
    assert outer.plan.nodes[0].retry is None


def test_graph_retry_must_be_a_policy() -> None:
    """Graph(retry=...) is validated like the node option."""
    with pytest.raises(PolicyError, match="Graph 'g': retry= must be a RetryPolicy"):
        Graph([node(lambda a: a, output_name="b", name="n")], name="g", retry=2)  # type: ignore[arg-type]


def test_with_retry_refuses_a_non_policy_naming_the_graph() -> None:
    """with_retry() validates its argument like Graph(retry=...)."""
    graph = Graph([node(lambda a: a, output_name="b", name="n")], name="g")
    with pytest.raises(PolicyError, match=r"Graph 'g'\.with_retry\(\): retry= must be"):
        graph.with_retry(3)  # type: ignore[arg-type]


def test_node_retry_event_round_trips_through_the_converter() -> None:
    """NodeRetryEvent serializes to JSON and back like every other event."""
    event = NodeRetryEvent(
        run_id="r", span_id="s", parent_span_id="p", timestamp=1.5, node_name="n",
        graph_name="g", attempt=2, max_attempts=4, error="ValueError: boom",
        error_type="ValueError", delay_s=0.25,
    )
    converter = make_converter()
    assert converter.loads(converter.dumps(event), NodeRetryEvent) == event
