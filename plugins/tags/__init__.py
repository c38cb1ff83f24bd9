"""标签化运营: member tags set by admins, answered in a join questionnaire, or computed from
the bot's records; timed posts and briefings can target a tag (plugins.tags.targeting)."""

from __future__ import annotations

from bot.plugin import Plugin
from plugins.tags import handlers, models  # noqa: F401  (models: tables for migrations)
from plugins.tags.digest import contribute
from plugins.tags.settings import TagsSettings
from plugins.tags.texts import TEXTS

plugin: Plugin[TagsSettings] = Plugin(
    name="tags",
    title="成员标签",
    title_en="Member tags",
    settings=TagsSettings,
    routers=[handlers.router],
    texts=TEXTS,
    digest=contribute,
    on_start=handlers.load_open,
)
