"""Every Python block on every documentation page runs, and shown output is the real output.

The pages under ``docs/`` are read like notebooks: the ``python`` blocks of one page run in order,
in one fresh module namespace, inside a temporary working directory. An HTML comment on the line
right before a fence (invisible on the rendered site) changes how the block is treated:

- ``<!-- docs-test: skip: <reason> -->`` — not run; the reason is required (a feature that is
  documented before it lands, or a fragment that needs the reader's own services);
- ``<!-- docs-test: stdout -->`` before a ``text`` block — it must equal what the previous Python
  block printed;
- ``<!-- docs-test: pytest -->`` before a ``python`` block — the block is a test module: it is
  written to a file and run by pytest in a fresh interpreter, which must pass.

Blocks in other languages (``bash``, ``toml``, ``text``) are not executed. The first word of a
fence's info string is its language; the rest (``title="Output"``) is for the site's renderer.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))

_FENCE = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<kind>[a-z]+)(?::\s*(?P<reason>.*?))?\s*-->\s*$")
_PYTHON = frozenset({"python", "py", "python3"})
_MARKERS = frozenset({"skip", "stdout", "pytest"})


@attrs.frozen
class Block:
    """One fenced code block of a page: its language, text, first line number and marker."""

    language: str
    code: str
    line: int
    marker: str | None = None
    reason: str | None = None


class PageError(AssertionError):
    """A page's block failed, or a page breaks the conventions above."""


def parse_blocks(text: str, source: str = "<page>") -> list[Block]:
    """The fenced blocks of a Markdown text, in order, with the marker right before each."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening or not opening["info"].strip():
            i += 1
            continue
        language = opening["info"].strip().split()[0].lstrip("{.").rstrip("}").lower()
        indent, ticks = len(opening["indent"]), opening["ticks"]
        marker = reason = None
        previous = lines[i - 1] if i else ""
        found = _MARKER.match(previous)
        if found:
            marker, reason = found["kind"], found["reason"]
            if marker not in _MARKERS:
                raise PageError(f"{source}:{i}: unknown docs-test marker {marker!r}")
            if marker == "skip" and not reason:
                raise PageError(f"{source}:{i}: `docs-test: skip` needs a reason after a colon")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != ticks:
            line = lines[j]
            body.append(line[indent:] if len(line) - len(line.lstrip(" ")) >= indent else line.lstrip())
            j += 1
        if j == len(lines):
            raise PageError(f"{source}:{i + 1}: code fence is never closed")
        blocks.append(Block(language, "\n".join(body) + "\n", i + 2, marker, reason))
        i = j + 1
    return blocks


@contextlib.contextmanager
def _page_module(name: str) -> Iterator[types.ModuleType]:
    """A real, importable module for a page's code (pickle, attrs and dataclasses look it up)."""
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    sys.modules[name] = module
    try:
        yield module
    finally:
        del sys.modules[name]


def run_page(text: str, source: str, workdir: Path) -> int:
    """Run a page's blocks as described in the module docstring; return how many ran."""
    blocks = parse_blocks(text, source)
    ran, last_stdout = 0, None
    module_name = "docs_" + re.sub(r"\W", "_", Path(source).stem)
    previous_cwd = Path.cwd()
    os.chdir(workdir)
    try:
        with _page_module(module_name) as module:
            for number, block in enumerate(blocks):
                where = f"{source}:{block.line}"
                if block.marker == "stdout":
                    if block.language == "python" or last_stdout is None:
                        raise PageError(f"{where}: `docs-test: stdout` must follow a Python block")
                    if _normalized(block.code) != _normalized(last_stdout):
                        raise PageError(
                            f"{where}: the page shows\n{block.code}\nbut the block printed\n"
                            f"{last_stdout}"
                        )
                    continue
                if block.language not in _PYTHON or block.marker == "skip":
                    last_stdout = None  # a `stdout` block shows the output of the block above it
                    continue
                if block.marker == "pytest":
                    _run_as_pytest(block, where, workdir / f"test_block_{number}.py")
                    last_stdout = None
                else:
                    last_stdout = _exec_block(block, where, module)
                ran += 1
    finally:
        os.chdir(previous_cwd)
    return ran


def _exec_block(block: Block, where: str, module: types.ModuleType) -> str:
    """Execute one block in the page's module; return what it printed."""
    # Line numbers in tracebacks point into the page.
    code = compile("\n" * (block.line - 1) + block.code, where.rsplit(":", 1)[0], "exec")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(code, module.__dict__)
    except Exception as exc:
        raise PageError(f"{where}: block raised {type(exc).__name__}: {exc}") from exc
    return out.getvalue()


