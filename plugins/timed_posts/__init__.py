"""群SOP: timed posts per group — each a daily time (optionally on some weekdays) or a cron line;
text inline or from a file, placeholders, and topic pools drawn without repeats."""

from __future__ import annotations

from bot.plugin import Job, Plugin
from plugins.timed_posts import models  # noqa: F401  (tables for migrations)
from plugins.timed_posts.handlers import TEXTS, router, schedules, send_post
from plugins.timed_posts.service import check_content
from plugins.timed_posts.settings import TimedPostsSettings

plugin: Plugin[TimedPostsSettings] = Plugin(
    name="timed_posts",
    title="群SOP定时发布",
    title_en="Timed posts",
    settings=TimedPostsSettings,
    routers=[router],
    jobs=[Job("post", send_post, when=schedules)],
    texts=TEXTS,
    check_content=check_content,
)
