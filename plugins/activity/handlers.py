"""/活跃 for members, /群画像 for admins, join/leave records, and the nightly segment count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activity import ActivityDaily
from bot.context import Context, JobContext
from bot.i18n import join_list
from bot.plugin import Role, Router, Schedule
from bot.storage.base import insert_if_missing
from plugins.activity import service
from plugins.activity.models import ActivitySegmentDay
from plugins.activity.settings import ActivitySettings

router = Router()


def snapshot_schedules(settings: ActivitySettings) -> list[Schedule]:
    return [Schedule("segments", at=settings.snapshot_at, background=True)]


SNAPSHOT_DAYS = 8  # yesterday and the 7 days before: the digest's day and its baseline


async def snapshot_segments(ctx: JobContext[ActivitySettings]) -> None:
    """Yesterday's segment counts, kept so the digest can show their trend; with them any
    of the 7 days before that has none (the bot was down over a night's run, or the plugin
    was just turned on), so the digest never lacks its baseline."""
    await ctx.services.activity.flush_counts()
    yesterday = ctx.slot.astimezone(ctx.group.timezone).date() - timedelta(days=1)
    room = await _room(ctx)
    async with ctx.transaction() as session:
        missing = await _days_without_snapshot(session, ctx.group.id, yesterday)
        events = (await service.member_events(session, [ctx.group.id])).get(ctx.group.id, [])
        for day in missing:
            counts = await _day_segments(session, ctx, day, events, room)
            await insert_if_missing(session, ActivitySegmentDay, group_id=ctx.group.id, day=day,
                                    **counts)


async def _days_without_snapshot(
    session: AsyncSession, group_id: str, yesterday: date
) -> list[date]:
    """Yesterday, and the days before it (up to SNAPSHOT_DAYS in all) left without a snapshot.

    Days before the core's first counter for the group are not backfilled: they were not
    quiet, just unseen, and zeros would make a false baseline."""
    first = yesterday - timedelta(days=SNAPSHOT_DAYS - 1)
    snap, daily = ActivitySegmentDay, ActivityDaily
    have = set(await session.scalars(select(snap.day).where(
        snap.group_id == group_id, snap.day >= first, snap.day <= yesterday)))
    counted = await session.scalar(select(func.min(daily.day)).where(daily.group_id == group_id))
    since = min(yesterday, max(first, counted or yesterday))
    days = [since + timedelta(days=n) for n in range((yesterday - since).days + 1)]
    return [day for day in days if day not in have]


async def _day_segments(session: AsyncSession, ctx: JobContext[ActivitySettings], day: date,
                        events: list[service.Event], room: Room) -> dict[str, int]:
    """The segments as they stood at the end of `day` (the group's local midnight after it),
    by this group's rules."""
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=ctx.group.timezone)
    if room.ids is not None:  # who was in the room then: each counted, the silent as lurkers
        stats = await service.window_until(session, ctx.group.id, day, ctx.settings)
        return service.count_room(stats, service.members_at(room.ids, events, end),
                                  ctx.settings)
    joined, left = service.membership_of(events, until=end)
    counts = await service.segment_counts(session, ctx.group.id, day, ctx.settings, joined, left)
    if room.count is None:
        return counts
    return service.with_silent_members(counts, service.members_then(room.count, events, end))


@dataclass(frozen=True)
class Room:
    """What the platform says of the room's members: who (if it lists them), how many."""

    ids: set[str] | None = None
    count: int | None = None


async def _room(ctx: Context[ActivitySettings] | JobContext[ActivitySettings]) -> Room:
    info = await ctx.services.roles.platform_info(ctx.group.id)
    if info is None:
        return Room()
    return Room(set(info.member_ids) if info.member_ids is not None else None, info.member_count)


@router.command("activity", "活跃", "我的活跃", help="看看自己近期的活跃度和分层",
                help_en="your recent activity and segment")