def _run_as_pytest(block: Block, where: str, path: Path) -> None:
    """Write a test-module block to ``path`` and run pytest on it in a fresh interpreter."""
    path.write_text(block.code)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
        capture_output=True, text=True, timeout=300, check=False, cwd=path.parent,
    )
    if done.returncode != 0:
        raise PageError(f"{where}: the test module failed:\n{done.stdout}\n{done.stderr}")


def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


class _MkdocsLoader(yaml.SafeLoader):
    """mkdocs.yml names Python objects (``!!python/name:``); the nav test only needs the text."""


_MkdocsLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def _nav_pages(nav: object) -> Iterator[str]:
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from _nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _nav_pages(value)


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_code_blocks_run(page: Path, tmp_path: Path) -> None:
    """Each page's Python blocks run in order without error and shown output matches."""
    run_page(page.read_text(), str(page.relative_to(ROOT)), tmp_path)


def test_every_page_is_in_the_site_navigation() -> None:
    """Every Markdown file under docs/ is reachable from the nav in mkdocs.yml, and vice versa."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_MkdocsLoader)
    in_nav = set(_nav_pages(config["nav"]))
    on_disk = {str(p.relative_to(DOCS)) for p in PAGES}
    assert on_disk - in_nav == set(), "pages missing from mkdocs.yml nav"
    assert in_nav - on_disk == set(), "nav entries without a page"


def test_skipped_blocks_sit_on_pages_marked_as_previews() -> None:
    """A block that is not run is on a page that says so, so readers know it is unverified."""
    for page in PAGES:
        text = page.read_text()
        if any(block.marker == "skip" for block in parse_blocks(text, str(page))):
            assert '!!! note "Preview"' in text, f"{page.relative_to(ROOT)} skips a block"


def test_readme_links_into_the_docs_resolve() -> None:
    """Every relative link in README.md points at a file that exists, and some point into docs/."""
    readme = (ROOT / "README.md").read_text()
    targets = [t for t in re.findall(r"\]\(([^)#\s]+)", readme) if "://" not in t]
    assert any(t.startswith("docs/") for t in targets)
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert missing == []


def test_package_readmes_use_no_relative_links() -> None:
    """Package READMEs are shown on package pages, where a relative link leads nowhere."""
    for readme in ROOT.glob("packages/*/README.md"):
        links = re.findall(r"\]\(([^)\s]+)", readme.read_text())
        relative = [link for link in links if "://" not in link and not link.startswith("#")]
        assert relative == [], f"{readme.relative_to(ROOT)} has relative links {relative}"


# --- the collector itself -----------------------------------------------------------------------


def _page(*parts: str) -> str:
    return textwrap.dedent("\n".join(parts))


def test_blocks_of_one_page_share_their_names(tmp_path: Path) -> None:
    """A name defined in one block is visible in the next block of the same page."""
    text = _page("```python", "x = 20", "```", "", "```python", "assert x + 1 == 21", "```")
    assert run_page(text, "docs/shared.md", tmp_path) == 2


def test_a_failing_block_fails_its_page(tmp_path: Path) -> None:
    """An exception in a block fails the page and names the page and line."""
    text = _page("intro", "```python", "1 / 0", "```")
    with pytest.raises(PageError, match=r"docs/broken\.md:3: block raised ZeroDivisionError"):
        run_page(text, "docs/broken.md", tmp_path)


def test_shown_output_must_equal_printed_output(tmp_path: Path) -> None:
    """A `stdout` block that differs from what the previous block printed fails the page."""
    text = _page(
        "```python", "print(2 * 21)", "```", "<!-- docs-test: stdout -->", "```text", "41", "```"
    )
    with pytest.raises(PageError, match="but the block printed"):
        run_page(text, "docs/out.md", tmp_path)


def test_skip_needs_a_reason_and_skipped_blocks_do_not_run(tmp_path: Path) -> None:
    """A skipped block is not executed, and a skip marker without a reason is refused."""
    skipped = _page("<!-- docs-test: skip: lands later -->", "```python", "1 / 0", "```")
    assert run_page(skipped, "docs/later.md", tmp_path) == 0
    with pytest.raises(PageError, match="needs a reason"):
        parse_blocks(_page("<!-- docs-test: skip -->", "```python", "pass", "```"))


def test_a_pytest_block_runs_as_a_test_module(tmp_path: Path) -> None:
    """A `pytest` block is run by pytest, and a failing test in it fails the page."""
    text = _page("<!-- docs-test: pytest -->", "```python", "def test_x():", "    assert False", "```")
    with pytest.raises(PageError, match="the test module failed"):
        run_page(text, "docs/contract.md", tmp_path)
