"""手气红包 with points (never money): split at send time, grabbed once each, refunded on
expiry; system packets paid from the group's pool."""

from __future__ import annotations

from bot.plugin import Job, Plugin
from plugins.redpacket import models  # noqa: F401  (tables for migrations)
from plugins.redpacket.digest import contribute
from plugins.redpacket.handlers import restore, router, system_packet, system_schedules
from plugins.redpacket.settings import RedPacketSettings
from plugins.redpacket.texts import TEXTS

plugin: Plugin[RedPacketSettings] = Plugin(
    name="redpacket",
    title="手气红包",
    title_en="Red packets",
    settings=RedPacketSettings,
    routers=[router],
    jobs=[Job("system", system_packet, when=system_schedules)],
    texts=TEXTS,
    digest=contribute,
    on_start=restore,
)
