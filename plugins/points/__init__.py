"""积分: members see their balance and the leaderboard; admins grant and deduct points."""

from __future__ import annotations

from bot.plugin import Plugin
from plugins.points.handlers import TEXTS, router

plugin: Plugin = Plugin(
    name="points", title="积分", title_en="Points", routers=[router], texts=TEXTS
)
