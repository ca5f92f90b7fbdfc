"""How a name is resolved: registered, documented but missing, broken, duplicated, or unknown."""

from __future__ import annotations

import importlib.metadata
import threading

import cattrs
import pytest

from hypergraph.exceptions import DuplicatePluginError, MissingPluginError, PluginLoadError
from hypergraph.plugins import PluginRegistry, export_names, hookimpl, resolve_export
from hypergraph.plugins._known import KNOWN_EXPORTS
from hypergraph.runners.capabilities import RunnerCapabilities


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _expected_message(known) -> str:
    return (
        f"{known.name} is provided by '{known.distribution}', which is not installed. "
        f"Install it with `pip install {known.distribution}` "
        f'(or `pip install "hypergraph-core[{known.extra}]"`).'
    )


# Plugin-provided names whose distribution is absent right now; empty once everything is installed.
NOT_INSTALLED = [
    k for k in KNOWN_EXPORTS if k.provider != "hypergraph-core" and not _installed(k.distribution)
]


def test_unknown_name_raises_attribute_error(fresh_registry):
    """A name nobody registers or documents is a plain ``AttributeError``, like any module's."""
    with pytest.raises(
        AttributeError, match=r"^module 'hypergraph' has no attribute 'NoSuchRunner'$"
    ):
        resolve_export("NoSuchRunner", "hypergraph")


def test_private_names_never_load_plugins(run_python):
    """Probing an underscore name (``__path__``, pickle, IDEs) fails fast without loading plugins."""
    done = run_python(
        """
        import sys
        from hypergraph.plugins import resolve_export
        try:
            resolve_export("__wrapped__", "hypergraph")
        except AttributeError:
            print("hypergraph_echo.plugin" in sys.modules)
        """
    )
    assert done.stdout.strip() == "False", done.stderr


def test_missing_plugin_error_message_is_fixed():
    """The message names the distribution and both install commands (SPEC PL3)."""
    error = MissingPluginError("AsyncRunner", "hypergraph-async", "async")
    assert str(error) == (
        "AsyncRunner is provided by 'hypergraph-async', which is not installed. Install it with "
        '`pip install hypergraph-async` (or `pip install "hypergraph-core[async]"`).'
    )


def test_missing_plugin_names_the_install_command(run_python):
    """A documented name whose distribution is absent raises ``MissingPluginError``, an ImportError."""
    # Prefer a distribution that really is absent; once all are installed, keep them from loading.
    known = NOT_INSTALLED[0] if NOT_INSTALLED else KNOWN_EXPORTS[0]
    done = run_python(
        f"""
        from hypergraph.plugins import resolve_export
        try:
            resolve_export({known.name!r}, {known.namespace!r})
        except ImportError as error:
            print(type(error).__name__)
            print(error)
        """,
        env={} if NOT_INSTALLED else {"HYPERGRAPH_PLUGINS": ""},
    )
    assert done.stdout.splitlines() == ["MissingPluginError", _expected_message(known)], done.stderr


def test_plugin_kept_out_by_hypergraph_plugins_reads_as_missing(run_python):
    """With ``HYPERGRAPH_PLUGINS`` excluding every plugin, a documented name reports its install command."""
    done = run_python(
        """
        from hypergraph.plugins import resolve_export
        try:
            resolve_export("AsyncRunner", "hypergraph")
        except ImportError as error:
            print(type(error).__name__)
            print(error)
        """,
        env={"HYPERGRAPH_PLUGINS": ""},
    )
    assert done.stdout.splitlines() == [
        "MissingPluginError",
        _expected_message(next(k for k in KNOWN_EXPORTS if k.name == "AsyncRunner")),
    ], done.stderr


def test_plugin_kept_out_by_the_environment_says_so(run_python, fake_distribution):
    """An installed provider excluded by ``HYPERGRAPH_PLUGINS`` is named in a note on the error."""
    path = fake_distribution("hypergraph-async", "async", "")
    done = run_python(
        """
        from hypergraph.plugins import resolve_export
        try:
            resolve_export("AsyncRunner", "hypergraph")
        except ImportError as error:
            print(*error.__notes__)
        """,
        env={"HYPERGRAPH_PLUGINS": "echo"},
        path=path,
    )
    assert done.stdout.strip() == (
        "hypergraph-async is installed, but HYPERGRAPH_PLUGINS=echo kept its plugin "
        "(entry point 'async') from loading."
    ), done.stderr


