"""DiskCache keeps results of functions with the same code but different state apart, across processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

_SCRIPT = """
import sys
from hypergraph import FunctionNode, Graph, SyncRunner
from hypergraph import DiskCache

def make_scaler(factor):
    def scale(x):
        return x * factor
    return FunctionNode(scale, output_name="y", cache=True)

runner = SyncRunner(cache=DiskCache(sys.argv[1]))
print(runner.run(Graph([make_scaler(int(sys.argv[2]))]), {"x": 5})["y"])
"""


def test_disk_cache_keeps_closures_apart_across_processes(tmp_path: Path) -> None:
    """Two processes using scalers with different factors each get their own result."""
    script = tmp_path / "scale.py"
    script.write_text(textwrap.dedent(_SCRIPT))
    folder = tmp_path / "cache"
    outputs = [
        subprocess.run(
            [sys.executable, str(script), str(folder), factor],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        for factor in ("2", "3", "2")
    ]
    assert outputs == ["10", "15", "10"]


