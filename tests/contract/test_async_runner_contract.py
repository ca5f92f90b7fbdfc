"""AsyncRunner honours the runner contract shipped in hypergraph.testing."""

import pytest

from hypergraph import AsyncRunner
from hypergraph.testing import RunnerContract


class TestAsyncRunnerContract(RunnerContract):
    @pytest.fixture
    def runner(self) -> AsyncRunner:
        return AsyncRunner()
