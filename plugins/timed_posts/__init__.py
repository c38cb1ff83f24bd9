"""群SOP: timed posts per group — each a daily time (optionally on some weekdays) or a cron line."""

from __future__ import annotations

from bot.plugin import Job, Plugin
from plugins.timed_posts.handlers import TEXTS, router, schedules, send_post
from plugins.timed_posts.settings import TimedPostsSettings

plugin: Plugin[TimedPostsSettings] = Plugin(
    name="timed_posts",
    title="群SOP定时发布",
    title_en="Timed posts",
    settings=TimedPostsSettings,
    routers=[router],
    jobs=[Job("post", send_post, when=schedules)],
    texts=TEXTS,
)
