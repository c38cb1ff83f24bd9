"""Segment counts for the operators' digest, from the nightly snapshots only.

Each snapshot was counted by its group's own rules (handlers.snapshot_segments, which also
fills the days its group went without); a group that does not use the plugin has none and
shows no segment figures. Nothing is counted here: over thousands of groups it took seconds.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from bot.storage import chunked
from plugins.activity import service
from plugins.activity.models import ActivitySegmentDay
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
    s = ActivitySegmentDay
    for chunk in chunked(query.group_ids):
        rows = await session.execute(
            select(s.group_id, s.day, *(getattr(s, name) for name in service.SEGMENTS))
            .where(s.group_id.in_(chunk), s.day >= min(query.days), s.day <= max(query.days)))
        for group, day, *counts in rows:
            for name, count in zip(service.SEGMENTS, counts, strict=True):
                values[name][(group, day)] = count
    return values
