"""Every checkpointer we ship honours the contract in ``hypergraph.testing``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hypergraph.checkpointers import InMemoryCheckpointer, SqliteCheckpointer
from hypergraph.testing import CheckpointerContract, PersistentCheckpointerContract


class TestInMemoryCheckpointerContract(CheckpointerContract):
    @pytest.fixture
    def checkpointer(self) -> InMemoryCheckpointer:
        return InMemoryCheckpointer()


class TestSqliteMemoryCheckpointerContract(CheckpointerContract):
    @pytest.fixture
    def checkpointer(self) -> Iterator[SqliteCheckpointer]:
        cp = SqliteCheckpointer(":memory:")
        yield cp
        cp.close()


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
class TestSqliteFileCheckpointerContract(PersistentCheckpointerContract):
    @pytest.fixture
    def checkpointer(self, tmp_path: Path, durability: str) -> Iterator[SqliteCheckpointer]:
        cp = SqliteCheckpointer(tmp_path / "runs.db", durability=durability)  # type: ignore[arg-type]
        yield cp
        cp.close()

    @pytest.fixture
    def keeps_every_superstep(self, durability: str) -> bool:
        return durability != "exit"

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[Any], SqliteCheckpointer]:
        return lambda closed: SqliteCheckpointer(tmp_path / "runs.db")


class TestSqlitePickleCheckpointerContract(CheckpointerContract):
    @pytest.fixture
    def checkpointer(self, tmp_path: Path) -> Iterator[SqliteCheckpointer]:
        cp = SqliteCheckpointer(tmp_path / "runs.db", serializer="pickle")
        yield cp
        cp.close()
