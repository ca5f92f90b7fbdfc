"""The HYPERGRAPH_* variables that make plugin problems reproducible."""

from __future__ import annotations


def test_disable_autoload_hides_third_party_plugins(run_python):
    """``HYPERGRAPH_DISABLE_PLUGIN_AUTOLOAD=1`` loads core's plugin only, so ``ThreadPoolRunner`` is unknown."""
    done = run_python(
        """
        from hypergraph.plugins import list_plugins, resolve_export
        print([p.distribution for p in list_plugins()])
        try:
            resolve_export("ThreadPoolRunner", "hypergraph")
        except AttributeError as error:
            print(error)
        """,
        env={"HYPERGRAPH_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.stdout.splitlines() == [
        "['hypergraph-core']",
        "module 'hypergraph' has no attribute 'ThreadPoolRunner'",
    ], done.stderr


def test_hypergraph_plugins_loads_the_named_entry_points(run_python):
    """``HYPERGRAPH_PLUGINS=echo`` loads the ``echo`` entry point (and core), so ``ThreadPoolRunner`` resolves."""
    done = run_python(
        """
        from hypergraph.plugins import list_plugins, resolve_export
        print([p.distribution for p in list_plugins()])
        print(resolve_export("ThreadPoolRunner", "hypergraph").__name__)
        """,
        env={"HYPERGRAPH_PLUGINS": "echo"},
    )
    assert done.stdout.splitlines() == ["['hypergraph-core', 'hypergraph-echo']", "ThreadPoolRunner"], (
        done.stderr
    )


def test_hypergraph_plugins_leaves_out_unnamed_entry_points(run_python, fake_distribution):
    """Entry points not named in ``HYPERGRAPH_PLUGINS`` are not imported at all."""
    path = fake_distribution("noisy", "noisy", "raise RuntimeError('must not be imported')\n")
    done = run_python(
        """
        from hypergraph.plugins import list_plugins
        print([p.distribution for p in list_plugins()])
        """,
        env={"HYPERGRAPH_PLUGINS": "echo"},
        path=path,
    )
    assert done.stdout.strip() == "['hypergraph-core', 'hypergraph-echo']"
    assert "must not be imported" not in done.stderr


def test_hypergraph_plugins_warns_about_unknown_names(run_python):
    """A name in ``HYPERGRAPH_PLUGINS`` that no installed entry point has is reported, not ignored."""
    done = run_python(
        "from hypergraph.plugins import list_plugins; list_plugins()",
        env={"HYPERGRAPH_PLUGINS": "echo,ecoh"},
    )
    assert "HYPERGRAPH_PLUGINS names 'ecoh'" in done.stderr


def test_trace_logs_every_entry_point_and_registration(run_python):
    """``HYPERGRAPH_TRACE_PLUGINS=1`` prints each entry point loaded and each name it registered."""
    done = run_python(
        "from hypergraph.plugins import list_plugins; list_plugins()",
        env={"HYPERGRAPH_TRACE_PLUGINS": "1"},
    )
    assert (
        "hypergraph.plugins: loading entry point 'core' = hypergraph._builtin_plugin" in done.stderr
    )
    assert "hypergraph.plugins: loading entry point 'echo' = hypergraph_echo.plugin" in done.stderr
    assert "registered runner ThreadPoolRunner -> hypergraph_echo.threads:ThreadPoolRunner" in done.stderr
    assert "registered cache EchoCache -> hypergraph_echo.cache:EchoCache" in done.stderr


def test_trace_goes_to_the_hypergraph_plugins_logger(fresh_registry, monkeypatch, caplog):
    """Trace lines are ordinary log records of the ``hypergraph.plugins`` logger."""
    from hypergraph.plugins import list_plugins

    monkeypatch.setenv("HYPERGRAPH_TRACE_PLUGINS", "1")
    with caplog.at_level("INFO", logger="hypergraph.plugins"):
        list_plugins()
    messages = [r.getMessage() for r in caplog.records if r.name == "hypergraph.plugins"]
    assert any("registered runner SyncRunner" in m for m in messages)


def test_without_trace_loading_is_silent(run_python):
    """With no variables set, loading the plugins prints nothing."""
    done = run_python("from hypergraph.plugins import list_plugins; list_plugins()")
    assert (done.stdout, done.stderr) == ("", "")
