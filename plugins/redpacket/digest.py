"""Red-packet figures for the operators' digest: packets sent, points grabbed, per day."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.redpacket.models import RedPacket, RedPacketShare
from plugins.redpacket.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    start, end = query.span()
    sent = await session.execute(select(RedPacket.group_id, RedPacket.created_at).where(
        RedPacket.group_id.in_(query.group_ids), RedPacket.created_at >= start,
        RedPacket.created_at < end))
    grabbed = await session.execute(
        select(RedPacket.group_id, RedPacketShare.grabbed_at, RedPacketShare.amount)
        .join(RedPacket, RedPacket.id == RedPacketShare.packet_id)
        .where(RedPacket.group_id.in_(query.group_ids), RedPacketShare.grabbed_at >= start,
               RedPacketShare.grabbed_at < end))
    return DigestContribution(metrics=[
        Metric("redpacket.sent", TEXTS.get(query.language, "digest.sent"), query.tally(sent)),
        Metric("redpacket.points", TEXTS.get(query.language, "digest.points"),
               query.tally(grabbed)),
    ])
