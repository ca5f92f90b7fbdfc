"""Conformance suites a plugin runs in its own CI (needs pytest).

- :class:`RunnerContract`: what every runner must do (or explicitly reject).
"""

from hypergraph.testing.runner_contract import RunnerContract

__all__ = ["RunnerContract"]
