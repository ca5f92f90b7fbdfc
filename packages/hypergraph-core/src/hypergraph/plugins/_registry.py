"""The plugin registry: entry-point discovery, registration bookkeeping and name resolution.

This module is imported on the first lookup of a plugin-provided name, never by
``import hypergraph``. It does not import any registered target until that name is asked for.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pluggy

from hypergraph.exceptions import DuplicatePluginError, MissingPluginError, PluginLoadError
from hypergraph.plugins import hookspecs
from hypergraph.plugins._info import KIND_NAMESPACES, NAMESPACES, Kind, PluginInfo, Registration
from hypergraph.plugins._known import KNOWN_EXPORTS, KnownExport, known_export
from hypergraph.runners.capabilities import RunnerCapabilities

__all__ = ["PluginRegistry", "get_registry", "reset_registry"]

logger = logging.getLogger("hypergraph.plugins")

ENTRY_POINT_GROUP = "hypergraph"
CORE_DISTRIBUTION = "hypergraph-core"
CORE_PLUGIN_MODULE = "hypergraph._builtin_plugin"

ENV_DISABLE_AUTOLOAD = "HYPERGRAPH_DISABLE_PLUGIN_AUTOLOAD"
ENV_ONLY = "HYPERGRAPH_PLUGINS"
ENV_TRACE = "HYPERGRAPH_TRACE_PLUGINS"

_HOOK_KINDS: tuple[tuple[str, Kind], ...] = (
    ("hypergraph_register_runners", "runner"),
    ("hypergraph_register_cache_backends", "cache"),
    ("hypergraph_register_checkpointers", "checkpointer"),
    ("hypergraph_register_event_processors", "event_processor"),
)

_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_TARGET = re.compile(rf"{_DOTTED}:{_DOTTED}")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_names(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {_normalize(part) for part in raw.split(",") if part.strip()}


def _normalize(name: str) -> str:
    """PEP 503 normalisation, so ``hypergraph_echo`` and ``Hypergraph-Echo`` compare equal."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _is_installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    except Exception:  # broken metadata on the path: it is there, just damaged
        return True
    return True


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _no_attribute(name: str, namespace: str) -> AttributeError:
    return AttributeError(f"module {namespace!r} has no attribute {name!r}")


@attrs.frozen
class _Skipped:
    """An installed entry point that the environment told us not to load."""

    distribution: str
    entry_point: str
    reason: str


