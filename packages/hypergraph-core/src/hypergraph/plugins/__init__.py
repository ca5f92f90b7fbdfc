"""The plugin kernel: how runners, caches, checkpointers and event processors are found.

Every implementation — core's own ``SyncRunner`` included — is registered by a pluggy plugin that a
distribution declares under the ``hypergraph`` entry-point group. Nothing is scanned at
``import hypergraph``: the registry loads the entry points on the first lookup, once.

Writing a plugin::

    # my_package/plugin.py, declared as [project.entry-points.hypergraph] mine = "my_package.plugin"
    from hypergraph.plugins import hookimpl
    from hypergraph.runners.capabilities import RunnerCapabilities

    @hookimpl
    def hypergraph_register_runners(register):
        register("MyRunner", "my_package.runner:MyRunner", capabilities=RunnerCapabilities())

Environment variables (read when the registry first loads):

- ``HYPERGRAPH_DISABLE_PLUGIN_AUTOLOAD=1``: load only core's built-in plugin.
- ``HYPERGRAPH_PLUGINS=a,b``: load only these entry points (or distributions), plus core.
- ``HYPERGRAPH_TRACE_PLUGINS=1``: log every entry point loaded and every registration to the
  ``hypergraph.plugins`` logger (printed to stderr unless logging is configured).

This module imports neither pluggy nor the registry until one of its functions is called, so
``import hypergraph`` stays cheap.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from hypergraph.plugins._info import PluginInfo, Registration

if TYPE_CHECKING:
    import pluggy

    from hypergraph.plugins._registry import PluginRegistry
    from hypergraph.plugins.hookspecs import hookimpl, hookspec

__all__ = [
    "PluginInfo",
    "PluginRegistry",
    "Registration",
    "configure_converter",
    "export_names",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "lazy_exports",
    "list_plugins",
    "resolve_export",
]


def resolve_export(name: str, namespace: str) -> Any:
    """Return the object a plugin registered as ``name`` in ``namespace``, importing it.

    ``namespace`` is ``"hypergraph"``, ``"hypergraph.checkpointers"`` or ``"hypergraph.events"``.
    Raises ``MissingPluginError`` for a documented name whose package is not installed,
    ``PluginLoadError`` (chained to the cause) when an installed plugin fails to import, and
    ``AttributeError`` for any other name.
    """
    from hypergraph.plugins._registry import get_registry

    return get_registry().resolve(name, namespace)


def export_names(namespace: str) -> list[str]:
    """The registered and documented names of ``namespace`` (for a module's ``__dir__``)."""
    from hypergraph.plugins._registry import get_registry

    return get_registry().export_names(namespace)


def list_plugins() -> list[PluginInfo]:
    """Every plugin distribution found, with its version, entry point and registrations."""
    from hypergraph.plugins._registry import get_registry

    return get_registry().plugins()


def get_plugin_manager() -> pluggy.PluginManager:
    """The pluggy ``PluginManager`` holding every loaded plugin (loads them if needed)."""
    from hypergraph.plugins._registry import get_registry

    return get_registry().plugin_manager


def configure_converter(converter: Any) -> None:
    """Call every plugin's ``hypergraph_configure_converter`` hook on ``converter``."""
    from hypergraph.plugins._registry import get_registry

    get_registry().configure_converter(converter)


def lazy_exports(
    namespace: str, module_globals: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build a module's ``__getattr__`` and ``__dir__`` for the plugin names of ``namespace``.

    Usage, at the bottom of ``hypergraph/checkpointers/__init__.py``::

        __getattr__, __dir__ = lazy_exports(__name__, globals())

    A resolved name is cached in ``module_globals``, so each is looked up once.
    """

    module_name = module_globals["__name__"]

    def __getattr__(name: str) -> Any:
        # `from hypergraph.runners import nesting` asks for a submodule first: import it
        # rather than consulting (and perhaps loading) the plugin registry.
        if not name.startswith("_") and importlib.util.find_spec(f"{module_name}.{name}"):
            return importlib.import_module(f"{module_name}.{name}")
        value = resolve_export(name, namespace)
        module_globals[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(module_globals) | set(export_names(namespace)))

    return __getattr__, __dir__


def _reset_for_tests() -> None:
    """Forget the loaded plugins so the next lookup rescans (tests that change the environment)."""
    from hypergraph.plugins._registry import reset_registry

    reset_registry()


def __getattr__(name: str) -> Any:
    # Imported on first use so that ``import hypergraph`` imports neither pluggy nor the registry.
    if name in ("hookimpl", "hookspec"):
        from hypergraph.plugins import hookspecs

        return getattr(hookspecs, name)
    if name == "PluginRegistry":
        from hypergraph.plugins._registry import PluginRegistry

        return PluginRegistry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
