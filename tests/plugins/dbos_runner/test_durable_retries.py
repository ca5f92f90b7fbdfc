"""Issue 13 item 4: a RetryPolicy's attempt count survives a crash of a durable run mid-backoff."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hypergraph import DBOSAsyncRunner, Graph, RetryPolicy, node

PROGRAM = Path(__file__).resolve().parent / "programs" / "flaky_retry.py"

WAIT_SECONDS = 60.0
"""Upper bound on waiting for the child's ``retry 2`` line (it normally comes within seconds)."""


def attempts(markers: Path) -> dict[int, int]:
    """Attempt number -> pid of the process that executed it (one marker per execution)."""
    found = {}
    for path in markers.glob("attempt.*"):
        _, number, pid = path.name.split(".")
        assert int(number) not in found, f"attempt {number} executed twice"
        found[int(number)] = int(pid)
    return found


def started_at(markers: Path, number: int) -> float:
    (path,) = markers.glob(f"attempt.{number}.*")
    return float(path.read_text())


def kill_during_backoff(url: str, markers: Path, workflow_id: str, *args: str) -> tuple[int, float]:
    """Start the program, SIGKILL it once attempt 2 failed (its backoff has begun); (pid, when)."""
    child = subprocess.Popen(
        [sys.executable, str(PROGRAM), url, str(markers), workflow_id, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    lines: queue.Queue[str] = queue.Queue()
    assert child.stdout is not None
    stdout = child.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        while (line := lines.get(timeout=WAIT_SECONDS).strip()) != "retry 2":
            assert line == "retry 1", line
    finally:
        child.send_signal(signal.SIGKILL)
        killed_at = time.time()
        child.wait(timeout=WAIT_SECONDS)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    return child.pid, killed_at


def report(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_a_run_killed_during_a_backoff_resumes_at_the_next_attempt(
    tmp_path: Path, run_program: Any
) -> None:
    """Killed after attempt 2 of a node failing 3 times: the restart runs attempts 3 and 4 only."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    first_pid, killed_at = kill_during_backoff(url, tmp_path, "flaky-1", "3", "4")
    assert attempts(tmp_path) == {1: first_pid, 2: first_pid}

    second = run_program("flaky_retry.py", url, str(tmp_path), "flaky-1", "3", "4")
    assert second.returncode == 0, second.stderr
    outcome = report(second.stdout)
    assert outcome["reply"] == "reply to hi"
    executed = attempts(tmp_path)
    second_pid = executed[3]
    assert second_pid != first_pid
    assert executed == {1: first_pid, 2: first_pid, 3: second_pid, 4: second_pid}
    recorded = outcome["recorded"]
    assert [r["attempt"] for r in recorded] == [1, 2, 3]  # counted on from 3, not from 1
    assert [r["text"] for r in recorded] == [
        f"ConnectionError: flaky failure {n} in pid {pid}"
        for n, pid in ((1, first_pid), (2, first_pid), (3, second_pid))
    ]
    backoff = recorded[1]
    assert 1.5 <= backoff["delay"] <= 3.0  # jittered once, then kept
    assert killed_at < backoff["wake"]  # the crash came in the middle of that backoff
    assert started_at(tmp_path, 3) >= backoff["wake"]  # the restart waited out what was left
    assert started_at(tmp_path, 4) >= recorded[2]["wake"]


def test_the_final_failure_after_a_crash_is_the_nodes_error_with_a_note_per_attempt(
    tmp_path: Path, run_program: Any
) -> None:
    """max_attempts=3, always failing, killed after attempt 2: the restart runs attempt 3 only."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    first_pid, _ = kill_during_backoff(url, tmp_path, "flaky-2", "99", "3")

    second = run_program("flaky_retry.py", url, str(tmp_path), "flaky-2", "99", "3")
    assert second.returncode == 0, second.stderr
    outcome = report(second.stdout)
    executed = attempts(tmp_path)
    assert sorted(executed) == [1, 2, 3]
    second_pid = executed[3]
    assert outcome["error"] == "ConnectionError"  # the node's own type, not DBOSMaxStepRetriesExceeded
    assert outcome["notes"][:4] == [
        "hypergraph: node 'call_api' failed on attempt 3 of 3 (max_attempts reached); every attempt:",
        f"  attempt 1: ConnectionError: flaky failure 1 in pid {first_pid}",
        f"  attempt 2: ConnectionError: flaky failure 2 in pid {first_pid}",
        f"  attempt 3: ConnectionError: flaky failure 3 in pid {second_pid}",
    ]


def test_a_restart_under_a_smaller_max_attempts_calls_the_node_no_more(
    tmp_path: Path, run_program: Any
) -> None:
    """Two attempts recorded, restarted with max_attempts=2: the node is not called again."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    first_pid, _ = kill_during_backoff(url, tmp_path, "flaky-3", "99", "4")

    second = run_program("flaky_retry.py", url, str(tmp_path), "flaky-3", "99", "2")
    assert second.returncode == 0, second.stderr
    outcome = report(second.stdout)
    assert attempts(tmp_path) == {1: first_pid, 2: first_pid}
    assert outcome["error"] == "ConnectionError"
    assert outcome["notes"][:3] == [
        "hypergraph: node 'call_api' failed on attempt 2 of 2 (max_attempts reached); every attempt:",
        f"  attempt 1: ConnectionError: flaky failure 1 in pid {first_pid}",
        f"  attempt 2: ConnectionError: flaky failure 2 in pid {first_pid}",
    ]


class Fatal(Exception):
    """An error a retry_on predicate refuses to retry."""


def test_a_retry_on_predicate_decides_under_the_durable_runner(tmp_path: Path) -> None:
    """Retried while the predicate says so; the first refused failure ends the node at once."""
    from dbos import DBOS

    calls: list[int] = []

    def transient(error: BaseException) -> bool:
        return "try again" in str(error)

    @node(output_name="y", retry=RetryPolicy(max_attempts=5, initial_delay=0, retry_on=transient))
    async def fetch(x: int) -> int:
        calls.append(x)
        raise (ValueError("try again") if len(calls) < 3 else Fatal("gave up"))

    async def scenario() -> tuple[Any, Any]:
        with pytest.raises(Fatal) as caught:
            await DBOSAsyncRunner().run(Graph([fetch]), {"x": 1}, workflow_id="predicate-1")
        recorded = await DBOS.get_event_async("predicate-1", "hypergraph.attempts:1", 0)
        return caught.value, recorded

    error, recorded = asyncio.run(scenario())
    assert len(calls) == 3
    assert [r["attempt"] for r in recorded] == [1, 2]
    assert error.__notes__[0] == (
        "hypergraph: node 'fetch' failed on attempt 3 of 5 (not covered by retry_on); every attempt:"
    )


def test_a_node_without_a_policy_is_one_step_and_records_no_attempts() -> None:
    """No policy, no extra work: one step for the node, no attempts event, even when it fails."""
    from dbos import DBOS

    @node(output_name="y")
    async def plain(x: int) -> int:
        raise ConnectionError("once")

    async def scenario() -> tuple[Any, Any]:
        with pytest.raises(ConnectionError):
            await DBOSAsyncRunner().run(Graph([plain]), {"x": 1}, workflow_id="plain-1")
        steps = await DBOS.list_workflow_steps_async("plain-1")
        return steps, await DBOS.get_all_events_async("plain-1")

    steps, events = asyncio.run(scenario())
    assert [s["function_name"] for s in steps] == ["plain@0.1"]
    assert not [key for key in events if key.startswith("hypergraph.attempts:")]


class Locked(Exception):
    """An exception pickle cannot store (it holds a lock)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def test_a_retried_exception_pickle_cannot_store_fails_the_run_naming_it_with_its_notes() -> None:
    """An unpicklable node error is retried; the run's error names it (not DBOS's pickling error)."""
    calls: list[int] = []

    @node(output_name="y", retry=RetryPolicy(max_attempts=2, initial_delay=0))
    async def fragile(x: int) -> int:
        calls.append(x)
        raise Locked(f"attempt {len(calls)}")

    with pytest.raises(RuntimeError) as caught:
        asyncio.run(DBOSAsyncRunner().run(Graph([fragile]), {"x": 1}, workflow_id="locked-1"))
    assert len(calls) == 2
    assert str(caught.value) == "Locked: attempt 2"
    assert caught.value.__notes__[1:3] == ["  attempt 1: Locked: attempt 1", "  attempt 2: Locked: attempt 2"]


def test_each_attempt_has_its_own_timeout_and_the_last_is_raised_as_node_timeout_error() -> None:
    """timeout= applies per attempt; the run raises NodeTimeoutError itself, notes included."""
    from dbos import DBOS

    from hypergraph.exceptions import NodeTimeoutError

    calls: list[int] = []

    @node(
        output_name="y", timeout=0.05,
        retry=RetryPolicy(max_attempts=2, initial_delay=0, retry_on=(TimeoutError,)),
    )
    async def hang(x: int) -> int:
        calls.append(x)
        await asyncio.Event().wait()  # never set: only the timeout ends an attempt
        return x

    async def scenario() -> tuple[Any, Any]:
        with pytest.raises(NodeTimeoutError) as caught:
            await DBOSAsyncRunner().run(Graph([hang]), {"x": 1}, workflow_id="hang-1")
        recorded = await DBOS.get_event_async("hang-1", "hypergraph.attempts:1", 0)
        return caught.value, recorded

    error, recorded = asyncio.run(scenario())
    assert len(calls) == 2
    assert error.node_name == "hang"
    assert [r["attempt"] for r in recorded] == [1]
    assert error.__notes__[1:3] == [f"  attempt {n}: NodeTimeoutError: {error}" for n in (1, 2)]


def test_concurrent_siblings_record_their_attempts_apart_under_max_concurrency() -> None:
    """Two retried siblings, one slot: each records its own attempts, and both complete."""
    from dbos import DBOS

    calls: dict[str, int] = {"left": 0, "right": 0}
    policy = RetryPolicy(max_attempts=3, initial_delay=0, jitter=False)

    def flaky(name: str, fails: int) -> Any:
        async def call(x: int) -> int:
            calls[name] += 1
            if calls[name] <= fails:
                raise ConnectionError(f"{name} failure {calls[name]}")
            return x

        return node(output_name=name, retry=policy)(call).with_name(name)

    graph = Graph([flaky("left", 1), flaky("right", 2)])

    async def scenario() -> tuple[Any, dict[str, Any]]:
        result = await DBOSAsyncRunner().run(
            graph, {"x": 1}, workflow_id="siblings-1", max_concurrency=1
        )
        return result, await DBOS.get_all_events_async("siblings-1")

    result, events = asyncio.run(scenario())
    assert (result["left"], result["right"]) == (1, 1)
    recorded = sorted(
        [r["text"] for r in records] for key, records in events.items()
        if key.startswith("hypergraph.attempts:")
    )
    assert recorded == [
        ["ConnectionError: left failure 1"],
        ["ConnectionError: right failure 1", "ConnectionError: right failure 2"],
    ]
