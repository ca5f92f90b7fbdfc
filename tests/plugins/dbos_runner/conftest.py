"""Helpers for DBOSAsyncRunner tests: child programs run with this interpreter, marker files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).resolve().parent / "programs"

RunProgram = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_program() -> RunProgram:
    """Run ``programs/<name>`` in a fresh interpreter, returning the finished process."""

    def run(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, str(PROGRAMS / name), *args], capture_output=True, text=True,
            timeout=120, env=full_env, check=False,
        )

    return run


@pytest.fixture
def markers() -> Callable[[Path, str], list[int]]:
    """``markers(dir, name)``: pids of the processes in which node ``name`` ran, one per run."""

    def pids(directory: Path, name: str) -> list[int]:
        return sorted(int(p.suffix[1:]) for p in directory.glob(f"{name}.*"))

    return pids


POSTGRES_BIN = Path(os.environ.get("HYPERGRAPH_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its binaries as the ``postgres`` user when root."""
    if os.geteuid() != 0:
        return command
    import shlex

    return ["su", "postgres", "-c", shlex.join(command)]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL 15 cluster on loopback for this session; yields a database URL.

    CI (``.ci/run``) starts the cluster itself and names it in ``HYPERGRAPH_TEST_POSTGRES``;
    otherwise this fixture starts one for the session and stops it afterwards.
    """
    server = os.environ.get("HYPERGRAPH_TEST_POSTGRES")
    if server:
        yield f"{server.rstrip('/')}/hypergraph_map"
        return
    import shutil
    import socket
    import tempfile

    # outside pytest's per-user (root-only) temp tree: the postgres user must reach it
    root = Path(tempfile.mkdtemp(prefix="hypergraph-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = root / "data"
    subprocess.run(
        _as_postgres([str(POSTGRES_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True, capture_output=True, timeout=120,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        _as_postgres([
            str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
            "start", "-w",
        ]),
        check=True, capture_output=True, timeout=120,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/hypergraph_map"
    finally:
        subprocess.run(
            _as_postgres([str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate"]),
            capture_output=True, timeout=120, check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
