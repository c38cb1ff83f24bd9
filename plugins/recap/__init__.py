"""昨日回顾: each morning, yesterday's most replied-to messages, answered questions,
check-ins and quiz winners, chosen by rules from what the bot recorded, with today's
events from a curated file; events are also announced shortly before they start."""

from __future__ import annotations

from bot.plugin import Job, Plugin
from plugins.recap import handlers, models  # noqa: F401  (models: tables for migrations)
from plugins.recap.digest import contribute
from plugins.recap.service import check_content
from plugins.recap.settings import RecapSettings
from plugins.recap.texts import TEXTS

plugin: Plugin[RecapSettings] = Plugin(
    name="recap",
    title="昨日回顾",
    title_en="Daily recap",
    settings=RecapSettings,
    routers=[handlers.router],
    jobs=[Job("post", handlers.run_job, when=handlers.recap_schedules)],
    texts=TEXTS,
    check_content=check_content,
    digest=contribute,
    on_start=handlers.arm_event_announcements,
)
