"""Invitations for the operators' digest: invited joins and invitations counted, per day."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from bot.storage import chunked
from plugins.invites.models import Invitation
from plugins.invites.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    first, last = query.span()
    i = Invitation
    joins: list[tuple[str, object]] = []
    settled: list[tuple[str, object, float]] = []
    for chunk in chunked(query.group_ids):
        joins += list(await session.execute(select(i.group_id, i.joined_at).where(
            i.group_id.in_(chunk), i.inviter_id.is_not(None), i.joined_at >= first,
            i.joined_at < last)))
        settled += list(await session.execute(select(i.group_id, i.settled_at, i.weight).where(
            i.group_id.in_(chunk), i.inviter_id.is_not(None), i.status == "counted",
            i.settled_at >= first, i.settled_at < last)))
    return DigestContribution(metrics=[
        Metric("invites.joins", TEXTS.get(query.language, "digest.joins"), query.tally(joins)),
        Metric("invites.counted", TEXTS.get(query.language, "digest.counted"),
               query.tally(settled)),
    ])
