"""The plugin manager and the registries it fills.

Plugins come from three places, in this order:

1. ``DEFAULT_PLUGINS``: the built-in detectors, datasets and metrics. They implement exactly the
   hooks a third-party plugin implements.
2. The entry-point group ``benchbench`` of installed distributions. ``BENCHBENCH_LOAD_PLUGINS``
   (comma-separated entry-point or distribution names) restricts which load; set to an empty
   string it loads none, which rules out a broken third-party plugin.
3. ``--plugins-dir DIR``: every ``*.py`` file in ``DIR`` is loaded as a plugin module.

A third-party plugin (an entry point or a ``--plugins-dir`` file) that fails to import, or whose
hook raises, produces a :class:`PluginLoadWarning` naming it (and the hook) and is skipped: it is
unregistered and whatever it registered is dropped; the others still load. A built-in plugin that
fails to import or whose hook raises is a :class:`PluginError`: the installation is broken, and a
run of ``--detectors all`` must not quietly run fewer detectors. Two plugins registering the same
name is an error naming both.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from benchbench import hookspecs

DEFAULT_PLUGINS = (
    "benchbench.builtins",
    "benchbench_plugins.autoencoder",
    "benchbench_plugins.lstm_ar",
    "benchbench_plugins.tadgan",
    "benchbench_plugins.vae",
    "benchbench_plugins.zscore",
)
ENTRY_POINT_GROUP = "benchbench"
LOAD_PLUGINS_ENV = "BENCHBENCH_LOAD_PLUGINS"


class PluginError(Exception):
    """A plugin broke a registration rule (for example a duplicate name), or a built-in plugin
    cannot be loaded."""


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the others still work."""


@dataclass(frozen=True)
class Entry:
    """One registered object: its name, the object, the plugin that registered it and options."""

    name: str
    obj: Any
    plugin: str
    description: str
    options: dict[str, Any] = field(default_factory=dict)


class Registry:
    """Name -> :class:`Entry` for one kind of object (detectors, datasets or metrics)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def add(self, name: str, obj: Any, plugin: str, description: str | None = None,
            **options: Any) -> None:
        if not isinstance(name, str) or not name or ":" in name or "," in name:
            raise PluginError(
                f"plugin {plugin!r} registered a {self.kind} with an invalid name {name!r} "
                "(a non-empty string without ':' or ',')"
            )
        if name in self._entries:
            other = self._entries[name].plugin
            raise PluginError(
                f"{self.kind} {name!r} is registered twice: by plugin {other!r} and by "
                f"plugin {plugin!r}; uninstall one or rename its {self.kind}"
            )
        if description is None:
            doc = (getattr(obj, "__doc__", None) or "").strip()
            description = doc.splitlines()[0] if doc else ""
        self._entries[name] = Entry(name, obj, plugin, description, dict(options))

    def __getitem__(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r}; available: {', '.join(self.names()) or 'none'}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def remove(self, name: str) -> None:
        """Drop ``name`` (no error when it is not registered)."""
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[n] for n in self.names()]


@dataclass
class Registries:
    """Everything the loaded plugins registered."""

    detectors: Registry
    datasets: Registry
    metrics: Registry
    manager: PluginManager


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, plus the origin (distribution or file) of each plugin for listings."""

    def __init__(self) -> None:
        super().__init__("benchbench")
        self.add_hookspecs(hookspecs)
        self.origins: dict[str, str] = {}

    def label(self, plugin: object) -> str:
        """A human name for a plugin: its distribution for installed ones, else its module."""
        name = self.get_name(plugin) or repr(plugin)
        return self.origins.get(name, name)


def _collect(pm: PluginManager, hook_name: str, registry: Registry,
             added: dict[int, list[tuple[Registry, str]]] | None = None) -> None:
    """Call one ``register_*`` hook plugin by plugin, so each registration knows its origin;
    ``added`` records what each plugin (by ``id``) registered, to drop it if it is skipped.

    A built-in plugin's hook that raises is a :class:`PluginError`; a third-party one's is
    guarded (see :func:`_guard_third_party`).
    """
    hook = getattr(pm.hook, hook_name)
    added = {} if added is None else added
    for impl in reversed(hook.get_hookimpls()):  # registration order
        label = pm.label(impl.plugin)

        def register(name: str, obj: Any, *, description: str | None = None,
                     _label: str = label, _plugin: object = impl.plugin, **options: Any) -> None:
            registry.add(name, obj, _label, description, **options)
            added.setdefault(id(_plugin), []).append((registry, name))

        try:
            impl.function(register=register)
        except PluginError:
            raise
        except Exception as exc:  # only a built-in's: a third-party hook is guarded
            raise PluginError(
                f"built-in benchbench plugin {impl.plugin_name!r}: its {hook_name} hook failed: "
                f"{type(exc).__name__}: {exc}; the installation is broken (reinstall benchbench)"
            ) from exc


