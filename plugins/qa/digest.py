"""Unanswered questions for the operators' digest: a count per day and the open ones."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.qa.models import QaUnanswered
from plugins.qa.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    rows = (await session.execute(
        select(QaUnanswered.group_id, QaUnanswered.question, QaUnanswered.asked_at,
               QaUnanswered.closed_at)
        .where(QaUnanswered.group_id.in_(query.group_ids)))).all()
    counts: dict[tuple[str, date], float] = {}
    notes: dict[str, list[str]] = {}
    days = set(query.days)
    for group, question, asked, closed in rows:
        day = query.local_day(group, asked)
        if day in days:
            counts[(group, day)] = counts.get((group, day), 0) + 1
        if closed is None:
            notes.setdefault(group, []).append(question)
    metric = Metric("qa.unanswered", TEXTS.get(query.language, "digest.unanswered"), counts)
    return DigestContribution(metrics=[metric], notes={g: q[:10] for g, q in notes.items()})
