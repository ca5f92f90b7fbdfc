"""Pictures of a graph: Mermaid and DOT text with no dependency, SVG through Graphviz.

Run it with:  uv run --all-packages python examples/pictures.py [OUTPUT.svg]

Draws the quickstart's retrieval pipeline: the nested `retrieval` graph as a box, data edges
labelled with the values they carry, the gate's decisions as dashed arrows (END included), and
the inputs. The same picture comes from the command line:

    uv run --all-packages python -m hypergraph show examples.quickstart:rag --format svg -o rag.svg
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from quickstart import rag

from hypergraph import MissingGraphvizError


def main() -> None:
    print(rag.to_mermaid())  # paste into a ```mermaid block in Markdown
    print(rag.select("best_doc").to_mermaid(depth=0))  # nested graph closed; unneeded nodes faded
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "rag.svg"
    try:
        written = rag.visualize(target)
    except MissingGraphvizError as exc:  # no Graphviz: the text formats above still work
        print(f"no picture: {exc}")
        return
    print(f"wrote {written} ({written.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
