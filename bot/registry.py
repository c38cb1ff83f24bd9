"""Finding plugins (issue 15; shared/DESIGN.md "finding plugins").

A plugin is any installed distribution exposing a `Plugin` value under the `qunbot.plugins`
entry-point group — the plugins qunbot ships are registered the same way in its
pyproject.toml, so nothing here knows their names. A plugin may bring its own tables as an
Alembic branch (`Plugin.migrations`); `migration_locations` hands those to the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import Distribution, EntryPoint, entry_points
from pathlib import Path
from typing import Any

from bot.plugin import Plugin

ENTRY_POINT_GROUP = "qunbot.plugins"


class PluginDiscoveryError(Exception):
    """An installed plugin cannot be used; the message says which and why."""


@dataclass(frozen=True)
class InstalledPlugin:
    plugin: Plugin[Any]
    distribution: str
    version: str
    source: str  # the entry point's "module:attribute"


@cache
def discover() -> tuple[InstalledPlugin, ...]:
    """Every plugin installed in this environment, by name; a name claimed twice is an error."""
    found: dict[str, InstalledPlugin] = {}
    for entry in {(e.name, e.value): e for e in entry_points(group=ENTRY_POINT_GROUP)}.values():
        installed = _load(entry)
        other = found.get(installed.plugin.name)
        if other is not None and other.source != installed.source:
            raise PluginDiscoveryError(
                f"two plugins are named {installed.plugin.name!r}: {other.source} "
                f"({other.distribution}) and {installed.source} ({installed.distribution}); "
                "uninstall one of them")
        found[installed.plugin.name] = installed
    return tuple(found[name] for name in sorted(found))


def installed_plugins() -> tuple[Plugin[Any], ...]:
    return tuple(item.plugin for item in discover())


def migration_locations(plugins: Iterable[Plugin[Any]]) -> tuple[Path, ...]:
    """The Alembic version folders plugins bring for their own tables."""
    return tuple(p.migrations for p in plugins if p.migrations is not None)


@cache
def _release(dist: Distribution) -> tuple[str, str]:
    """The distribution's name and version. Read once: each `dist.name` or `dist.version`
    parses the whole METADATA again, and qunbot's carries the README (100 kB) — 30 parses
    cost a tenth of a second at every start."""
    metadata = dist.metadata
    return metadata["Name"], metadata["Version"]


def _load(entry: EntryPoint) -> InstalledPlugin:
    distribution, version = _release(entry.dist) if entry.dist is not None else ("?", "?")
    where = f"{entry.value} ({distribution} {version})"
    try:
        value = entry.load()
    except Exception as exc:
        raise PluginDiscoveryError(f"plugin {entry.name!r} from {where} failed to load: "
                                   f"{exc!r}") from exc
    if not isinstance(value, Plugin):
        raise PluginDiscoveryError(f"entry point {entry.name!r} of {where} is not a "
                                   f"bot.plugin.Plugin but {type(value).__name__}")
    if value.name != entry.name:
        raise PluginDiscoveryError(f"entry point {entry.name!r} of {where} names a plugin "
                                   f"called {value.name!r}; the two must match")
    return InstalledPlugin(value, distribution, version, entry.value)