class PluginRegistry:
    """Discovers plugins once, records who registered which name, and resolves names to objects.

    ``PluginRegistry()`` scans the ``hypergraph`` entry-point group on first use, honouring the
    ``HYPERGRAPH_*`` environment variables read at that moment. ``PluginRegistry(autoload=False)``
    starts empty; plugins are then added with :meth:`add_plugin` (tests use this).
    """

    def __init__(self, *, autoload: bool = True) -> None:
        self._autoload = autoload
        self._lock = threading.RLock()
        self._loading = False
        self._clear()

    def _clear(self) -> None:
        self._loaded = not self._autoload
        self._trace = _env_flag(ENV_TRACE)
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._plugins: list[PluginInfo] = []
        self._exports: dict[tuple[str, str], tuple[Registration, PluginInfo]] = {}
        self._failures: list[tuple[PluginInfo, BaseException]] = []
        self._conflicts: dict[tuple[str, str], DuplicatePluginError] = {}
        self._skipped: list[_Skipped] = []
        self._resolved: dict[tuple[str, str], Any] = {}

    # -- public surface ----------------------------------------------------------------------

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The pluggy manager holding every loaded plugin (entry points loaded first)."""
        self._ensure_loaded()
        return self._pm

    def add_plugin(
        self,
        plugin: object,
        *,
        distribution: str,
        version: str = "unknown",
        entry_point: str | None = None,
    ) -> PluginInfo:
        """Register ``plugin`` (a module or object with hookimpls) and collect its registrations.

        Raises ``DuplicatePluginError`` if it registers a name another plugin already has, and
        ``PluginLoadError`` if its hooks are malformed or fail; the plugin is then not added.
        """
        entry_point = entry_point or distribution
        with self._lock:
            info = PluginInfo(distribution, version, entry_point)
            try:
                self._pm.register(plugin, name=f"{distribution}:{entry_point}")
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                raise PluginLoadError(
                    f"Plugin {self._who(info)} could not be registered: {_describe(exc)}"
                ) from exc
            try:
                try:
                    self._pm.check_pending()
                except pluggy.PluginValidationError as exc:
                    raise PluginLoadError(
                        f"Plugin {self._who(info)} has an invalid hook: {_describe(exc)}"
                    ) from exc
                registrations = self._collect(plugin, info)
            except BaseException:
                self._pm.unregister(plugin)
                raise
            info = attrs.evolve(info, registrations=tuple(registrations))
            for registration in registrations:
                self._exports[(registration.namespace, registration.name)] = (registration, info)
            self._plugins.append(info)
            return info

    def resolve(self, name: str, namespace: str) -> Any:
        """Return the object registered as ``name`` in ``namespace``, importing it on first use."""
        _check_namespace(namespace)
        if name.startswith("_") or not name.isidentifier():
            # Dunder probes (``hasattr(module, "__path__")``, pickle, IDEs) must stay cheap and
            # must never trigger plugin loading.
            raise _no_attribute(name, namespace)
        key = (namespace, name)
        if key in self._resolved:
            return self._resolved[key]
        self._ensure_loaded()
        if key in self._conflicts:
            raise self._conflicts[key]
        found = self._exports.get(key)
        known = known_export(name, namespace)
        if found is None and self._loading:
            # only the loading thread gets here (it holds the re-entrant lock)
            raise PluginLoadError(
                f"{name} was looked up while hypergraph was still loading its plugins, from code "
                "that runs when a plugin module is imported. A plugin module should only register "
                f"names; look {name} up inside the function that needs it instead."
            )
        if found is None:
            if known is not None:
                raise self._unregistered_known(known)
            error = _no_attribute(name, namespace)
            for failed, _ in self._failures:
                error.add_note(f"Plugin {self._who(failed)} failed to load: {failed.error}")
            raise error
        registration, info = found
        value = self._import_target(registration, info, known)
        self._resolved[key] = value
        return value

    def export_names(self, namespace: str) -> list[str]:
        """Registered names plus documented (known) names of ``namespace``, sorted."""
        _check_namespace(namespace)
        self._ensure_loaded()
        names = {name for ns, name in self._exports if ns == namespace}
        names.update(k.name for k in KNOWN_EXPORTS if k.namespace == namespace)
        return sorted(names)

    def plugins(self) -> list[PluginInfo]:
        """Every loaded or failed plugin: core first, then by distribution name."""
        self._ensure_loaded()
        everything = self._plugins + [info for info, _ in self._failures]
        return sorted(
            everything,
            key=lambda p: (_normalize(p.distribution) != CORE_DISTRIBUTION, p.distribution),
        )

    def configure_converter(self, converter: Any) -> None:
        """Let every plugin add its cattrs hooks to ``converter``."""
        self.plugin_manager.hook.hypergraph_configure_converter(converter=converter)

    # -- loading ------------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded or self._loading:
                # _loading: a plugin module being imported looked a name up; it sees what is
                # registered so far instead of starting a second scan.
                return
            self._loading = True
            try:
                self._load_entry_points()
            except BaseException:
                # Leave nothing half-loaded: the next lookup starts over and fails the same way.
                self._clear()
                raise
            finally:
                self._loading = False
            self._loaded = True

    def _load_entry_points(self) -> None:
        disabled = _env_flag(ENV_DISABLE_AUTOLOAD)
        only = _env_names(ENV_ONLY)
        self._log(
            "loading plugins (%s=%s, %s=%s)",
            ENV_DISABLE_AUTOLOAD,
            os.environ.get(ENV_DISABLE_AUTOLOAD, ""),
            ENV_ONLY,
            os.environ.get(ENV_ONLY, "<unset>"),
        )
        core_loaded = False
        for ep in self._entry_points():
            distribution, version = _dist_of(ep)
            is_core = ep.value == CORE_PLUGIN_MODULE
            if not is_core:
                reason = None
                if disabled:
                    reason = f"{ENV_DISABLE_AUTOLOAD}=1"
                elif (
                    only is not None and not {_normalize(ep.name), _normalize(distribution)} & only
                ):
                    reason = f"{ENV_ONLY}={os.environ[ENV_ONLY]}"
                if reason is not None:
                    self._skipped.append(_Skipped(distribution, ep.name, reason))
                    self._log("skipped entry point %r of %s (%s)", ep.name, distribution, reason)
                    continue
            self._log(
                "loading entry point %r = %s from %s %s", ep.name, ep.value, distribution, version
            )
            self._load_one(ep.load, distribution, version, ep.name, strict=is_core)
            core_loaded = core_loaded or is_core
        if not core_loaded:
            # Running from a source tree without installed metadata: core's plugin still loads,
            # through the same hooks.
            self._log("no entry point for %s; loading it directly", CORE_PLUGIN_MODULE)
            self._load_one(
                lambda: importlib.import_module(CORE_PLUGIN_MODULE),
                CORE_DISTRIBUTION,
                _version_of(CORE_DISTRIBUTION),
                "core",
                strict=True,
            )
        if only is not None:
            seen = {_normalize(n) for p in self._plugins for n in (p.entry_point, p.distribution)}
            seen |= {_normalize(n) for s in self._skipped for n in (s.entry_point, s.distribution)}
            for missing in sorted(only - seen):
                logger.warning(
                    "%s names %r, but no installed distribution declares a %r entry point "
                    "of that name",
                    ENV_ONLY,
                    missing,
                    ENTRY_POINT_GROUP,
                )

    @staticmethod
    def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
        found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        # Deterministic order: core first, so a third party duplicating a core name is the one
        # named second in the error.
        return sorted(found, key=lambda ep: (ep.value != CORE_PLUGIN_MODULE, ep.name, ep.value))

    def _load_one(
        self,
        load: Callable[[], object],
        distribution: str,
        version: str,
        entry_point: str,
        *,
        strict: bool,
    ) -> None:
        try:
            module = load()
        except KeyboardInterrupt:
            raise  # a real interrupt: propagate once; nothing is recorded, the next lookup retries
        except BaseException as exc:  # SystemExit too: one broken plugin must not break the rest
            error = PluginLoadError(
                f"Plugin {self._who(PluginInfo(distribution, version, entry_point))} "
                f"failed to import: {_describe(exc)}"
            )
            error.__cause__ = exc
            self._fail(error, distribution, version, entry_point, strict=strict)
            return
        try:
            self.add_plugin(
                module, distribution=distribution, version=version, entry_point=entry_point
            )
        except PluginLoadError as error:
            self._fail(error, distribution, version, entry_point, strict=strict)
        except DuplicatePluginError as error:
            # The contested name now belongs to nobody: asking for it raises this error, while
            # every other name (SyncRunner included) keeps working.
            self._conflicts[error.export] = error  # type: ignore[attr-defined]
            logger.warning("%s", error)
            self._failures.append(
                (PluginInfo(distribution, version, entry_point, error=str(error)), error)
            )

    def _fail(
        self,
        error: PluginLoadError,
        distribution: str,
        version: str,
        entry_point: str,
        *,
        strict: bool,
    ) -> None:
        if strict:
            raise error
        # A broken third-party plugin must not break every other name: record it, warn, and
        # report it when one of its names is asked for.
        logger.warning("%s", error)
        self._failures.append(
            (PluginInfo(distribution, version, entry_point, error=str(error)), error)
        )

    def _collect(self, plugin: object, info: PluginInfo) -> list[Registration]:
        others = [p for p in self._pm.get_plugins() if p is not plugin]
        registrations: list[Registration] = []
        claimed = dict(self._exports)

        def add(kind: Kind, name: Any, target: Any, capabilities: Any) -> None:
            registration = _make_registration(kind, name, target, capabilities)
            key = (registration.namespace, registration.name)
            if key in claimed:
                _, first = claimed[key]
                error = DuplicatePluginError(
                    f"{registration.name} (in {registration.namespace}) is registered by both "
                    f"{self._who(first)} and {self._who(info)}. Uninstall one of them, or "
                    f"choose which plugins load with {ENV_ONLY}=<entry point names>."
                )
                error.export = key  # type: ignore[attr-defined]
                raise error
            claimed[key] = (registration, info)
            registrations.append(registration)
            self._log(
                "%s registered %s %s -> %s%s",
                self._who(info),
                kind,
                registration.name,
                registration.target,
                f" {_true_flags(registration.capabilities)}" if registration.capabilities else "",
            )

        for hook_name, kind in _HOOK_KINDS:
            caller = self._pm.subset_hook_caller(hook_name, remove_plugins=others)
            register = _register_function(kind, add)
            try:
                caller(register=register)
            except (DuplicatePluginError, KeyboardInterrupt):
                raise
            except BaseException as exc:  # SystemExit in a hook is that plugin's failure
                raise PluginLoadError(
                    f"Plugin {self._who(info)} failed in {hook_name}: {_describe(exc)}"
                ) from exc
        return registrations

    # -- resolution ---------------------------------------------------------------------------

    def _import_target(
        self, registration: Registration, info: PluginInfo, known: KnownExport | None
    ) -> Any:
        module_name, _, attribute = registration.target.partition(":")
        try:
            value: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                value = getattr(value, part)
        except Exception as exc:
            if (
                known is not None
                and isinstance(exc, ImportError)
                and not _is_installed(known.distribution)
            ):
                raise MissingPluginError(known.name, known.distribution, known.extra) from exc
            raise PluginLoadError(
                f"{registration.name} is registered by plugin {self._who(info)} as "
                f"{registration.target!r}, but importing it failed: {_describe(exc)}"
            ) from exc
        self._log("imported %s from %s", registration.name, registration.target)
        return value

    def _unregistered_known(self, known: KnownExport) -> ImportError:
        """The error for a documented name that no loaded plugin registered."""
        if not _is_installed(known.distribution):
            return MissingPluginError(known.name, known.distribution, known.extra)
        provider = _normalize(known.provider)
        for info, error in self._failures:
            if _normalize(info.distribution) == provider:
                failed = PluginLoadError(
                    f"{known.name} is provided by {known.provider!r}, which is installed but "
                    f"failed to load: {info.error}"
                )
                failed.__cause__ = error
                return failed
        for skipped in self._skipped:
            if _normalize(skipped.distribution) != provider:
                continue
            if skipped.reason.startswith(ENV_DISABLE_AUTOLOAD):
                return PluginLoadError(
                    f"{known.name} is provided by {known.provider!r}, which is installed, but "
                    f"plugin autoloading is disabled ({skipped.reason}), so its plugin (entry "
                    f"point {skipped.entry_point!r}) was not loaded. Unset "
                    f"{ENV_DISABLE_AUTOLOAD} to use {known.name}."
                )
            missing = MissingPluginError(known.name, known.distribution, known.extra)
            missing.add_note(
                f"{skipped.distribution} is installed, but {skipped.reason} kept its plugin "
                f"(entry point {skipped.entry_point!r}) from loading."
            )
            return missing
        version = _installed_version(known.provider)
        return PluginLoadError(
            f"{known.name} is not provided by the installed {known.provider} {version}: that "
            f"release does not register it (it may come in a newer one). Upgrade with "
            f"`pip install -U {known.provider}`; `python -m hypergraph plugins` lists what the "
            "installed plugins provide."
        )

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _who(info: PluginInfo) -> str:
        return f"'{info.distribution}' {info.version} (entry point {info.entry_point!r})"

    def _log(self, message: str, *args: object) -> None:
        if self._trace:
            _ensure_trace_visible()
            logger.info(message, *args)


def _dist_of(ep: importlib.metadata.EntryPoint) -> tuple[str, str]:
    """(distribution name, version) of an entry point; ``"unknown"`` for broken metadata.

    A ``*.dist-info`` folder without METADATA, or METADATA without ``Name``/``Version``, must not
    break plugin loading or listing.
    """
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown", "unknown"
    try:
        name = dist.name
    except Exception:
        name = None
    try:
        version = dist.version
    except Exception:
        version = None
    return (
        name if isinstance(name, str) and name else "unknown",
        version if isinstance(version, str) and version else "unknown",
    )


def _check_namespace(namespace: str) -> None:
    if namespace not in NAMESPACES:
        raise ValueError(
            f"Unknown namespace {namespace!r}; expected one of {', '.join(NAMESPACES)}"
        )


def _version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution) or "unknown"
    except Exception:
        return "unknown"


def _installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution) or "(unknown version)"
    except Exception:
        return "(unknown version)"


def _true_flags(capabilities: RunnerCapabilities | None) -> str:
    if capabilities is None:
        return ""
    return "[" + ", ".join(capabilities.enabled()) + "]"


def _make_registration(kind: Kind, name: Any, target: Any, capabilities: Any) -> Registration:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"export name must be a public identifier, got {name!r}")
    if not isinstance(target, str) or not _TARGET.fullmatch(target):
        raise ValueError(f"target for {name} must be a 'module:attribute' string, got {target!r}")
    if kind == "runner" and not isinstance(capabilities, RunnerCapabilities):
        raise TypeError(
            f"runner {name} must be registered with capabilities=RunnerCapabilities(...), "
            f"got {capabilities!r}"
        )
    return Registration(name=name, kind=kind, target=target, capabilities=capabilities)


def _register_function(
    kind: Kind, add: Callable[[Kind, Any, Any, Any], None]
) -> Callable[..., None]:
    """The ``register`` callback handed to one ``hypergraph_register_*`` hook."""
    if kind == "runner":

        def register_runner(name: str, target: str, *, capabilities: RunnerCapabilities) -> None:
            """Register runner ``name``, importable later from ``target`` ("module:attr")."""
            add(kind, name, target, capabilities)

        return register_runner

    def register(name: str, target: str) -> None:
        """Register ``name``, importable later from ``target`` ("module:attr")."""
        add(kind, name, target, None)

    register.__doc__ = f"Register a {kind.replace('_', ' ')} exported from {KIND_NAMESPACES[kind]}."
    return register


_trace_handler: logging.Handler | None = None


def _ensure_trace_visible() -> None:
    """Tracing prints to stderr unless the application already routes our log records."""
    global _trace_handler
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    if _trace_handler is None and not logger.hasHandlers():
        _trace_handler = logging.StreamHandler()
        _trace_handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(_trace_handler)


_registry: PluginRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide registry, created on first use."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                _registry = PluginRegistry()
    return _registry


def reset_registry() -> None:
    """Forget every loaded plugin; the next lookup rescans with the current environment."""
    global _registry
    with _registry_lock:
        _registry = None
