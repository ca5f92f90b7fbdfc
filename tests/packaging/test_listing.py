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
    ]
    core = next(line for line in lines if line.startswith("hypergraph-core"))
    assert core.split()[3:] == ["SyncRunner", "runner", "supports_cycles,", "supports_gates"]
    assert any(line.startswith("hypergraph-echo") and "ThreadPoolRunner" in line for line in lines)
    assert any(line.split()[:2] == ["EchoCache", "cache"] for line in lines)


def test_cli_without_a_command_prints_usage_and_exits_2(run_python):
    """``python -m hypergraph`` with no command prints the usage to stderr and exits with status 2."""
    done = run_python("", args=("-m", "hypergraph"))
    assert done.returncode == 2
    assert done.stderr.startswith("usage: python -m hypergraph <command>")


def test_cli_rejects_unknown_commands(run_python):
    """An unknown command is a usage error (exit status 2), not a silent success."""
    done = run_python("", args=("-m", "hypergraph", "plugin"))
    assert done.returncode == 2