async def my_activity(ctx: Context[ActivitySettings]) -> None:
    await ctx.services.activity.flush_counts()
    days = ctx.settings.window_days
    today = ctx.local_now.date()
    async with ctx.transaction() as session:
        stats = await _members_stats(session, ctx.group.id, today - timedelta(days=days - 1),
                                     today)
    mine = stats.get(ctx.sender_id, service.MemberStats())  # commands (this one) not counted
    total = sum(s.messages for s in stats.values())
    segment = ctx.t("segment." + service.segment_of(mine, total, ctx.settings))
    if mine.messages == 0:
        await ctx.reply(ctx.t("mine.none", name=ctx.sender_name, days=days, segment=segment))
        return
    rank = 1 + sum(1 for s in stats.values() if s.messages > mine.messages)
    await ctx.reply(ctx.t("mine", name=ctx.sender_name, days=days, messages=mine.messages,
                          rank=rank, active_days=mine.days, mentions=mine.mentions,
                          segment=segment))


@router.command("portrait", "群画像", role=Role.ADMIN, help="本群的活跃分层与趋势",
                help_en="this group's segments and trend")
async def group_portrait(ctx: Context[ActivitySettings]) -> None:
    await ctx.services.activity.flush_counts()
    days, today = ctx.settings.window_days, ctx.local_now.date()
    first, week = today - timedelta(days=days - 1), today - timedelta(days=6)
    async with ctx.transaction() as session:
        stats, earlier, recent = await service.split_window_stats(session, ctx.group.id,
                                                                  first, week, today)
        joined, left = await service.membership(session, [ctx.group.id])  # read once
        gone = left.get(ctx.group.id, set())
        # Members who left are not shown.
        earlier = {m: figures for m, figures in earlier.items() if m not in gone}
        recent = {m: figures for m, figures in recent.items() if m not in gone}
        per_day = await service.daily_messages(session, ctx.group.id, week, today)
    room = await _room(ctx)
    if room.ids is not None:  # the platform lists the room: everyone in it is counted
        counts = service.count_room(stats, room.ids, ctx.settings)
    else:
        counts = service.with_silent_members(
            service.count_segments(stats, joined.get(ctx.group.id, set()), gone, ctx.settings),
            room.count)
    await ctx.reply(_portrait(ctx, stats, gone, counts, per_day,
                              service.falling(earlier, recent)),
                    mention=False)


async def _members_stats(
    session: AsyncSession, group_id: str, first: date, last: date,
    gone: set[str] | None = None,
) -> dict[str, service.MemberStats]:
    """Each member's figures between the two days; members who left (`gone`, read here
    unless given) are not shown."""
    stats = (await service.window_stats(session, [group_id], first, last, chatter=True)).get(
        group_id, {})
    if gone is None:
        _, left = await service.membership(session, [group_id])
        gone = left.get(group_id, set())
    return {member: figures for member, figures in stats.items() if member not in gone}


def _portrait(ctx: Context[ActivitySettings], stats: dict[str, service.MemberStats],
              gone: set[str], counts: dict[str, int], per_day: dict, falling: list[str]) -> str:
    """Totals count everyone's messages; members who left are not named."""
    total = sum(s.messages for s in stats.values())
    lines = [ctx.t("portrait.header", group=ctx.group.name, days=ctx.settings.window_days,
                   messages=total, speakers=sum(1 for s in stats.values() if s.messages)),
             ctx.t("portrait.segments", **counts)]
    kols = sorted((m for m, s in stats.items()
                   if m not in gone and service.segment_of(s, total, ctx.settings) == "kol"),
                  key=lambda m: -stats[m].messages)
    if kols:
        lines.append(ctx.t("portrait.kols", names=join_list(
            ctx.group.language, (stats[m].name or m for m in kols[:10]))))
    today = ctx.local_now.date()
    week = [per_day.get(today - timedelta(days=6 - i), 0) for i in range(7)]
    lines.append(ctx.t("portrait.trend", bars=service.sparkline(week),
                       counts=" ".join(map(str, week))))
    if falling:
        lines.append(ctx.t("portrait.falling",
                           names=join_list(ctx.group.language,
                                           (stats[m].name or m for m in falling[:10]))))
    return "\n".join(lines)
