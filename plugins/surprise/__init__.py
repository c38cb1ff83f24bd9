"""要素五 惊喜: a small surprise (a friendly @ with bonus points, or a private message) for
members whose activity is dropping — before they go silent — at most once per every_days."""

from __future__ import annotations

from bot.plugin import Job, Plugin
from plugins.surprise import handlers, models  # noqa: F401  (models: tables for migrations)
from plugins.surprise.digest import contribute
from plugins.surprise.settings import SurpriseSettings
from plugins.surprise.texts import TEXTS

plugin: Plugin[SurpriseSettings] = Plugin(
    name="surprise",
    title="惊喜福利",
    title_en="Surprises",
    settings=SurpriseSettings,
    routers=[handlers.router],
    jobs=[Job("daily", handlers.give_surprises, when=handlers.surprise_schedules)],
    texts=TEXTS,
    digest=contribute,
    on_start=handlers.load_watching,
)
