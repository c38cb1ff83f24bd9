"""Check-in commands and jobs: thin wrappers that call the service and phrase the answers."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, EventContext, JobContext
from bot.plugin import DigestQuery, Router, Schedule
from bot.ranking import standings
from bot.storage import insert_if_missing
from plugins.checkin import digest, service
from plugins.checkin.models import CheckinDay
from plugins.checkin.settings import CheckinSettings
from plugins.tags.targeting import tagged_in

router = Router()
BAR_WIDTH = 10


def progress_bar(done: int, goal: int) -> str:
    filled = min(BAR_WIDTH, round(BAR_WIDTH * done / goal)) if goal else BAR_WIDTH
    return "▓" * filled + "░" * (BAR_WIDTH - filled) + f" {done}/{goal}"


@router.command("checkin", "打卡", "签到", help="每日打卡，可附一句今天的收获",
                help_en="daily check-in, optionally with a note")
async def check_in(ctx: Context[CheckinSettings]) -> None:
    try:
        async with ctx.transaction() as session:
            outcome = await service.check_in(session, ctx.settings, ctx.group.id, ctx.sender_id,
                                             ctx.sender_name, ctx.args, ctx.now,
                                             ctx.group.timezone, ctx.services.blackroom)
            await _report(ctx, outcome)  # in the transaction: kept with the state it reports
    except (service.AlreadyCheckedIn, IntegrityError):
        # Lost a race with a simultaneous check-in (same day, or the same first ever).
        await _report(ctx, service.Refused("already"))


async def _report(ctx: Context[CheckinSettings], outcome: service.Refused | service.Done) -> None:
    # Routine confirmations: under the send budget, a rush's go out a few to a message.
    if isinstance(outcome, service.Refused):
        await ctx.reply(ctx.t(f"refused.{outcome.key}", **outcome.values),
                        coalesce="checkin" if outcome.key == "already" else None)
        return
    await ctx.reply(_done_text(ctx, outcome), coalesce="checkin")
    await _celebrate(ctx, outcome)


async def _celebrate(ctx: Context[CheckinSettings], done: service.Done) -> None:
    """One post per milestone passed (a freeze or a 补签 may pass several at once)."""
    for days in done.milestones:
        await ctx.post(ctx.t("milestone", days=days, bonus=ctx.settings.milestones[days]),
                       mentions=(ctx.sender_id,))


def level_name(ctx: Context[CheckinSettings], level: int) -> str:
    """`Lv3 常客`: the number always, a name for the first levels."""
    try:
        name = ctx.t(f"level.{level}")
    except KeyError:
        name = ""
    return ctx.t("level", level=level, name=name).strip()


def _done_text(ctx: Context[CheckinSettings], done: service.Done) -> str:
    lines = [ctx.t("done", rank=done.rank, streak=done.streak, total=done.total,
                   points=done.points, balance=done.balance)]
    if done.frozen_days:
        lines.append(ctx.t("done.frozen", days=done.frozen_days))
    if done.comeback_bonus:
        lines.append(ctx.t("done.comeback", bonus=done.comeback_bonus))
    if done.next_milestone is not None:
        lines.append(ctx.t("done.next", goal=done.next_milestone,
                           left=done.next_milestone - done.streak,
                           bar=progress_bar(done.streak, done.next_milestone)))
    if done.level_up is not None:
        lines.append(ctx.t("level_up", level=level_name(ctx, done.level_up)))
    return "\n".join(lines)


@router.command("makeup", "补签", help="补签昨天（花积分，每月有限次）",
                help_en="make up yesterday (costs points, limited per month)")
async def make_up(ctx: Context[CheckinSettings]) -> None:
    async with ctx.transaction() as session:
        outcome = await service.make_up(session, ctx.settings, ctx.group.id, ctx.sender_id,
                                        ctx.sender_name, ctx.now, ctx.group.timezone,
                                        ctx.services.blackroom)
        await _report_make_up(ctx, outcome)  # in the transaction: kept with the state it reports


async def _report_make_up(ctx: Context[CheckinSettings],
                          outcome: service.Refused | service.Done) -> None:
    if isinstance(outcome, service.Refused):
        await ctx.reply(ctx.t(f"refused.{outcome.key}", **outcome.values))
        return
    lines = [ctx.t("makeup.done", cost=-outcome.points, streak=outcome.streak,
                   balance=outcome.balance)]
    if outcome.level_up is not None:
        lines.append(ctx.t("level_up", level=level_name(ctx, outcome.level_up)))
    await ctx.reply("\n".join(lines))
    await _celebrate(ctx, outcome)


@router.command("mycheckin", "我的打卡", help="我的连续天数、累计和本月日历",
                help_en="my streak, totals and this month's calendar")
async def my_checkins(ctx: Context[CheckinSettings]) -> None:
    async with ctx.transaction() as session:
        mine = await service.summary(session, ctx.settings, ctx.group.id, ctx.sender_id,
                                     ctx.now, ctx.group.timezone, ctx.services.blackroom)
    level = service.level_of(ctx.settings, mine.total)
    lines = [ctx.t("mine", streak=mine.streak, best=mine.best, total=mine.total,
                   freezes=mine.freezes_used, allowed=ctx.settings.freezes_per_month),
             _level_line(ctx, level, mine.total),
             ctx.t("calendar.header", year=mine.today.year, month=mine.today.month,
                   mm=f"{mine.today.month:02d}"),
             ctx.t("calendar.weekdays"), *month_grid(mine), ctx.t("calendar.legend")]
    await ctx.reply("\n".join(lines))


def _level_line(ctx: Context[CheckinSettings], level: int, total: int) -> str:
    upcoming = [days for days in ctx.settings.levels if days > total]
    if not upcoming:
        return ctx.t("level.top", level=level_name(ctx, level))
    return ctx.t("level.mine", level=level_name(ctx, level) if level else ctx.t("level.none"),
                 left=upcoming[0] - total, next=level_name(ctx, level + 1))


MARKS = {"checkin": "●", "makeup": "◐", "freeze": "❄"}


def month_grid(mine: service.Summary) -> list[str]:
    """One row per week, Monday first: ● done, ◐ made up, ❄ frozen, ○ missed."""
    rows = []
    for week in calendar.Calendar().monthdatescalendar(mine.today.year, mine.today.month):
        cells = []
        for day in week:
            if day.month != mine.today.month or day > mine.today:
                cells.append("  ")
            else:
                cells.append(MARKS.get(mine.month.get(day, ""), "○") + " ")
        rows.append("".join(cells).rstrip())
    return rows


@router.command("checkin_top", "打卡榜", help="今日打卡顺序、连续榜和本月累计",
                help_en="today's order, streaks and this month's totals")
async def boards(ctx: Context[CheckinSettings]) -> None:
    today = service.local_day(ctx.now, ctx.group.timezone, ctx.settings.day_starts_at)
    async with ctx.transaction() as session:
        began = await ctx.services.blackroom.latest_starts(session, ctx.group.id)
        cuts = {member: service.local_day(at, ctx.group.timezone, ctx.settings.day_starts_at)
                for member, at in began.items()}
        order, streaks, month = await service.boards(session, ctx.group.id, today, cuts)
    tz = ctx.group.timezone
    lines = [ctx.t("board.today", count=len(order))]
    lines += [f"{n}. {name} {at.astimezone(tz):%H:%M}" for n, (name, at) in
              enumerate(order[:20], start=1)] or [ctx.t("board.nobody")]
    for title, board in (("board.streaks", streaks), ("board.month", month)):
        lines.append(ctx.t(title))
        lines += [ctx.t("board.days", n=n, name=name, days=days)
                  for n, (name, days) in standings(board, lambda row: row[1])
                  ] or [ctx.t("board.nobody")]
    await ctx.reply("\n".join(lines), mention=False)


QUIET_ON = frozenset({"开", "开启", "打开", "on", "是"})
QUIET_OFF = frozenset({"关", "关闭", "关掉", "取消", "off", "否"})


@router.command("quiet", "免打扰", help="打卡提醒免打扰：/免打扰 开 或 /免打扰 关",
                help_en="reminders: /quiet on or /quiet off")
async def quiet(ctx: Context[CheckinSettings]) -> None:
    """`开` turns reminders off, `关` back on; a bare /免打扰 turns them off too (what a
    member sending it means), so sending it twice never turns nagging back on."""
    word = ctx.args.strip().casefold()
    wanted = True if word in QUIET_ON or not word else False if word in QUIET_OFF else None
    async with ctx.transaction() as session:
        now_quiet, unchanged = await service.set_quiet(session, ctx.group.id, ctx.sender_id,
                                                       ctx.sender_name, wanted)
        await ctx.reply(ctx.t(_quiet_key(wanted, now_quiet, unchanged)))  # kept with the state


def _quiet_key(wanted: bool | None, now_quiet: bool, unchanged: bool) -> str:
    if wanted is None:
        return "quiet.usage.on" if now_quiet else "quiet.usage.off"
    if now_quiet:
        return "quiet.already_on" if unchanged else "quiet.on"
    return "quiet.already_off" if unchanged else "quiet.off"


@router.on_leave
async def left_group(ctx: EventContext[CheckinSettings]) -> None:
    async with ctx.transaction() as session:
        await service.mark_presence(session, ctx.group.id, ctx.member_id, ctx.now)


@router.on_join
async def joined_group(ctx: EventContext[CheckinSettings]) -> None:
    async with ctx.transaction() as session:
        await service.mark_presence(session, ctx.group.id, ctx.member_id, None)


def schedules(settings: CheckinSettings) -> list[Schedule]:
    # Just after the check-in day closes: the day's figures, kept for the operators' digest.
    closes = datetime.combine(date(2000, 1, 1), settings.day_starts_at) + timedelta(minutes=5)
    result = [Schedule("figures", at=closes.time(), payload="figures", background=True)]
    if settings.reminder_at is not None:
        result.append(Schedule("reminder", at=settings.reminder_at, payload="remind"))
    if settings.praise_at is not None:
        result.append(Schedule("praise", at=settings.praise_at, payload="praise"))
    return result


async def run_job(ctx: JobContext[CheckinSettings]) -> None:
    day = service.local_day(ctx.slot, ctx.group.timezone, ctx.settings.day_starts_at)
    if ctx.payload == "figures":
        await keep_figures(ctx, day - timedelta(days=1))
        return
    tags = ctx.settings.reminder_tags if ctx.payload == "remind" else []
    if tags:
        await ctx.services.activity.flush_counts()  # the tags read them; its own transaction
    # One transaction: the slot is marked done with the posts it sends (bot/scheduler.py's
    # SlotUnit marks it in the job's first one), so a kill keeps both or neither.
    async with ctx.transaction() as session:
        members = await _to_post_for(ctx, session, day)
        if tags:
            tagged = set(await tagged_in(ctx, session, tags))
            members = [member for member in members if member in tagged]
        # A few messages with many @-mentions each, never one message per member.
        batch = ctx.settings.reminder_batch
        for start in range(0, len(members), batch):
            chunk = tuple(members[start:start + batch])
            key = "reminder" if ctx.payload == "remind" else "praise"
            await ctx.post(ctx.t(key, count=len(members)), mentions=chunk)


async def _to_post_for(ctx: JobContext[CheckinSettings], session: AsyncSession,
                       day: date) -> list[str]:
    """Who the reminder (those who have not checked in) or the praise (yesterday's) is for."""
    if ctx.payload != "remind":
        return await service.completers(session, ctx.group.id, day - timedelta(days=1))
    jailed = await ctx.services.blackroom.members(ctx.group.id, ctx.now, session=session)
    return await service.to_remind(session, ctx.group.id, day, ctx.now,
                                   ctx.settings.reminder_inactive_days, frozenset(jailed))


async def keep_figures(ctx: JobContext[CheckinSettings], day: date) -> None:
    query = DigestQuery((ctx.group.id,), (day,), {ctx.group.id: ctx.group.timezone})
    async with ctx.transaction() as session:
        done, members = (await digest.compute_figures(session, query)).get(
            (ctx.group.id, day), (0, 0))
        await insert_if_missing(session, CheckinDay, group_id=ctx.group.id, day=day,
                                checkins=done, members=members)
