"""Check-in figures for the operators' digest: count and rate per group and day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.checkin.models import CheckinRecord
from plugins.checkin.texts import TEXTS

ACTIVE_WINDOW = 30  # rate = today's check-ins / members who checked in within 30 days


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    first = min(query.days) - timedelta(days=ACTIVE_WINDOW - 1)
    rows = await session.execute(
        select(CheckinRecord.group_id, CheckinRecord.member_id, CheckinRecord.day)
        .where(CheckinRecord.group_id.in_(query.group_ids), CheckinRecord.day >= first,
               CheckinRecord.day <= max(query.days), CheckinRecord.kind == "checkin"))
    seen: dict[str, list[tuple[str, date]]] = {}
    for group, member, day in rows:
        seen.setdefault(group, []).append((member, day))
    counts: dict[tuple[str, date], float] = {}
    rates: dict[tuple[str, date], float] = {}
    for group, records in seen.items():
        for day in query.days:
            window = {m for m, d in records if day - timedelta(days=ACTIVE_WINDOW - 1) <= d <= day}
            done = sum(1 for _, d in records if d == day)
            counts[(group, day)] = done
            rates[(group, day)] = done / len(window) if window else 0.0
    return DigestContribution(metrics=[
        Metric("checkin.count", TEXTS.get("zh", "digest.count"), counts),
        Metric("checkin.rate", TEXTS.get("zh", "digest.rate"), rates, percent=True),
    ])