def _warn_skipped(what: str, exc: BaseException) -> None:
    """The :class:`PluginLoadWarning` of a third-party plugin that is skipped: ``what`` failed."""
    warnings.warn(f"{what} and is skipped: {type(exc).__name__}: {exc}", PluginLoadWarning,
                  stacklevel=3)


def _guard_third_party(pm: PluginManager, added: dict[int, list[tuple[Registry, str]]]) -> None:
    """Make each hook of each third-party plugin skip the plugin when it raises.

    The hook then warns (:class:`PluginLoadWarning`, naming the plugin and the hook), drops what
    the plugin registered (``added``; the commands a failing ``register_commands`` added),
    unregisters the plugin, so none of its other hooks is called, and returns ``None``; a
    :class:`PluginError` (a registration rule it broke) still propagates. This covers the hooks
    called through ``pm.hook`` too (``register_commands``, by the CLI).
    """
    for plugin in pm.get_plugins():
        if pm.get_name(plugin) in DEFAULT_PLUGINS:
            continue
        for caller in pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin:
                    impl.function = _skipping(impl.function, caller.name, plugin, pm, added)


def _skipping(function: Callable[..., Any], hook_name: str, plugin: object, pm: PluginManager,
              added: dict[int, list[tuple[Registry, str]]]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        cli = kwargs.get("cli", args[0] if args else None)
        commands = set(getattr(cli, "commands", {}))
        try:
            return function(*args, **kwargs)
        except PluginError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the others
            _warn_skipped(f"benchbench plugin {pm.label(plugin)!r} failed in its {hook_name} "
                          "hook", exc)
            for registry, name in added.pop(id(plugin), []):
                registry.remove(name)
            for name in set(getattr(cli, "commands", {})) - commands:
                cli.commands.pop(name, None)
            if pm.is_registered(plugin):
                pm.unregister(plugin)
            return None

    return guarded


def _selected(env_value: str | None) -> Callable[[str, str], bool]:
    if env_value is None:
        return lambda ep_name, dist_name: True
    wanted = {n.strip().lower() for n in env_value.split(",") if n.strip()}
    return lambda ep_name, dist_name: ep_name.lower() in wanted or dist_name.lower() in wanted


def _load_entry_points(pm: PluginManager) -> None:
    allow = _selected(os.environ.get(LOAD_PLUGINS_ENV))
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist_name = ep.dist.metadata["name"] if ep.dist is not None else ""
        if not allow(ep.name, dist_name or ""):
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the others
            _warn_skipped(f"benchbench plugin {ep.name!r} (distribution {dist_name or '?'}) "
                          "failed to load", exc)
            continue
        if ep.dist is not None:
            pm.origins[ep.name] = f"{dist_name} {ep.dist.version}"


def _load_plugins_dir(pm: PluginManager, plugins_dir: Path) -> None:
    plugins_dir = Path(plugins_dir)
    if not plugins_dir.is_dir():
        raise PluginError(f"--plugins-dir {plugins_dir}: not a directory")
    for path in sorted(plugins_dir.glob("*.py")):
        module_name = f"benchbench_local_plugins.{path.stem}"
        try:
            spec = importlib.util.spec_from_file_location(module_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
            pm.register(module, name=module_name)
            pm.origins[module_name] = str(path)
        except Exception as exc:  # noqa: BLE001
            sys.modules.pop(module_name, None)
            _warn_skipped(f"benchbench plugin file {path} failed to load", exc)


def get_plugin_manager(plugins_dir: Path | None = None,
                       load_entry_points: bool = True) -> PluginManager:
    """Build a plugin manager with the built-ins, entry points and loose plugin files."""
    pm = PluginManager()
    for module_name in DEFAULT_PLUGINS:
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise PluginError(
                f"built-in benchbench plugin {module_name!r} failed to import: "
                f"{type(exc).__name__}: {exc}; the installation is broken (reinstall benchbench)"
            ) from exc
        pm.register(module, name=module_name)
    if load_entry_points:
        _load_entry_points(pm)
    if plugins_dir is not None:
        _load_plugins_dir(pm, plugins_dir)
    return pm


def load_registries(plugins_dir: Path | str | None = None,
                    load_entry_points: bool = True) -> Registries:
    """Load every plugin and collect what each registers.

    Raises:
        PluginError: a built-in plugin fails to import or its hook raises, or a registration
            rule is broken (a duplicate or invalid name). A third-party plugin that fails is
            skipped with a :class:`PluginLoadWarning` instead.
    """
    pm = get_plugin_manager(Path(plugins_dir) if plugins_dir else None, load_entry_points)
    detectors, datasets, metrics = Registry("detector"), Registry("dataset"), Registry("metric")
    added: dict[int, list[tuple[Registry, str]]] = {}
    _guard_third_party(pm, added)
    _collect(pm, "register_detectors", detectors, added)
    _collect(pm, "register_datasets", datasets, added)
    _collect(pm, "register_metrics", metrics, added)
    return Registries(detectors, datasets, metrics, pm)
