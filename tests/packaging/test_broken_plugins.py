"""One broken third-party plugin does not take down the others (SystemExit, bad metadata)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypergraph.exceptions import PluginLoadError

LOOKUPS = """
from hypergraph.plugins import list_plugins
import hypergraph
print(hypergraph.AsyncRunner.__name__)
print(hypergraph.DiskCache.__name__)
print(sorted(p.distribution for p in list_plugins() if p.error is not None))
"""


def test_a_plugin_raising_system_exit_at_import_is_recorded_as_its_failure(
    run_python, fake_distribution
):
    """SystemExit in a plugin module fails that plugin only; AsyncRunner and DiskCache resolve."""
    path = fake_distribution("exiting", "exiting", "raise SystemExit(3)\n")
    done = run_python(LOOKUPS, path=path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["AsyncRunner", "DiskCache", "['exiting']"]


def test_a_plugin_raising_system_exit_in_a_hook_is_recorded_as_its_failure(
    run_python, fake_distribution
):
    """SystemExit raised inside a registration hook is that plugin's load failure."""
    source = """
    from hypergraph.plugins import hookimpl

    @hookimpl
    def hypergraph_register_cache_backends(register):
        raise SystemExit("bye")
    """
    path = fake_distribution("hook-exit", "hook_exit", source)
    done = run_python(LOOKUPS, path=path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["AsyncRunner", "DiskCache", "['hook-exit']"]


def test_a_keyboard_interrupt_while_loading_propagates_once_and_is_not_cached(
    run_python, fake_distribution, tmp_path
):
    """A real KeyboardInterrupt reaches the caller; the next lookup loads the plugin afresh."""
    marker = tmp_path / "interrupted-once"
    source = f"""
    import pathlib
    marker = pathlib.Path({str(marker)!r})
    if not marker.exists():
        marker.write_text("x")
        raise KeyboardInterrupt
    """
    path = fake_distribution("ctrl-c", "ctrl_c", source)
    done = run_python(
        """
        import hypergraph
        from hypergraph.plugins import list_plugins
        try:
            hypergraph.AsyncRunner
        except KeyboardInterrupt:
            print("interrupted")
        print(hypergraph.AsyncRunner.__name__)
        print([(p.distribution, p.error) for p in list_plugins() if p.distribution == "ctrl-c"])
        """,
        path=path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["interrupted", "AsyncRunner", "[('ctrl-c', None)]"]


def _dist_info_without_metadata(root: Path, with_metadata: str | None) -> Path:
    dist_info = root / "nometa-1.0.dist-info"
    dist_info.mkdir()
    if with_metadata is not None:
        (dist_info / "METADATA").write_text(with_metadata)
    (dist_info / "entry_points.txt").write_text("[hypergraph]\nnometa = nometa_plugin\n")
    (root / "nometa_plugin.py").write_text("")
    return root


@pytest.mark.parametrize("env", [{}, {"HYPERGRAPH_PLUGINS": "nometa,async"}])
def test_a_dist_info_without_metadata_does_not_break_lookups(run_python, tmp_path, env):
    """list_plugins() and lookups work, with or without HYPERGRAPH_PLUGINS set."""
    path = _dist_info_without_metadata(tmp_path, None)
    done = run_python(
        """
        import hypergraph
        from hypergraph.plugins import list_plugins
        print(hypergraph.AsyncRunner.__name__)
        print("unknown" in [p.distribution for p in list_plugins()])
        """,
        path=path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["AsyncRunner", "True"]


def test_metadata_without_a_version_does_not_crash_the_plugins_command(run_python, tmp_path):
    """python -m hypergraph plugins lists a distribution whose METADATA has no Version."""
    path = _dist_info_without_metadata(tmp_path, "Metadata-Version: 2.1\nName: nometa\n")
    done = run_python("", path=path, args=("-m", "hypergraph", "plugins"))
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("nometa"))
    assert "unknown" in row


def test_with_autoload_disabled_the_error_says_so(run_python):
    """AsyncRunner with HYPERGRAPH_DISABLE_PLUGIN_AUTOLOAD=1 says autoload is disabled."""
    done = run_python(
        """
        import hypergraph
        try:
            hypergraph.AsyncRunner
        except ImportError as error:
            print(type(error).__name__, error)
        """,
        env={"HYPERGRAPH_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "autoloading is disabled" in done.stdout
    assert "not installed" not in done.stdout


def test_plugin_load_error_is_an_import_error():
    """Callers catching ImportError for optional plugins keep working."""
    assert issubclass(PluginLoadError, ImportError)


