"""MkDocs hooks for the documentation site (mkdocs.yml: ``hooks``).

The docstrings use Sphinx roles (``:class:`RunResult```), which Markdown renders as the role's
name followed by inline code. The API pages show just the code.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:py:)?(?:class|meth|attr|func|mod|exc|data|obj):(?=<code>)")


def on_page_content(html: str, **_: Any) -> str:
    """Drop Sphinx role prefixes left in front of inline code."""
    return _ROLE.sub("", html)
