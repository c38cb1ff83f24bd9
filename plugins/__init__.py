"""The plugins qunbot ships. A group's YAML enables them by name; nothing else registers them."""

from __future__ import annotations

from typing import Any

from bot.plugin import Plugin
from plugins.activity import plugin as activity
from plugins.briefing import plugin as briefing
from plugins.checkin import plugin as checkin
from plugins.invites import plugin as invites
from plugins.lottery import plugin as lottery
from plugins.minigames import plugin as minigames
from plugins.moderation import plugin as moderation
from plugins.points import plugin as points
from plugins.qa import plugin as qa
from plugins.quiz import plugin as quiz
from plugins.recap import plugin as recap
from plugins.redpacket import plugin as redpacket
from plugins.surprise import plugin as surprise
from plugins.tags import plugin as tags
from plugins.timed_posts import plugin as timed_posts

ALL: tuple[Plugin[Any], ...] = (timed_posts, points, checkin, qa, moderation, quiz, minigames,
                                 redpacket, lottery, briefing, activity, tags,
                                 invites, recap, surprise)
