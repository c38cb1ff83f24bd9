"""Moderation actions for the operators' digest: a count per group and day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.moderation.models import ModerationAction
from plugins.moderation.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    first, last = min(query.days), max(query.days) + timedelta(days=1)
    rows = (await session.execute(
        select(ModerationAction.group_id, ModerationAction.at, ModerationAction.rule,
               ModerationAction.evidence)
        .where(ModerationAction.group_id.in_(query.group_ids), ModerationAction.undone.is_(False),
               ModerationAction.at >= _start(first), ModerationAction.at < _start(last)))).all()
    counts: dict[tuple[str, date], float] = {}
    notes: dict[str, list[str]] = {}
    for group, at, rule, evidence in rows:
        counts[(group, at.date())] = counts.get((group, at.date()), 0) + 1
        if at.date() == max(query.days):
            notes.setdefault(group, []).append(f"{rule}: {evidence[:60]}")
    return DigestContribution(
        metrics=[Metric("moderation.actions", TEXTS.get("zh", "digest.actions"), counts)],
        notes={g: lines[:10] for g, lines in notes.items()})


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
