"""每日打卡: daily check-ins with streaks, milestones, makeup, reminders and anti-copy."""

from __future__ import annotations

from bot.plugin import Job, Plugin
from plugins.checkin import models  # noqa: F401  (tables for migrations)
from plugins.checkin.digest import contribute
from plugins.checkin.handlers import router, run_job, schedules
from plugins.checkin.settings import CheckinSettings
from plugins.checkin.texts import TEXTS

plugin: Plugin[CheckinSettings] = Plugin(
    name="checkin",
    title="每日打卡",
    title_en="Daily check-in",
    settings=CheckinSettings,
    routers=[router],
    jobs=[Job("daily", run_job, when=schedules)],
    texts=TEXTS,
    digest=contribute,
)
