"""抽奖: admins open a draw with a SHA-256 commitment; members join by keyword; the seed is
revealed at the deadline and `bot verify-draw` recomputes the winners."""

from __future__ import annotations

from bot.plugin import Plugin
from plugins.lottery import models  # noqa: F401  (tables for migrations)
from plugins.lottery.handlers import restore, router
from plugins.lottery.settings import LotterySettings
from plugins.lottery.texts import TEXTS

plugin: Plugin[LotterySettings] = Plugin(
    name="lottery",
    title="抽奖",
    title_en="Lucky draw",
    settings=LotterySettings,
    routers=[router],
    texts=TEXTS,
    on_start=restore,
)
