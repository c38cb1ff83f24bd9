"""The plugins qunbot ships. A group's YAML enables them by name; nothing else registers them."""

from __future__ import annotations

from typing import Any

from bot.plugin import Plugin
from plugins.checkin import plugin as checkin
from plugins.moderation import plugin as moderation
from plugins.points import plugin as points
from plugins.qa import plugin as qa
from plugins.timed_posts import plugin as timed_posts

ALL: tuple[Plugin[Any], ...] = (timed_posts, points, checkin, qa, moderation)
