"""`后台` / `/console`: the bot sends a one-time login link to the console by direct message.

Part of the built-in plugin (every group has it). Admins and up only: the bot checks the
role in the group it was asked from (the platform's admins count there), so the link
opens that group's pages, or an operator's groups. The link goes only by direct message.
"""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.i18n import Texts
from bot.plugin import Role, Router

router = Router()

TEXTS = Texts(
    zh={
        "off": "网页后台没有开启（bot.yaml 的 web.enabled）。",
        "no_dm": "这个平台不能私信，请在服务器上运行 bot web passwd 设置密码登录。",
        "sent": "登录链接已私信发给你，{minutes} 分钟内有效，只能用一次。",
        "link": "运营后台登录链接（{minutes} 分钟内有效，只能用一次，请勿转发）：\n{url}",
    },
    en={
        "off": "The web console is off (web.enabled in bot.yaml).",
        "no_dm": "This platform cannot send direct messages: set a password with "
                 "`bot web passwd` on the server and log in with it.",
        "sent": "I sent you a login link by direct message: valid {minutes} minutes, once.",
        "link": "Your console login link (valid {minutes} minutes, single use; do not "
                "forward it):\n{url}",
    },
)


def base_url(settings: Any) -> str:
    """Where people open the console (web.public_url, or the local address)."""
    if settings.public_url:
        return str(settings.public_url).rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


@router.command("console", "后台", role=Role.ADMIN, help="网页后台登录链接（私信）",
                help_en="a login link to the web console (by direct message)")
async def console_link(ctx: Context[Any]) -> None:
    from bot.web import auth

    settings = ctx.services.config.config.web
    language = ctx.group.language
    if not settings.enabled:
        await ctx.reply(TEXTS.get(language, "off"))
        return
    if not ctx.capabilities.direct_message:  # never a login link into the group
        await ctx.reply(TEXTS.get(language, "no_dm"))
        return
    minutes = f"{settings.link_minutes:g}"
    async with ctx.transaction() as session:
        token = await auth.new_link(session, ctx.sender_id, ctx.group.id, ctx.now,
                                    settings.link_minutes)
        url = f"{base_url(settings)}/login/{token}"
        await ctx.dm(ctx.sender_id, TEXTS.get(language, "link", minutes=minutes, url=url))
        await ctx.reply(TEXTS.get(language, "sent", minutes=minutes))
