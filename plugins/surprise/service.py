"""Who is fading (their last 7 days under `drop` of their previous 4-week weekly average,
after being active), surprises given, and who spoke again within BACK_WITHIN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.activity import service as activity
from plugins.surprise.models import SurpriseGiven
from plugins.surprise.settings import SurpriseSettings

BACK_WITHIN = timedelta(days=3)
RECENT_DAYS, BEFORE_WEEKS = 7, 4


@dataclass(frozen=True)
class Fading:
    member_id: str
    name: str
    recent: int  # messages in the last 7 days
    weekly_before: float  # average a week over the 4 weeks before


async def fading_members(session: AsyncSession, group_id: str, today: date,
                         settings: SurpriseSettings) -> list[Fading]:
    """Members still in the group whose last 7 full days fell below `drop` × their weekly
    average of the 4 weeks before, when that average was at least `min_weekly`; biggest
    drop first."""
    recent_first = today - timedelta(days=RECENT_DAYS)
    before_first = recent_first - timedelta(weeks=BEFORE_WEEKS)
    yesterday = today - timedelta(days=1)
    stats = await activity.window_stats(session, [group_id], recent_first, yesterday)
    before = await activity.window_stats(session, [group_id], before_first,
                                         recent_first - timedelta(days=1))
    _, left = await activity.membership(session, [group_id])
    recent, gone = stats.get(group_id, {}), left.get(group_id, set())
    found = []
    for member, figures in before.get(group_id, {}).items():
        weekly = figures.messages / BEFORE_WEEKS
        now = recent.get(member, activity.MemberStats()).messages
        if member not in gone and weekly >= settings.min_weekly and now < settings.drop * weekly:
            found.append(Fading(member, figures.name or member, now, weekly))
    return sorted(found, key=lambda f: (f.recent / f.weekly_before, -f.weekly_before,
                                        f.member_id))


async def surprised_since(session: AsyncSession, group_id: str, since: datetime) -> set[str]:
    rows = await session.scalars(select(SurpriseGiven.member_id).where(
        SurpriseGiven.group_id == group_id, SurpriseGiven.at >= since))
    return set(rows)


async def mark_spoke_again(session: AsyncSession, group_id: str, member_id: str,
                           now: datetime) -> None:
    s = SurpriseGiven
    await session.execute(update(s).where(
        s.group_id == group_id, s.member_id == member_id, s.spoke_again_at.is_(None),
        s.at >= now - BACK_WITHIN, s.at <= now).values(spoke_again_at=now))
