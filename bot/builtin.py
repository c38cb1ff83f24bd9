"""Built-in commands every group has: help, the plugin list, reload, the group's id, and
the group's one 小黑屋 (listed and released here, whichever plugin put a member in)."""

from __future__ import annotations

from typing import Any

from bot import missed
from bot.blackroom import Stay
from bot.config.loader import for_group
from bot.context import Context
from bot.groups import CommandBinding, GroupSetup
from bot.i18n import Texts, has_cjk
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
        "blackroom.none": "小黑屋是空的。",
        "blackroom.header": "小黑屋（{count} 人）：",
        "blackroom.line": "{n}. {name}：{reason}（{source}），到 {until}",
        "released": "已把 {name} 放出小黑屋。",
        "not_in_blackroom": "{name} 不在小黑屋里。",
        "need_target": "请 @ 一位成员，例如：放出 @小明",
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
        "blackroom.none": "The penalty box is empty.",
        "blackroom.header": "Penalty box ({count}):",
        "blackroom.line": "{n}. {name}: {reason} ({source}), until {until}",
        "released": "Released {name} from the penalty box.",
        "not_in_blackroom": "{name} is not in the penalty box.",
        "need_target": "Please @-mention one member, e.g. /release @Ming",
    },
)

MAX_ERRORS_SHOWN = 5


def _title(plugin: Plugin[Any], language: str) -> str:
    return (plugin.title_en or plugin.title) if language == "en" else plugin.title


def command_words(binding: CommandBinding, language: str) -> tuple[str, list[str]]:
    """(the name to show after the prefix, the other words) for a group's language: an
    English group sees English names and aliases only ("/addpoints", never "/加分")."""
    name, words = binding.command.name, list(binding.words)
    if language != "en":
        return name, words
    english = [w for w in (name, *words) if not has_cjk(w)]
    return (english[0] if english else name), english[1:]


def help_lines(group: GroupSetup, prefix: str) -> list[str]:
    lines = []
    english = group.language == "en"
    for enabled in group.plugins:
        bindings = [b for b in group.bindings() if b.enabled is enabled]
        if not bindings:
            continue
        title = _title(enabled.plugin, group.language)
        lines.append(f"[{title}]" if english else f"【{title}】")
        for binding in bindings:
            command = binding.command
            name, others = command_words(binding, group.language)
            words = ", ".join(others) if english else "/".join(others)
            line = f"{prefix}{name}" + ((f" ({words})" if english else f"（{words}）")
                                        if words else "")
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
    english = ctx.group.language == "en"
    lines = [f"· {_title(p, ctx.group.language)}" + (f" ({p.name})" if english else f"（{p.name}）")
             for p in extra]
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
    "群号", "群id", "groupid", help="本群的 id（写配置用）",
    help_en="this group's id (for the config)",
)
async def show_group_id(ctx: Context[Any]) -> None:
    await ctx.reply(ctx.t("group_id", id=ctx.group.id), mention=False)


@router.command("blackroom", "小黑屋", role=Role.ADMIN, help="小黑屋名单：谁、为什么、到何时",
                help_en="who is in the penalty box, why, and until when")
async def show_blackroom(ctx: Context[Any]) -> None:
    async with ctx.transaction() as session:
        stays = await ctx.services.blackroom.list(session, ctx.group.id, ctx.now)
    if not stays:
        await ctx.reply(ctx.t("blackroom.none"), mention=False)
        return
    lines = [ctx.t("blackroom.header", count=len(stays))]
    lines += [ctx.t("blackroom.line", n=n, name=stay.name or stay.member_id,
                    reason=_reason(ctx, stay), source=_source_title(ctx, stay.source),
                    until=f"{stay.until.astimezone(ctx.group.timezone):%m-%d %H:%M}")
              for n, stay in enumerate(stays, start=1)]
    await ctx.reply("\n".join(lines), mention=False)


def _plugin(ctx: Context[Any], name: str) -> Plugin[Any] | None:
    runtime = ctx.services.runtime
    return next((p for p in (*runtime.builtins, *runtime.plugins) if p.name == name), None)


def _source_title(ctx: Context[Any], name: str) -> str:
    plugin = _plugin(ctx, name)
    return _title(plugin, ctx.group.language) if plugin else name


def _reason(ctx: Context[Any], stay: Stay) -> str:
    """The reason is a text key of the plugin that put the member in, shown in the group's
    language (the plugin may since have been disabled here: its texts are still known)."""
    plugin = _plugin(ctx, stay.source)
    try:
        return plugin.texts.get(ctx.group.language, stay.reason) if plugin else stay.reason
    except KeyError:
        return stay.reason


@router.command("release", "放出", role=Role.ADMIN, help="放出小黑屋：放出 @x",
                help_en="release from the penalty box: /release @x")
async def release(ctx: Context[Any]) -> None:
    target = ctx.message.mention_ids[0] if ctx.message.mention_ids else None
    if target is None:
        await ctx.reply(ctx.t("need_target"))
        return
    async with ctx.transaction() as session:
        stay = await ctx.services.blackroom.release(session, ctx.group.id, target, ctx.now,
                                                    by=ctx.sender_id)
    name = (stay.name if stay else "") or target
    await ctx.reply(ctx.t("released" if stay else "not_in_blackroom", name=name))


builtin: Plugin[Any] = Plugin(
    name="core", title="内置", title_en="Built-in", routers=[router, console_router], texts=TEXTS,
    digest=missed.contribute,  # timed posts skipped while the bot was down
)
