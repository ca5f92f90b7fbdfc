"""What ``list_plugins()`` and ``python -m hypergraph plugins`` report."""

from __future__ import annotations

from hypergraph.plugins import Registration, list_plugins
from hypergraph.runners.capabilities import RunnerCapabilities


def test_list_plugins_shows_core_with_sync_runner(fresh_registry):
    """hypergraph-core appears first, with its version, entry point and ``SyncRunner``'s capabilities."""
    core = list_plugins()[0]
    assert (core.distribution, core.entry_point, core.error) == ("hypergraph-core", "core", None)
    assert core.version
    assert core.registrations[0] == Registration(
        "SyncRunner", "runner", "hypergraph.runners.sync:SyncRunner", RunnerCapabilities()
    )


def test_list_plugins_shows_the_echo_plugin(fresh_registry):
    """The third-party hypergraph-echo lists ``ThreadPoolRunner`` (a runner) and ``EchoCache`` (a cache)."""
    echo = next(p for p in list_plugins() if p.distribution == "hypergraph-echo")
    assert echo.entry_point == "echo"
    assert [(r.name, r.kind, r.namespace) for r in echo.registrations] == [
        ("ThreadPoolRunner", "runner", "hypergraph"),
        ("EchoCache", "cache", "hypergraph"),
    ]


def test_cli_prints_the_plugin_table(run_python):
    """``python -m hypergraph plugins`` prints distribution, version, names, kinds and capabilities."""
    done = run_python("", args=("-m", "hypergraph", "plugins"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "distribution",
        "version",
        "entry",
        "point",
        "name",
        "kind",
        "capabilities",
        "status",
    ]
    core = next(line for line in lines if line.startswith("hypergraph-core"))
    assert core.split()[3:] == ["SyncRunner", "runner", "supports_cycles,", "supports_gates", "ok"]
    assert any(line.startswith("hypergraph-echo") and "ThreadPoolRunner" in line for line in lines)
    assert any(line.split()[:2] == ["EchoCache", "cache"] for line in lines)


def test_cli_without_a_command_prints_usage_and_exits_2(run_python):
    """``python -m hypergraph`` with no command prints the usage to stderr and exits with status 2."""
    done = run_python("", args=("-m", "hypergraph"))
    assert done.returncode == 2
    assert done.stderr.startswith("usage: python -m hypergraph <command>")


def test_cli_rejects_unknown_commands(run_python):
    """An unknown command is a usage error (exit 2) that suggests the closest and lists them all."""
    done = run_python("", args=("-m", "hypergraph", "plugin"))
    assert done.returncode == 2
    assert "unknown command 'plugin'. Did you mean 'plugins'? Commands: plugins, show, runs." in done.stderr
    assert "  show " in done.stderr


def test_cli_prints_its_version(run_python):
    """``--version`` prints the installed hypergraph-core version."""
    from importlib.metadata import version

    done = run_python("", args=("-m", "hypergraph", "--version"))
    assert (done.returncode, done.stdout) == (0, f"hypergraph-core {version('hypergraph-core')}\n")


def test_each_command_has_help(run_python):
    """``COMMAND --help`` prints that command's usage and options and exits 0."""
    for command, option in (("plugins", "-h, --help"), ("show", "--format")):
        done = run_python("", args=("-m", "hypergraph", command, "--help"))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"usage: python -m hypergraph {command}")
        assert option in done.stdout


def test_console_script_runs_the_same_cli():
    """The ``hypergraph`` console script is installed next to the interpreter and works."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "hypergraph"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: hypergraph <command>")


def _rows(stdout: str) -> dict[str, str]:
    """name -> status, read from the plugin table."""
    rows = {}
    for line in stdout.splitlines()[2:]:
        cells = [c for c in line.split("  ") if c.strip()]
        name = next(c.strip() for c in cells if c.strip()[:1].isupper())
        rows[name] = cells[-1].strip()
    return rows


def test_cli_lists_documented_plugins_that_are_not_installed(run_python):
    """Every documented plugin name is listed: imports fine, or says how to install it."""
    from importlib.metadata import PackageNotFoundError, distribution

    from hypergraph.plugins._known import KNOWN_EXPORTS

    done = run_python("", args=("-m", "hypergraph", "plugins"))
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    for known in KNOWN_EXPORTS:
        try:
            distribution(known.provider)
        except PackageNotFoundError:
            assert rows[known.name] == f"not installed: pip install {known.provider}"
        else:
            assert rows[known.name] == "ok" or rows[known.name].startswith("not provided by")


def test_cli_says_which_plugin_dependency_does_not_import(run_python):
    """Without rich, RichProgressProcessor is listed as needing it, with the install command."""
    done = run_python(
        "import sys; sys.modules['rich'] = None; from hypergraph.__main__ import main; "
        "sys.exit(main(['plugins']))"
    )
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert rows["RichProgressProcessor"] == 'needs rich: pip install "hypergraph-core[progress]"'
    assert rows["SyncRunner"] == "ok"


def test_cli_marks_installed_plugins_that_were_not_loaded(run_python):
    """With autoloading disabled, installed plugin names say they were not loaded."""
    done = run_python(
        "", env={"HYPERGRAPH_DISABLE_PLUGIN_AUTOLOAD": "1"}, args=("-m", "hypergraph", "plugins")
    )
    assert done.returncode == 0, done.stderr
    assert _rows(done.stdout)["AsyncRunner"] == "installed, not loaded (see HYPERGRAPH_PLUGINS)"
