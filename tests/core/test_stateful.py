"""`hypergraph.stateful` is a core marker: no Daft needed, a plain value for core runners."""

from __future__ import annotations

import pytest

from hypergraph import Graph, SyncRunner, node, stateful
from hypergraph.stateful import is_stateful


@stateful
class Connection:
    """A resource a columnar runner would rebuild per worker."""

    opened = 0

    def __init__(self, url: str = "sqlite://") -> None:
        type(self).opened += 1
        self.url = url


def test_stateful_marks_the_class_and_returns_it_unchanged() -> None:
    """The decorator returns the same class; its instances, not the class, count as stateful."""
    assert Connection.__name__ == "Connection"
    assert is_stateful(Connection()) is True
    assert is_stateful(Connection) is False
    assert is_stateful(object()) is False


def test_sync_runner_passes_the_very_instance_along() -> None:
    """SyncRunner treats a stateful instance as any value: same object, nothing rebuilt."""
    conn = Connection()
    before = Connection.opened

    @node(output_name="url")
    def use(conn: Connection) -> str:
        assert conn is given
        return conn.url

    given = conn
    assert SyncRunner().run(Graph([use]), {"conn": conn})["url"] == "sqlite://"
    assert Connection.opened == before


def test_classes_that_need_arguments_are_refused_with_their_names() -> None:
    """Workers rebuild with cls(), so required constructor arguments are a TypeError."""
    with pytest.raises(TypeError, match=r"'NeedsPath' needs arguments \['path'\]"):

        @stateful
        class NeedsPath:
            def __init__(self, path: str) -> None:
                self.path = path


def test_only_classes_can_be_stateful() -> None:
    """Decorating a function is a TypeError naming what was given."""
    with pytest.raises(TypeError, match="decorates classes"):
        stateful(len)  # type: ignore[type-var]


def test_a_node_pickles_after_its_cache_state_was_read() -> None:
    """A node's pickled state leaves out its built cache state reader (rebuilt on first use)."""
    from hypergraph import InMemoryCache

    @node(output_name="y", cache=True)
    def square(x: int) -> int:
        return x * x

    SyncRunner(cache=InMemoryCache()).run(Graph([square]), {"x": 3})
    assert "_state_reader" in vars(square)  # built by the cache lookup
    state = square.__getstate__()
    assert "_state_reader" not in state
    assert state["func"] is square.func
