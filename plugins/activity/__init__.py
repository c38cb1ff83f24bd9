"""用户分层: members' activity and segments (KOL, active, ordinary, lurker); /活跃, /群画像."""

from __future__ import annotations

from bot.plugin import Job, Plugin
from plugins.activity import handlers, models  # noqa: F401  (models: tables for migrations)
from plugins.activity.digest import contribute
from plugins.activity.settings import ActivitySettings
from plugins.activity.texts import TEXTS

plugin: Plugin[ActivitySettings] = Plugin(
    name="activity",
    title="活跃分层",
    title_en="Member activity",
    settings=ActivitySettings,
    routers=[handlers.router],
    jobs=[Job("segments", handlers.snapshot_segments, when=handlers.snapshot_schedules)],
    texts=TEXTS,
    digest=contribute,
)
