"""The recap in the operators' digest: highlights recorded (messages that drew replies)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from bot.storage import chunked
from plugins.recap.models import RecapReplied
from plugins.recap.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    r = RecapReplied
    values: dict[tuple[str, date], float] = {}
    for chunk in chunked(query.group_ids):
        rows = await session.execute(
            select(r.group_id, r.day, func.count())
            .where(r.group_id.in_(chunk), r.day >= min(query.days), r.day <= max(query.days))
            .group_by(r.group_id, r.day))
        values.update({(group, day): float(n) for group, day, n in rows})
    return DigestContribution(metrics=[
        Metric("recap.replied", TEXTS.get(query.language, "digest.replied"), values)])
