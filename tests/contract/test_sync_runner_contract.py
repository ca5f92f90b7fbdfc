"""SyncRunner honours the runner contract shipped in hypergraph.testing."""

import pytest

from hypergraph import SyncRunner
from hypergraph.testing import RunnerContract


class TestSyncRunnerContract(RunnerContract):
    @pytest.fixture
    def runner(self) -> SyncRunner:
        return SyncRunner()
