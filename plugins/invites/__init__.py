"""邀请有奖: who invited whom, /邀请榜, rewards per invitee who stayed and at thresholds,
reversed through the ledger when an invitee leaves early."""

from __future__ import annotations

from bot.plugin import Job, Plugin
from plugins.invites import handlers, models  # noqa: F401  (models: tables for migrations)
from plugins.invites.digest import contribute
from plugins.invites.settings import InvitesSettings
from plugins.invites.texts import TEXTS

plugin: Plugin[InvitesSettings] = Plugin(
    name="invites",
    title="邀请有奖",
    title_en="Invitations",
    settings=InvitesSettings,
    routers=[handlers.router],
    jobs=[Job("settle", handlers.settle, when=handlers.settle_schedules)],
    texts=TEXTS,
    digest=contribute,
)
