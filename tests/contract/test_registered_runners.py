"""Every runner registered through the plugin registry honours the runner contract (DESIGN §6).

New runner packages are picked up automatically: installing one adds it to this suite.
"""

from __future__ import annotations

from typing import Any

import pytest

from hypergraph.plugins import list_plugins, resolve_export
from hypergraph.testing import RunnerContract

RUNNERS = sorted(
    registration.name
    for plugin in list_plugins()
    for registration in plugin.registrations
    if registration.kind == "runner"
)


def test_the_workspace_registers_its_runners() -> None:
    """The built-in, async and example third-party runners are all registered."""
    assert {"SyncRunner", "AsyncRunner", "ThreadPoolRunner"} <= set(RUNNERS)


class TestEveryRegisteredRunner(RunnerContract):
    @pytest.fixture(params=RUNNERS)
    def runner(self, request: pytest.FixtureRequest) -> Any:
        return resolve_export(request.param, "hypergraph")()
