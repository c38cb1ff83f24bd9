"""The briefing's lines in the operators' digest: items posted, and feeds that fail."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.briefing.models import BriefingFeed, BriefingRun
from plugins.briefing.service import EMPTY
from plugins.briefing.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    items: dict[tuple[str, date], float] = {}
    # The day's briefing, however it was posted (admins re-posting it are not counted twice).
    rows = await session.execute(
        select(BriefingRun.group_id, BriefingRun.day, func.max(BriefingRun.items)).where(
            BriefingRun.group_id.in_(query.group_ids),
            BriefingRun.day >= min(query.days), BriefingRun.day <= max(query.days),
            BriefingRun.trigger != EMPTY)
        .group_by(BriefingRun.group_id, BriefingRun.day))
    for group, day, count in rows:
        items[(group, day)] = count
    notes: dict[str, list[str]] = {}
    # The digest's day with nothing to post: the group saw no briefing, operators hear why.
    day = max(query.days)
    empty = await session.scalars(select(BriefingRun.group_id).where(
        BriefingRun.group_id.in_(query.group_ids), BriefingRun.day == day,
        BriefingRun.trigger == EMPTY))
    for group in set(empty):
        if (group, day) not in items:
            notes.setdefault(group, []).append(
                TEXTS.get(query.language, "digest.empty", date=day.isoformat()))
    wanted = set(query.group_ids)
    for feed in await session.scalars(select(BriefingFeed).where(BriefingFeed.error.is_not(None))):
        since = feed.failing_since.strftime("%m-%d %H:%M UTC") if feed.failing_since else "?"
        line = TEXTS.get(query.language, "digest.failing", feed=feed.url, since=since,
                         error=feed.error)
        for group in set(feed.group_ids or []) & wanted:
            notes.setdefault(group, []).append(line)
    return DigestContribution(
        metrics=[Metric("briefing.items", TEXTS.get(query.language, "digest.items"), items)],
        notes=notes)
