"""Tests of the example third-party plugin; they run only where ``hypergraph-echo`` is installed."""

import pytest

pytest.importorskip("hypergraph_echo")
