"""Finding and creating dialects through pluggy.

Built-in dialects are registered exactly like third-party ones: as entry points of the
``switchboard.dialects`` group. The gateway never names a dialect; it asks the plugin manager.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata

import pluggy
from pydantic import BaseModel, ConfigDict

from adapters.hookspecs import (
    ENTRY_POINT_GROUP,
    PROJECT,
    ConfigSection,
    Dialect,
    DialectSpec,
    GatewayContext,
)


class PluginError(Exception):
    """A dialect plugin breaks the contract (bad section, wrong return type, ...)."""


class _NoSettings(BaseModel):
    """The section of a dialect that declares none: only ``enabled``."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class DialectPlugin:
    """A loaded dialect plugin, before its runtime is created."""

    name: str
    title: str
    model: type[BaseModel]
    plugin: object


def entry_point_names() -> frozenset[str]:
    """Names of every installed dialect entry point, loaded or not."""
    return frozenset(ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP))


def import_plugin(spec: str) -> object:
    """Import ``module:attribute`` (or a whole ``module``) as a plugin object."""
    module_name, _, attr = spec.partition(":")
    try:
        obj: object = importlib.import_module(module_name)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"cannot load plugin {spec!r}: {exc}") from exc
    return obj


def _declared_name(plugin: object) -> str | None:
    hook = getattr(plugin, "switchboard_config_section", None)
    if hook is None:
        return None
    section = hook()
    return section.name if isinstance(section, ConfigSection) else None


def make_plugin_manager(
    disabled: Iterable[str] = (), extra_plugins: Sequence[object] = ()
) -> pluggy.PluginManager:
    """A plugin manager with the dialect contract, every installed dialect not in
    ``disabled``, and ``extra_plugins`` (plugin objects or modules, for tests and embedding).

    Raises :class:`pluggy.PluginValidationError` when a plugin implements a hook that the
    contract does not have (a misspelt hook fails here, not silently).
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(DialectSpec)
    blocked = set(disabled)
    for blocked_name in blocked:
        pm.set_blocked(blocked_name)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins:
        name = _declared_name(plugin)
        if name is not None and name in blocked:
            continue
        if name is not None and pm.has_plugin(name):
            raise PluginError(f"two dialect plugins declare the section {name!r}")
        pm.register(plugin, name=name)
    pm.check_pending()
    return pm


def _alone(pm: pluggy.PluginManager, hook: str, plugin: object) -> pluggy.HookCaller:
    others = [p for p in pm.get_plugins() if p is not plugin]
    return pm.subset_hook_caller(hook, remove_plugins=others)


def discover(pm: pluggy.PluginManager) -> list[DialectPlugin]:
    """Every registered dialect with its declared section, sorted by name.

    An entry point's name must be the name of the section its plugin declares, since that is
    the name ``--disable`` and ``enabled = false`` block it by.
    """
    found: dict[str, DialectPlugin] = {}
    for plugin in pm.get_plugins():
        registered = pm.get_name(plugin)
        sections = _alone(pm, "switchboard_config_section", plugin)()
        if sections:
            section = sections[0]
            if not isinstance(section, ConfigSection):
                raise PluginError(
                    f"{registered}: switchboard_config_section must return a ConfigSection"
                )
            name, title, model = section.name, section.title, section.model
        elif registered is not None:
            name, title, model = registered, "", _NoSettings
        else:  # pragma: no cover - pluggy always names plugins
            continue
        dist = pm.list_plugin_distinfo()
        from_entry_point = any(p is plugin for p, _ in dist)
        if from_entry_point and registered != name:
            raise PluginError(
                f"entry point {registered!r} declares the section {name!r}; the names must match"
            )
        if name in found:
            raise PluginError(f"two dialect plugins declare the section {name!r}")
        found[name] = DialectPlugin(name=name, title=title or name, model=model, plugin=plugin)
    return [found[name] for name in sorted(found)]


def create_dialect(
    pm: pluggy.PluginManager, dialect: DialectPlugin, ctx: GatewayContext
) -> Dialect | None:
    """Call ``switchboard_create_dialect`` on this dialect's plugin alone."""
    results = _alone(pm, "switchboard_create_dialect", dialect.plugin)(ctx=ctx)
    runtime = next((r for r in results if r is not None), None)
    if runtime is None:
        return None
    if not isinstance(runtime, Dialect):
        raise PluginError(f"{dialect.name}: switchboard_create_dialect must return a Dialect")
    return runtime
