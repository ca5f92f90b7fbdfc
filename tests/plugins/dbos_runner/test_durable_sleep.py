"""DB6: ``durable_sleep`` keeps its wake-up time across a crash; a restart waits only what is left."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hypergraph import AsyncRunner, Graph, node
from hypergraph_dbos import durable_sleep

PROGRAM = Path(__file__).resolve().parent / "programs" / "sleeper.py"


def report(line: str) -> dict[str, float]:
    return {k: float(v) for k, v in (part.split("=") for part in line.split())}


def test_a_restart_during_a_durable_sleep_waits_only_the_remaining_time(
    tmp_path: Path, run_program: Any
) -> None:
    """Killed 2.5 s into a 4 s sleep, the restarted run wakes at the first run's wake-up time."""
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    first = subprocess.Popen(
        [sys.executable, str(PROGRAM), url, "sleep-1"], stdout=subprocess.PIPE, text=True,
        env=dict(os.environ),
    )
    assert first.stdout is not None
    line = first.stdout.readline()  # blocks until the wake-up time is recorded
    assert line.startswith("sleeping="), line
    recorded_wake = float(line.strip().removeprefix("sleeping="))
    try:  # the run is asleep: this times out 2.5 s into the 4 s sleep
        first.wait(timeout=max(0.0, recorded_wake - 1.5 - time.time()))
    except subprocess.TimeoutExpired:
        first.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    killed_at = time.time()
    assert recorded_wake - killed_at > 0.5  # the crash really happened mid-sleep

    second = run_program("sleeper.py", url, "sleep-1")
    assert second.returncode == 0, second.stderr
    final = report(second.stdout.splitlines()[-1])
    assert final["wake"] == recorded_wake  # the same wake-up time, not a fresh 4 s
    assert final["woke"] >= recorded_wake
    assert final["woke"] - final["entered"] < 4.0 - 1.0  # the node re-entered and slept < 3 s


def test_durable_sleep_is_a_plain_sleep_under_asyncrunner() -> None:
    """Outside a durable run it sleeps and returns the wake-up time."""

    @node(output_name="wake")
    async def nap(seconds: float) -> float:
        return await durable_sleep(seconds)

    before = time.time()
    result = asyncio.run(AsyncRunner().run(Graph([nap]), {"seconds": 0.01}))
    assert result.values["wake"] >= before
