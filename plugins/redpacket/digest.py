"""Red-packet figures for the operators' digest: packets sent, points grabbed, per day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.redpacket.models import RedPacket, RedPacketShare
from plugins.redpacket.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    start, end = query.span()
    days = set(query.days)
    sent: dict[tuple[str, date], float] = {}
    rows = await session.execute(select(RedPacket.group_id, RedPacket.created_at).where(
        RedPacket.group_id.in_(query.group_ids), RedPacket.created_at >= start,
        RedPacket.created_at < end))
    for group, at in rows:
        if (day := query.local_day(group, at)) in days:
            sent[(group, day)] = sent.get((group, day), 0) + 1
    grabbed: dict[tuple[str, date], float] = {}
    rows = await session.execute(
        select(RedPacket.group_id, RedPacketShare.grabbed_at, RedPacketShare.amount)
        .join(RedPacket, RedPacket.id == RedPacketShare.packet_id)
        .where(RedPacket.group_id.in_(query.group_ids), RedPacketShare.grabbed_at >= start,
               RedPacketShare.grabbed_at < end))
    for group, at, amount in rows:
        if (day := query.local_day(group, at)) in days:
            grabbed[(group, day)] = grabbed.get((group, day), 0) + amount
    return DigestContribution(metrics=[
        Metric("redpacket.sent", TEXTS.get(query.language, "digest.sent"), sent),
        Metric("redpacket.points", TEXTS.get(query.language, "digest.points"), grabbed),
    ])
