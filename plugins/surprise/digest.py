"""Surprises in the operators' digest: given per day, and how many of those members spoke
again within 3 days (counted on the surprise's day)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from bot.storage import chunked
from plugins.surprise.models import SurpriseGiven
from plugins.surprise.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    first, last = query.span()
    s = SurpriseGiven
    given, back = [], []
    for chunk in chunked(query.group_ids):
        rows = await session.execute(select(s.group_id, s.at, s.spoke_again_at).where(
            s.group_id.in_(chunk), s.at >= first, s.at < last))
        for group, at, spoke in rows:
            given.append((group, at))
            if spoke is not None:
                back.append((group, at))
    return DigestContribution(metrics=[
        Metric("surprise.given", TEXTS.get(query.language, "digest.given"), query.tally(given)),
        Metric("surprise.back", TEXTS.get(query.language, "digest.back"), query.tally(back)),
    ])
