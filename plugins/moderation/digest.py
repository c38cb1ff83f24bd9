"""Moderation actions for the operators' digest: a count per group and day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.moderation.models import ModerationAction
from plugins.moderation.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    start, end = query.span()
    rows = (await session.execute(
        select(ModerationAction.group_id, ModerationAction.at, ModerationAction.rule,
               ModerationAction.evidence)
        .where(ModerationAction.group_id.in_(query.group_ids), ModerationAction.undone.is_(False),
               ModerationAction.at >= start, ModerationAction.at < end))).all()
    counts: dict[tuple[str, date], float] = {}
    notes: dict[str, list[str]] = {}
    days, last = set(query.days), max(query.days)
    for group, at, rule, evidence in rows:
        day = query.local_day(group, at)
        if day in days:
            counts[(group, day)] = counts.get((group, day), 0) + 1
        if day == last:
            notes.setdefault(group, []).append(f"{rule}: {evidence[:60]}")
    return DigestContribution(
        metrics=[Metric("moderation.actions", TEXTS.get(query.language, "digest.actions"), counts)],
        notes={g: lines[:10] for g, lines in notes.items()})