def test_export_names_list_registered_and_documented_names(fresh_registry):
    """``export_names`` (what ``dir()`` shows) has core's, echo's and the documented plugin names."""
    names = export_names("hypergraph")
    assert {"SyncRunner", "ThreadPoolRunner", "EchoCache", "AsyncRunner", "DiskCache"} <= set(names)
    assert export_names("hypergraph.checkpointers") == ["InMemoryCheckpointer", "SqliteCheckpointer"]


class _Plugin:
    """A plugin object registering one runner and one cache, as a distribution's module would."""

    def __init__(self, runner: str, cache_target: str = "collections:OrderedDict") -> None:
        self.runner = runner
        self.cache_target = cache_target

    @hookimpl
    def hypergraph_register_runners(self, register):
        register(
            self.runner,
            "hypergraph.runners.capabilities:RunnerCapabilities",
            capabilities=RunnerCapabilities(),
        )

    @hookimpl
    def hypergraph_register_cache_backends(self, register):
        register(f"{self.runner}Cache", self.cache_target)


def test_duplicate_registration_names_both_distributions():
    """Two distributions registering one name raise ``DuplicatePluginError`` naming both."""
    registry = PluginRegistry(autoload=False)
    registry.add_plugin(_Plugin("TwinRunner"), distribution="first-dist", version="1.0")
    with pytest.raises(DuplicatePluginError) as caught:
        registry.add_plugin(_Plugin("TwinRunner"), distribution="second-dist", version="2.0")
    assert "'first-dist' 1.0" in str(caught.value)
    assert "'second-dist' 2.0" in str(caught.value)


def test_rejected_duplicate_leaves_the_first_registration_working():
    """After a rejected duplicate, the name still resolves to the first plugin's target."""
    registry = PluginRegistry(autoload=False)
    registry.add_plugin(_Plugin("TwinRunner"), distribution="first-dist")
    with pytest.raises(DuplicatePluginError):
        registry.add_plugin(_Plugin("TwinRunner"), distribution="second-dist")
    assert registry.resolve("TwinRunner", "hypergraph") is RunnerCapabilities
    assert [p.distribution for p in registry.plugins()] == ["first-dist"]


def test_plugin_whose_target_fails_to_import_raises_plugin_load_error():
    """An installed plugin whose target cannot be imported raises ``PluginLoadError`` chained to the cause."""
    registry = PluginRegistry(autoload=False)
    registry.add_plugin(
        _Plugin("Broken", cache_target="hypergraph_tests_no_such_module:Cache"),
        distribution="broken-dist",
        version="0.3",
    )
    with pytest.raises(PluginLoadError) as caught:
        registry.resolve("BrokenCache", "hypergraph")
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)
    assert "'broken-dist' 0.3" in str(caught.value)
    assert "hypergraph_tests_no_such_module:Cache" in str(caught.value)


def test_runner_registered_without_capabilities_is_rejected():
    """A runner registration must carry ``RunnerCapabilities``; the plugin is refused, with its name."""

    class NoCapabilities:
        @hookimpl
        def hypergraph_register_runners(self, register):
            register("LazyRunner", "somewhere:LazyRunner", capabilities=None)

    registry = PluginRegistry(autoload=False)
    with pytest.raises(PluginLoadError, match="'careless-dist'") as caught:
        registry.add_plugin(NoCapabilities(), distribution="careless-dist")
    assert isinstance(caught.value.__cause__, TypeError)


def test_misspelled_hook_is_rejected():
    """A hookimpl whose name matches no hookspec is refused instead of being silently ignored."""

    class Typo:
        @hookimpl
        def hypergraph_register_runner(self, register):
            """Misses the final "s"."""

    registry = PluginRegistry(autoload=False)
    with pytest.raises(PluginLoadError, match="hypergraph_register_runner"):
        registry.add_plugin(Typo(), distribution="typo-dist")


