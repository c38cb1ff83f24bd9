"""/活跃 for members, /群画像 for admins, join/leave records, and the nightly segment count."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, JobContext
from bot.plugin import Role, Router, Schedule
from bot.storage.base import insert_if_missing
from plugins.activity import service
from plugins.activity.models import ActivitySegmentDay
from plugins.activity.settings import ActivitySettings

router = Router()


def snapshot_schedules(settings: ActivitySettings) -> list[Schedule]:
    return [Schedule("segments", at=settings.snapshot_at)]


async def snapshot_segments(ctx: JobContext[ActivitySettings]) -> None:
    """Yesterday's segment counts, kept so the digest can show their trend."""
    await ctx.services.activity.flush()
    day = ctx.slot.astimezone(ctx.group.timezone).date() - timedelta(days=1)
    async with ctx.transaction() as session:
        counts = (await service.segment_counts(session, [ctx.group.id], day, ctx.settings))
        await insert_if_missing(session, ActivitySegmentDay, group_id=ctx.group.id, day=day,
                                **counts[ctx.group.id])


@router.command("activity", "活跃", "我的活跃", help="看看自己近期的活跃度和分层",
                help_en="your recent activity and segment")
async def my_activity(ctx: Context[ActivitySettings]) -> None:
    await ctx.services.activity.flush()
    days = ctx.settings.window_days
    today = ctx.local_now.date()
    async with ctx.transaction() as session:
        stats = await _members_stats(session, ctx.group.id, today - timedelta(days=days - 1),
                                     today)
    mine = service.without_one_command(stats.get(ctx.sender_id, service.MemberStats()))
    stats[ctx.sender_id] = mine  # the core counted this very command: it is not activity
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
    await ctx.services.activity.flush()
    days, today = ctx.settings.window_days, ctx.local_now.date()
    first, week = today - timedelta(days=days - 1), today - timedelta(days=6)
    async with ctx.transaction() as session:
        stats = (await service.window_stats(session, [ctx.group.id], first, today)).get(
            ctx.group.id, {})
        earlier = await _members_stats(session, ctx.group.id, first, week - timedelta(days=1))
        recent = await _members_stats(session, ctx.group.id, week, today)
        joined, left = await service.membership(session, [ctx.group.id])
        per_day = await service.daily_messages(session, ctx.group.id, week, today)
    gone = left.get(ctx.group.id, set())
    counts = service.count_segments(stats, joined.get(ctx.group.id, set()), gone, ctx.settings)
    info = await ctx.services.roles.platform_info(ctx.group.id)
    if info is not None and info.member_count is not None:  # silent members never seen
        speaking = counts["kol"] + counts["active"] + counts["ordinary"]
        counts["lurker"] = max(counts["lurker"], info.member_count - speaking)
    await ctx.reply(_portrait(ctx, stats, gone, counts, per_day,
                              service.falling(earlier, recent)),
                    mention=False)


async def _members_stats(
    session: AsyncSession, group_id: str, first: date, last: date
) -> dict[str, service.MemberStats]:
    """Each member's figures between the two days; members who left are not shown."""
    stats = (await service.window_stats(session, [group_id], first, last)).get(group_id, {})
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
        lines.append(ctx.t("portrait.kols", names="、".join(stats[m].name or m for m in kols[:10])))
    today = ctx.local_now.date()
    week = [per_day.get(today - timedelta(days=6 - i), 0) for i in range(7)]
    lines.append(ctx.t("portrait.trend", bars=service.sparkline(week),
                       counts=" ".join(map(str, week))))
    if falling:
        lines.append(ctx.t("portrait.falling",
                           names="、".join(stats[m].name or m for m in falling[:10])))
    return "\n".join(lines)
