"""Check-in figures for the operators' digest: count and rate per group and day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.checkin.models import CheckinDay, CheckinRecord
from plugins.checkin.texts import TEXTS

ACTIVE_WINDOW = 30  # rate = today's check-ins / members who checked in within 30 days

Key = tuple[str, date]


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    """Counts and rates from the nightly figures; days without them are computed here."""
    figures = await kept_figures(session, query)
    missing = tuple(g for g in query.group_ids
                    if any((g, day) not in figures for day in query.days))
    if missing:
        figures = {**await compute_figures(session, replace(query, group_ids=missing)),
                   **figures}
    counts = {key: float(done) for key, (done, _) in figures.items()}
    rates = {key: done / members for key, (done, members) in figures.items() if members}
    return DigestContribution(metrics=[
        Metric("checkin.count", TEXTS.get(query.language, "digest.count"), counts),
        Metric("checkin.rate", TEXTS.get(query.language, "digest.rate"), rates, percent=True),
    ])


async def kept_figures(session: AsyncSession, query: DigestQuery) -> dict[Key, tuple[int, int]]:
    d = CheckinDay
    rows = await session.execute(
        select(d.group_id, d.day, d.checkins, d.members)
        .where(d.group_id.in_(query.group_ids), d.day >= min(query.days),
               d.day <= max(query.days)))
    return {(group, day): (done, members) for group, day, done, members in rows}


async def compute_figures(
    session: AsyncSession, query: DigestQuery
) -> dict[Key, tuple[int, int]]:
    """(check-ins, members who checked in within the window) per group and day."""
    counts = await _daily_counts(session, query)
    members = await _members_in_window(session, query)
    return {key: (int(counts.get(key, 0)), members.get(key, 0))
            for key in {*counts, *members}}


async def _daily_counts(session: AsyncSession, query: DigestQuery) -> dict[Key, float]:
    r = CheckinRecord
    rows = await session.execute(
        select(r.group_id, r.day, func.count())
        .where(r.group_id.in_(query.group_ids), r.day >= min(query.days),
               r.day <= max(query.days), r.kind == "checkin")
        .group_by(r.group_id, r.day))
    return {(group, day): count for group, day, count in rows}


async def _members_in_window(session: AsyncSession, query: DigestQuery) -> dict[Key, int]:
    """Per group and day, the members who checked in within the window ending that day.

    Aggregated in the database with two figures per member — the last check-in up to the
    first day, the first one after it — which decide every day of the digest's week."""
    r = CheckinRecord
    start = min(query.days)
    per_member = (
        select(r.group_id.label("group_id"),
               func.max(case((r.day <= start, r.day))).label("before"),
               func.min(case((r.day > start, r.day))).label("after"))
        .where(r.group_id.in_(query.group_ids),
               r.day >= start - timedelta(days=ACTIVE_WINDOW - 1), r.day <= max(query.days),
               r.kind == "checkin")
        .group_by(r.group_id, r.member_id)
        .subquery())
    before, after = per_member.c.before, per_member.c.after
    columns = [func.sum(case((or_(after <= day, before >= day - timedelta(days=ACTIVE_WINDOW - 1)),
                              1), else_=0))
               for day in query.days]
    rows = await session.execute(
        select(per_member.c.group_id, *columns).group_by(per_member.c.group_id))
    return {(group, day): int(total or 0)
            for group, *totals in rows for day, total in zip(query.days, totals, strict=True)}
