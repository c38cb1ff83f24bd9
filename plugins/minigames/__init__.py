"""骰子 and 扎气球: small games an admin runs in the group, prizes in points or in words."""

from __future__ import annotations

from bot.plugin import Plugin
from plugins.minigames import models  # noqa: F401  (tables for migrations)
from plugins.minigames.handlers import router
from plugins.minigames.settings import MinigamesSettings
from plugins.minigames.texts import TEXTS

plugin: Plugin[MinigamesSettings] = Plugin(
    name="minigames",
    title="小游戏",
    title_en="Mini games",
    settings=MinigamesSettings,
    routers=[router],
    texts=TEXTS,
)
