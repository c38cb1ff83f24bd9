"""What one group runs: its enabled plugins with validated settings and its command table.

Built once per config load, so routing a message is a dictionary lookup however many
plugins and commands exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.plugin import Command, Filter, MemberHandler, Plugin

if TYPE_CHECKING:
    from bot.config.models import BotConfig, GroupConfig


@dataclass(frozen=True)
class EnabledPlugin:
    plugin: Plugin[Any]
    settings: BaseModel


@dataclass(frozen=True)
class CommandBinding:
    enabled: EnabledPlugin
    command: Command
    words: tuple[str, ...]  # keyword forms in this group, configured aliases included


@dataclass
class GroupSetup:
    id: str
    name: str
    configured: bool  # listed under `groups:`; others get built-ins (and `defaults:`) only
    language: str
    timezone: ZoneInfo
    owner: str | None = None
    admins: frozenset[str] = frozenset()
    tags: tuple[str, ...] = ()
    # The room's own owner and admins count here: the group is listed, or `defaults:`
    # enables plugins for unlisted ones. Elsewhere anyone may own a room the bot is in.
    platform_roles: bool = False
    plugins: tuple[EnabledPlugin, ...] = ()
    slash: dict[str, CommandBinding] = field(default_factory=dict)
    keywords: dict[str, CommandBinding] = field(default_factory=dict)

    def enabled(self, name: str) -> EnabledPlugin | None:
        return next((e for e in self.plugins if e.plugin.name == name), None)

    def bindings(self) -> list[CommandBinding]:
        """Each command once, in plugin order (for help)."""
        seen: dict[int, CommandBinding] = {}
        for binding in [*self.slash.values(), *self.keywords.values()]:
            seen.setdefault(id(binding.command), binding)
        return list(seen.values())

    # Listed once (every message asks, issue 16.3): a group's plugins are set when its
    # setup is built, and a reload builds a new setup.
    @cached_property
    def _guards(self) -> tuple[tuple[EnabledPlugin, Filter], ...]:
        return tuple((e, f) for e in self.plugins for f in e.plugin.guards)

    @cached_property
    def _passives(self) -> tuple[tuple[EnabledPlugin, Filter], ...]:
        return tuple((e, f) for e in self.plugins for f in e.plugin.passives)

    def guards(self) -> tuple[tuple[EnabledPlugin, Filter], ...]:
        return self._guards

    def passives(self) -> tuple[tuple[EnabledPlugin, Filter], ...]:
        return self._passives

    def join_handlers(self) -> list[tuple[EnabledPlugin, MemberHandler]]:
        return [(e, h) for e in self.plugins for h in e.plugin.join_handlers]

    def leave_handlers(self) -> list[tuple[EnabledPlugin, MemberHandler]]:
        return [(e, h) for e in self.plugins for h in e.plugin.leave_handlers]


def build_command_table(
    group: GroupSetup, aliases: dict[str, list[str]], prefixes: Sequence[str]
) -> list[str]:
    """Fill the group's command table; returns conflicts and unknown alias targets."""
    problems: list[str] = []
    owner_of: dict[str, str] = {}
    bindings: list[CommandBinding] = []
    for enabled in group.plugins:
        for command in enabled.plugin.commands:
            bindings.append(CommandBinding(enabled, command, command.aliases))
    bindings = _with_configured_aliases(bindings, aliases, prefixes, problems)
    for binding in bindings:
        who = f"{binding.enabled.plugin.name}.{binding.command.name}"
        for word, table in [(binding.command.name.lower(), group.slash)] + [
            (w, group.keywords) for w in binding.words
        ]:
            key = ("/" if table is group.slash else "") + word
            if key in owner_of and owner_of[key] != who:
                problems.append(
                    f"命令词 {key!r} 同时被 {owner_of[key]} 和 {who} 使用 "
                    f"(command word {key!r} is claimed by both {owner_of[key]} and {who})"
                )
                continue
            owner_of[key] = who
            table[word] = binding
    return problems


def _with_configured_aliases(
    bindings: list[CommandBinding],
    aliases: dict[str, list[str]],
    prefixes: Sequence[str],
    problems: list[str],
) -> list[CommandBinding]:
    extra: dict[int, list[str]] = {}
    for target, words in aliases.items():
        binding = _find_binding(bindings, target, prefixes)
        if binding is None:
            problems.append(
                f"别名指向的 {target!r} 不是本群启用的命令 "
                f"(alias target {target!r} is not a command enabled in this group)"
            )
            continue
        extra.setdefault(id(binding), []).extend(words)
    return [
        CommandBinding(b.enabled, b.command, b.words + tuple(extra.get(id(b), ())))
        for b in bindings
    ]


def _find_binding(
    bindings: list[CommandBinding], target: str, prefixes: Sequence[str]
) -> CommandBinding | None:
    name = next((target[len(p) :] for p in prefixes if target.startswith(p)), None)
    for binding in bindings:
        if name is not None and binding.command.name.lower() == name.lower():
            return binding
        if name is None and target in binding.words:
            return binding
    return None


def group_setup(
    group_id: str,
    config: BotConfig,
    group: GroupConfig | None,
    plugins: tuple[EnabledPlugin, ...],
    name: str | None = None,
) -> GroupSetup:
    return GroupSetup(
        id=group_id,
        name=group.name if group else (name or group_id),
        configured=group is not None,
        platform_roles=group is not None or bool(config.defaults.plugins),
        language=(group.language if group and group.language else config.bot.language),
        timezone=ZoneInfo(group.timezone if group and group.timezone else config.bot.timezone),
        owner=group.owner if group else None,
        admins=frozenset(group.admins) if group else frozenset(),
        tags=tuple(group.tags) if group else (),
        plugins=plugins,
    )
