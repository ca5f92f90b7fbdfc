"""``import hypergraph`` loads no plugin; plugins load on the first lookup, and only what is asked."""

from __future__ import annotations

import json


def test_import_hypergraph_loads_no_plugin_module(run_python):
    """A fresh ``import hypergraph`` neither imports a plugin package nor scans entry points."""
    done = run_python(
        """
        import json, sys
        import hypergraph
        loaded = [
            name for name in sys.modules
            if name.startswith("hypergraph_")
            or name in ("hypergraph._builtin_plugin", "hypergraph.plugins._registry")
        ]
        print(json.dumps(loaded))
        """
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_registering_a_plugin_does_not_import_its_targets(run_python):
    """Loading the plugins imports each entry-point module but none of the registered targets."""
    done = run_python(
        """
        import json, sys
        from hypergraph.plugins import list_plugins
        list_plugins()
        print(json.dumps(sorted(n for n in sys.modules if n.startswith("hypergraph_echo"))))
        """
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["hypergraph_echo", "hypergraph_echo.plugin"]


def test_resolving_a_name_imports_only_its_own_target(run_python):
    """Asking for ``EchoCache`` imports the cache module and leaves the runner module alone."""
    done = run_python(
        """
        import json, sys
        from hypergraph.plugins import resolve_export
        resolve_export("EchoCache", "hypergraph")
        print(json.dumps(sorted(n for n in sys.modules if n.startswith("hypergraph_echo"))))
        """
    )
    assert done.returncode == 0, done.stderr
    assert "hypergraph_echo.cache" in json.loads(done.stdout)
    assert "hypergraph_echo.threads" not in json.loads(done.stdout)


def test_typed_plugin_names_import_nothing_at_run_time(run_python):
    """The TYPE_CHECKING imports that type the plugin names load no plugin, rich, OTel or graphviz."""
    done = run_python(
        """
        import json, sys
        import hypergraph, hypergraph.events, hypergraph.viz
        from hypergraph import Graph, node
        @node(output_name="y")
        def f(x): return x
        Graph([f]).to_mermaid(), Graph([f]).to_dot()
        heavy = ("hypergraph_", "rich", "opentelemetry", "graphviz", "pluggy")
        print(json.dumps(sorted(n for n in sys.modules if n.startswith(heavy))))
        """
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_import_hypergraph_leaves_the_checkpointing_half_unloaded(run_python):
    """Sync and async runs without a checkpointer never load the workflow rules, recorder or records."""
    done = run_python(
        """
        import json, sys
        import hypergraph
        from hypergraph import Graph, SyncRunner, node

        @node(output_name="y")
        def double(x: int) -> int:
            return 2 * x

        assert SyncRunner().run(Graph([double]), {"x": 2})["y"] == 4
        import asyncio
        from hypergraph import AsyncRunner
        assert asyncio.run(AsyncRunner().run(Graph([double]), {"x": 2}))["y"] == 4
        loaded = sorted(
            name for name in sys.modules
            if name.startswith("hypergraph.checkpointers")
            or name in ("hypergraph.runtime._workflow", "hypergraph.runtime._recorder",
                        "hypergraph.runtime._persisting", "hypergraph.runtime._checkpoint_state")
        )
        from hypergraph.runtime import WorkflowRecorder, resolve_workflow
        print(json.dumps([loaded, WorkflowRecorder.__name__, resolve_workflow.__name__]))
        """
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [[], "WorkflowRecorder", "resolve_workflow"]
