"""Conformance suites a plugin runs in its own CI (needs pytest).

- :class:`RunnerContract`: what every runner must do (or explicitly reject).
- :class:`CacheContract`: what every cache backend must do.
- :class:`CheckpointerContract`: what every checkpointer must do;
  :class:`PersistentCheckpointerContract` adds what a store on disk (or a server) must do.
"""

from hypergraph.testing.cache_contract import CacheContract
from hypergraph.testing.checkpointer_contract import (
    CheckpointerContract,
    PersistentCheckpointerContract,
)
from hypergraph.testing.runner_contract import RunnerContract

__all__ = [
    "CacheContract",
    "CheckpointerContract",
    "PersistentCheckpointerContract",
    "RunnerContract",
]
