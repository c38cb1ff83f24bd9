"""Built-in commands every group has: help, the plugin list, reload, and the group's id."""

from __future__ import annotations

from typing import Any

from bot import missed
from bot.config.loader import for_group
from bot.context import Context
from bot.groups import GroupSetup
from bot.i18n import Texts
from bot.plugin import Plugin, Role, Router
from bot.web.command import router as console_router

router = Router()

TEXTS = Texts(
    zh={
        "help.header": "「{group}」可用的命令：",
        "help.role": "（{role}）",
        "role.1": "管理员",
        "role.2": "群主",
        "role.3": "运营",
        "plugins.header": "「{group}」启用的功能：",
        "plugins.none": "本群还没有启用任何功能，只有内置命令。",
        "reload.ok": "配置已重新加载。",
        "reload.failed": "新配置有错误，已保留原配置继续运行：\n{errors}",
        "reload.more": "…另有 {count} 处问题（其他部分的配置），运营可在服务器上运行 "
                       "bot config check 查看。",
        "group_id": "本群的 id：{id}\n把它写进 bot.yaml 的 groups 下即可为本群启用功能。",
    },
    en={
        "help.header": "Commands in “{group}”:",
        "help.role": " ({role})",
        "role.1": "admins",
        "role.2": "owner",
        "role.3": "operators",
        "plugins.header": "Enabled in “{group}”:",
        "plugins.none": "Nothing is enabled here yet: only the built-in commands.",
        "reload.ok": "Configuration reloaded.",
        "reload.failed": "The new configuration has errors; the old one keeps running:\n{errors}",
        "reload.more": "…and {count} more elsewhere in the configuration: operators can run "
                       "`bot config check` on the server.",
        "group_id": "This group's id: {id}\nPut it under `groups` in bot.yaml to set the group up.",
    },
)

MAX_ERRORS_SHOWN = 5


def _title(plugin: Plugin[Any], language: str) -> str:
    return (plugin.title_en or plugin.title) if language == "en" else plugin.title


def help_lines(group: GroupSetup, prefix: str) -> list[str]:
    lines = []
    for enabled in group.plugins:
        bindings = [b for b in group.bindings() if b.enabled is enabled]
        if not bindings:
            continue
        lines.append(f"【{_title(enabled.plugin, group.language)}】")
        for binding in bindings:
            command = binding.command
            words = "/".join(binding.words)
            line = f"{prefix}{command.name}" + (f"（{words}）" if words else "")
            description = (
                command.help_en if group.language == "en" and command.help_en else command.help
            )
            if description:
                line += f" — {description}"
            if command.role > Role.MEMBER:
                line += TEXTS.get(
                    group.language,
                    "help.role",
                    role=TEXTS.get(group.language, f"role.{int(command.role)}"),
                )
            lines.append(line)
    return lines


@router.command(
    "help", "帮助", "菜单", help="列出本群可用的命令", help_en="list this group's commands"
)
async def show_help(ctx: Context[Any]) -> None:
    prefix = ctx.services.config.prefixes[0]
    header = ctx.t("help.header", group=ctx.group.name)
    await ctx.reply("\n".join([header, *help_lines(ctx.group, prefix)]), mention=False)


@router.command("plugins", "功能", help="本群启用了哪些功能", help_en="what is enabled here")
async def show_plugins(ctx: Context[Any]) -> None:
    extra = [e.plugin for e in ctx.group.plugins if e.plugin.name != builtin.name]
    if not extra:
        await ctx.reply(ctx.t("plugins.none"), mention=False)
        return
    lines = [f"· {_title(p, ctx.group.language)}（{p.name}）" for p in extra]
    await ctx.reply(
        "\n".join([ctx.t("plugins.header", group=ctx.group.name), *lines]), mention=False
    )


@router.command(
    "reload",
    "重载配置",
    role=Role.ADMIN,
    bot_wide=True,
    help="重新读取配置文件",
    help_en="re-read the configuration",
)
async def reload_config(ctx: Context[Any]) -> None:
    running = ctx.services.config
    issues = await ctx.services.reload()
    if not issues:
        await ctx.reply(ctx.t("reload.ok"))
        return
    # Into the group: this group's problems only, relative paths; the rest stays private.
    others = [key for g in running.groups.values() if g.id != ctx.group.id
              for key in (g.id, g.name) if len(key) > 1]
    errors, kept = for_group(issues, ctx.group.id, running.base_dir, others)
    shown = errors[:MAX_ERRORS_SHOWN]
    more = len(errors) - len(shown) + kept
    if more:
        shown.append(ctx.t("reload.more", count=more))
    await ctx.reply(ctx.t("reload.failed", errors="\n".join(shown)))
    if ctx.role is Role.OPERATOR:  # the whole list, privately, to whoever may see it all
        full = [issue.shown(running.base_dir) for issue in issues]
        await ctx.dm(ctx.sender_id, "\n".join(full[:30]))


@router.command(
    "群号", "群id", help="本群的 id（写配置用）", help_en="this group's id (for the config)"
)
async def show_group_id(ctx: Context[Any]) -> None:
    await ctx.reply(ctx.t("group_id", id=ctx.group.id), mention=False)


builtin: Plugin[Any] = Plugin(
    name="core", title="内置", title_en="Built-in", routers=[router, console_router], texts=TEXTS,
    digest=missed.contribute,  # timed posts skipped while the bot was down
)
