"""hypergraph-echo: an example third-party plugin for hypergraph.

Use its names through hypergraph (``from hypergraph import ThreadPoolRunner, EchoCache``). This package
``__init__`` stays empty on purpose: hypergraph imports ``hypergraph_echo.plugin`` to *register*
the names, which imports this file first, and registering must not import the runner.
"""

__all__: list[str] = []