def test_duplicate_across_installed_distributions_fails_only_that_name(run_python, fake_distribution):
    """Re-registering ``ThreadPoolRunner`` makes that lookup fail naming both; other names still work."""
    path = fake_distribution(
        "echo-clone",
        "clone",
        """
        from hypergraph.plugins import hookimpl
        from hypergraph.runners.capabilities import RunnerCapabilities

        @hookimpl
        def hypergraph_register_runners(register):
            register("ThreadPoolRunner", "echo_clone:ThreadPoolRunner", capabilities=RunnerCapabilities())
        """,
    )
    done = run_python(
        """
        from hypergraph.plugins import resolve_export
        print(resolve_export("SyncRunner", "hypergraph").__name__)
        try:
            resolve_export("ThreadPoolRunner", "hypergraph")
        except Exception as error:
            print(type(error).__name__, error)
        """,
        path=path,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "SyncRunner", done.stderr
    assert lines[1].startswith("DuplicatePluginError ThreadPoolRunner"), done.stderr
    assert "'hypergraph-echo'" in lines[1]
    assert "'echo-clone' 9.9" in lines[1]


def test_plugin_that_fails_to_import_does_not_hide_other_plugins(run_python, fake_distribution):
    """A broken entry point is reported (warning, ``list_plugins``) while other names still resolve."""
    path = fake_distribution("shaky", "shaky", "raise RuntimeError('boom at import')\n")
    done = run_python(
        """
        from hypergraph.plugins import list_plugins, resolve_export
        print(resolve_export("EchoCache", "hypergraph").__name__)
        print([p.error for p in list_plugins() if p.distribution == "shaky"])
        """,
        path=path,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "EchoCache", done.stderr
    assert "failed to import: RuntimeError: boom at import" in lines[1]
    assert "'shaky' 9.9 (entry point 'shaky') failed to import" in done.stderr


def test_checkpointers_module_lists_plugin_names(fresh_registry):
    """``dir(hypergraph.checkpointers)`` shows the documented checkpointers before they are imported."""
    import hypergraph.checkpointers

    assert "SqliteCheckpointer" in dir(hypergraph.checkpointers)


def test_checkpointers_module_rejects_unknown_names(fresh_registry):
    """An unknown checkpointer name is an ordinary import error naming the module."""
    with pytest.raises(ImportError, match="cannot import name 'NoSuchCheckpointer'"):
        from hypergraph.checkpointers import NoSuchCheckpointer  # noqa: F401


def test_concurrent_first_lookups_load_each_plugin_once():
    """Threads racing on a fresh registry's first lookup trigger one scan; each plugin loads once."""
    registry = PluginRegistry()
    barrier = threading.Barrier(8)
    found: list[object] = []

    def lookup() -> None:
        barrier.wait()
        found.append(registry.resolve("EchoCache", "hypergraph"))

    threads = [threading.Thread(target=lookup) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(map(id, found))) == 1 and len(found) == 8
    distributions = [p.distribution for p in registry.plugins()]
    assert distributions.count("hypergraph-echo") == 1
    assert len(registry.plugin_manager.get_plugins()) == len(distributions)


def test_configure_converter_reaches_every_plugin():
    """``hypergraph_configure_converter`` lets a plugin add cattrs hooks for its own types."""

    class Celsius(float):
        pass

    class ConverterPlugin:
        @hookimpl
        def hypergraph_configure_converter(self, converter):
            converter.register_unstructure_hook(Celsius, lambda value: f"{float(value)} C")

    registry = PluginRegistry(autoload=False)
    registry.add_plugin(ConverterPlugin(), distribution="units-dist")
    converter = cattrs.Converter()
    registry.configure_converter(converter)
    assert converter.unstructure(Celsius(21.5)) == "21.5 C"


def test_adding_the_same_plugin_twice_keeps_the_first():
    """Re-adding an already registered plugin object is refused without unregistering it."""
    registry = PluginRegistry(autoload=False)
    plugin = _Plugin("OnceRunner")
    registry.add_plugin(plugin, distribution="once-dist")
    with pytest.raises(PluginLoadError, match="could not be registered"):
        registry.add_plugin(plugin, distribution="once-dist", entry_point="again")
    assert registry.resolve("OnceRunner", "hypergraph") is RunnerCapabilities
    assert registry.plugin_manager.is_registered(plugin)


def test_plugin_looking_up_an_export_at_import_time_is_told_why(run_python, fake_distribution):
    """A plugin module that resolves a plugin name while plugins load gets a clear error, not a guess."""
    path = fake_distribution("aa-eager", "aa", "from hypergraph import DiskCache\n")
    done = run_python(
        """
        from hypergraph.plugins import list_plugins, resolve_export
        print(resolve_export("SyncRunner", "hypergraph").__name__)
        print([p.error for p in list_plugins() if p.distribution == "aa-eager"])
        """,
        path=path,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "SyncRunner", done.stderr
    assert "DiskCache was looked up while hypergraph was still loading its plugins" in lines[1]


def test_submodules_of_lazy_modules_import_without_the_registry(run_python):
    """``from hypergraph.runners import nesting`` imports the submodule; no plugin is loaded."""
    done = run_python(
        """
        import sys
        from hypergraph.runners import nesting
        print(nesting.__name__, "hypergraph.plugins._registry" in sys.modules)
        """
    )
    assert done.stdout.split() == ["hypergraph.runners.nesting", "False"], done.stderr
