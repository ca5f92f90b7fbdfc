"""hypergraph-daft registers DaftRunner without importing daft, and resolves it from hypergraph."""

from __future__ import annotations

import subprocess
import sys

from hypergraph.plugins import list_plugins


def test_registering_the_plugin_imports_neither_daft_nor_ray() -> None:
    """Loading the entry point and listing plugins keeps daft and ray out of sys.modules (PL1)."""
    code = (
        "import sys, hypergraph_daft.plugin\n"
        "from hypergraph.plugins import list_plugins\n"
        "list_plugins()\n"
        "print(sorted(m for m in ('daft', 'ray') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_daft_runner_is_listed_with_its_capabilities() -> None:
    """list_plugins() shows hypergraph-daft registering DaftRunner as a distributed runner."""
    registrations = [
        r for p in list_plugins() if p.distribution == "hypergraph-daft" for r in p.registrations
    ]
    assert [r.name for r in registrations] == ["DaftRunner"]
    caps = registrations[0].capabilities
    assert caps is not None and caps.supports_distributed and not caps.supports_cycles


def test_from_hypergraph_import_daft_runner_gives_the_plugin_class() -> None:
    """The lazy export resolves to hypergraph_daft's runner."""
    from hypergraph import DaftRunner
    from hypergraph_daft.runner import DaftRunner as Direct

    assert DaftRunner is Direct
