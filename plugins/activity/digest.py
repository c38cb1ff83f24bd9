"""Segment counts for the operators' digest.

Segment counts come from the nightly snapshots (each group's own rules); a day without one
is computed here with the default rules, all groups in one query per day.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from bot.storage import chunked
from plugins.activity import service
from plugins.activity.models import ActivitySegmentDay
from plugins.activity.settings import ActivitySettings
from plugins.activity.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    segments = await _segments(session, query)
    metrics = [Metric(f"activity.{name}", TEXTS.get(query.language, f"digest.{name}"), values)
               for name, values in segments.items()]
    return DigestContribution(metrics=metrics)


async def _segments(
    session: AsyncSession, query: DigestQuery
) -> dict[str, dict[tuple[str, date], float]]:
    values: dict[str, dict[tuple[str, date], float]] = {name: {} for name in service.SEGMENTS}
    have: set[tuple[str, date]] = set()
    for chunk in chunked(query.group_ids):
        s = ActivitySegmentDay
        rows = await session.execute(
            select(s.group_id, s.day, *(getattr(s, name) for name in service.SEGMENTS))
            .where(s.group_id.in_(chunk), s.day >= min(query.days), s.day <= max(query.days)))
        for group, day, *counts in rows:
            have.add((group, day))
            for name, count in zip(service.SEGMENTS, counts, strict=True):
                values[name][(group, day)] = count
    for day in query.days:
        missing = [g for g in query.group_ids if (g, day) not in have]
        if not missing:
            continue
        counted = await service.segment_counts(session, missing, day, ActivitySettings())
        for group, counts in counted.items():
            for name in service.SEGMENTS:
                values[name][(group, day)] = counts[name]
    return values
