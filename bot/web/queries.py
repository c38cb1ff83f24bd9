"""What the pages show, read from the tables the digest reads, with its aggregate queries.

Nothing here runs on the message path: pages ask when they are opened. Plugin tables are
read only when the plugin is installed (a missing one leaves its part of a page empty).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activity import ActivityDaily
from bot.blackroom import Blackroom, Stay
from bot.digest import service as digest
from bot.groups import GroupSetup
from bot.ledger import PointsAccount
from bot.storage import chunked
from bot.text import excerpt
from bot.web.charts import sparkline

if TYPE_CHECKING:
    from bot.runtime import BotRuntime


@dataclass(frozen=True)
class Closed:
    """A group's finished days, as the digest reports them (cached: they do not change)."""

    yesterday: int
    yesterday_speakers: int
    joins: int
    leaves: int
    trend: tuple[int | None, ...]  # the last 7 finished days, oldest first
    at_risk: bool
    silent_days: int
    drop: float | None
    removed: bool
    sparkline: Markup


@dataclass
class GroupRow:
    """One group on the overview."""

    id: str
    name: str
    today: int
    today_speakers: int
    closed: Closed


def _closed(item: digest.GroupDigest) -> Closed:
    figure = {f.key: f.value for f in item.figures}
    trend = tuple(item.series[-7:])
    return Closed(int(figure.get("core.messages", 0)), int(figure.get("core.speakers", 0)),
                  int(figure.get("core.joins", 0)), int(figure.get("core.leaves", 0)), trend,
                  item.at_risk, item.silent_days, item.drop, item.removed_at is not None,
                  sparkline(trend))


@dataclass
class BotState:
    logged_in: bool
    last_event_at: datetime | None
    outbox_backlog: int
    adapter: str


def bot_state(runtime: BotRuntime) -> BotState:
    return BotState(runtime.platform.logged_in, runtime.last_event_at, runtime.outbox.pending,
                    runtime.adapter.name)


@dataclass
class ClosedDays:
    """The digest's figures for finished days, computed once per group and day and kept for
    an hour: a finished day hardly changes (a backlog delivered after a reconnect still
    counts on the day it was sent), so most views query only today's counts. Cleared when
    the config is reloaded (groups, timezones or risk rules may change)."""

    keep: timedelta = timedelta(hours=1)
    config_id: int = 0
    items: dict[tuple[str, date], tuple[datetime, Closed]] = field(default_factory=dict)

    def missing(self, config_id: int, refs: Sequence[digest.GroupRef], now: datetime
                ) -> list[digest.GroupRef]:
        if config_id != self.config_id or len(self.items) > 100_000:
            self.config_id, self.items = config_id, {}
        return [r for r in refs if (found := self.items.get((r.id, r.day))) is None
                or now - found[0] >= self.keep]

    def get(self, group_id: str, day: date) -> Closed:
        return self.items[(group_id, day)][1]


async def overview(runtime: BotRuntime, groups: Sequence[GroupSetup],
                   closed: ClosedDays | None = None) -> list[GroupRow]:
    """Yesterday (a finished day, as the digest reports it, with its risk rules) and today
    so far, for every group: the digest's core figures without the plugins' hooks."""
    if not groups:
        return []
    closed = closed if closed is not None else ClosedDays()
    now = runtime.clock.now()
    today = {g.id: now.astimezone(g.timezone).date() for g in groups}
    refs = [digest.GroupRef(g.id, g.name, g.timezone, today[g.id] - timedelta(days=1))
            for g in groups]
    missing = closed.missing(id(runtime.config), refs, now)
    if missing:
        computed = await digest.compute(runtime.db.transaction, (), missing,
                                        runtime.config.config.digest,
                                        runtime.config.config.bot.language)
        closed.items.update({(d.group.id, d.group.day): (now, _closed(d))
                             for d in computed.groups})
    async with runtime.db.transaction() as session:
        messages, speakers = await digest._activity(  # the digest's own aggregate
            session, list(today), min(today.values()), max(today.values()))
    rows = [GroupRow(r.id, r.name, int(messages.get((r.id, today[r.id]), 0)),
                     int(speakers.get((r.id, today[r.id]), 0)), closed.get(r.id, r.day))
            for r in refs]
    rows.sort(key=lambda r: (not r.closed.at_risk, r.name))
    return rows


# -- one group ------------------------------------------------------------------------------


@dataclass
class Member:
    id: str
    name: str
    points: int
    tags: list[str] = field(default_factory=list)


@dataclass
class GroupPage:
    days: list[date]
    messages: list[int]
    segments: dict[str, int]
    checkins_today: list[tuple[str, str]]  # (name, note)
    streaks: list[tuple[str, int]]  # (name, current streak), as 打卡榜 shows them
    next_posts: list[tuple[datetime, str]]
    games: list[tuple[datetime, str, str]]  # (started, game, outcome)
    members: list[Member]


async def group_page(runtime: BotRuntime, group: GroupSetup, days: int = 30) -> GroupPage:
    today = runtime.clock.now().astimezone(group.timezone).date()
    span = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    async with runtime.db.transaction() as session:
        messages, _ = await digest._activity(session, [group.id], span[0], today)
        page = GroupPage(span, [int(messages.get((group.id, d), 0)) for d in span],
                         await _segments(session, group.id), *await _checkins(
                             session, group.id, today), _next_posts(runtime, group),
                         await _games(session, group.id), await _members(session, group.id))
    return page


async def _segments(session: AsyncSession, group_id: str) -> dict[str, int]:
    try:
        from plugins.activity.models import ActivitySegmentDay as S
    except ImportError:
        return {}
    row = await session.scalar(select(S).where(S.group_id == group_id)
                               .order_by(S.day.desc()).limit(1))
    if row is None:
        return {}
    return {"kol": row.kol, "active": row.active, "ordinary": row.ordinary,
            "lurker": row.lurker}


async def _checkins(session: AsyncSession, group_id: str, today: date
                    ) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    try:
        from plugins.checkin.models import CheckinMember, CheckinRecord
    except ImportError:
        return [], []
    rows = await session.execute(
        select(CheckinRecord.member_id, CheckinMember.name, CheckinRecord.note)
        .join(CheckinMember, (CheckinMember.group_id == CheckinRecord.group_id)
              & (CheckinMember.member_id == CheckinRecord.member_id), isouter=True)
        .where(CheckinRecord.group_id == group_id, CheckinRecord.day == today)
        .order_by(CheckinRecord.at).limit(100))
    board = [(name or member, note or "") for member, name, note in rows]
    from plugins.checkin import service  # the board 打卡榜 shows: current streaks

    streaks, _ = await service.rankings(session, group_id, today)
    return board, streaks


def _next_posts(runtime: BotRuntime, group: GroupSetup, count: int = 5
                ) -> list[tuple[datetime, str]]:
    """The group's next timed jobs (posts, reminders, quizzes), from the scheduler; a post
    is shown by its text (or its pool or file)."""
    now = runtime.clock.now()
    shown: dict[str, str] = {}
    for enabled in group.plugins:
        for job in enabled.plugin.jobs:
            for schedule in job.when(enabled.settings):
                payload = schedule.payload
                what = (getattr(payload, "text", None) or getattr(payload, "pool", None)
                        or getattr(payload, "text_file", None))
                if what:
                    key = f"{enabled.plugin.name}.{job.name}.{schedule.key}"
                    shown[key] = excerpt(str(what), 40)
    upcoming = []
    for job in runtime.scheduler.jobs:
        if job.group_id != group.id or job.background:
            continue
        slot = job.next_slot(now)
        if slot is not None:
            upcoming.append((slot.astimezone(group.timezone), shown.get(job.key, job.key)))
    return sorted(upcoming)[:count]


async def _games(session: AsyncSession, group_id: str) -> list[tuple[datetime, str, str]]:
    try:
        from plugins.quiz.models import QuizRound
    except ImportError:
        return []
    rows = await session.execute(
        select(QuizRound.started_at, QuizRound.game, QuizRound.bank, QuizRound.end_reason)
        .where(QuizRound.group_id == group_id).order_by(QuizRound.started_at.desc()).limit(5))
    return [(at, f"{game} {bank}".strip(), reason or "…") for at, game, bank, reason in rows]


async def _members(session: AsyncSession, group_id: str, limit: int = 100) -> list[Member]:
    rows = await session.execute(
        select(PointsAccount.member_id, PointsAccount.name, PointsAccount.balance)
        .where(PointsAccount.group_id == group_id)
        .order_by(PointsAccount.balance.desc()).limit(limit))
    members = {m: Member(m, name or m, balance) for m, name, balance in rows}
    names = await session.execute(
        select(ActivityDaily.member_id, func.max(ActivityDaily.name))
        .where(ActivityDaily.group_id == group_id).group_by(ActivityDaily.member_id)
        .order_by(func.sum(ActivityDaily.messages).desc()).limit(limit))
    for member, name in names:
        members.setdefault(member, Member(member, name or member, 0))
    try:
        from plugins.tags.models import MemberTag
    except ImportError:
        return list(members.values())
    for chunk in chunked(members):
        tags = await session.execute(select(MemberTag.member_id, MemberTag.tag).where(
            MemberTag.group_id == group_id, MemberTag.member_id.in_(chunk)))
        for member, tag in tags:
            members[member].tags.append(tag)
    return list(members.values())


# -- questions, moderation, digests -----------------------------------------------------------


async def open_questions(session: AsyncSession, group_ids: Sequence[str], limit: int = 200
                         ) -> list[Any]:
    try:
        from plugins.qa.models import QaUnanswered as Q
    except ImportError:
        return []
    found: list[Any] = []
    for chunk in chunked(group_ids):
        found += await session.scalars(select(Q).where(Q.group_id.in_(chunk),
                                                       Q.closed_at.is_(None))
                                       .order_by(Q.asked_at.desc()).limit(limit))
    return sorted(found, key=lambda q: (q.asked_at, q.id), reverse=True)[:limit]


@dataclass(frozen=True)
class Inside:
    """One member in a group's 小黑屋 (the core's, bot/blackroom.py), as `小黑屋` lists them."""

    group_id: str
    stay: Stay


async def moderation_today(session: AsyncSession, blackroom: Blackroom,
                           group_ids: Sequence[str], since: datetime, now: datetime
                           ) -> tuple[list[Any], list[Inside]]:
    """Actions since `since` (the bot's midnight) and who is in the 小黑屋 now, whichever
    plugin put them in (the list the built-in `小黑屋` shows, group by group)."""
    room = [Inside(gid, stay) for gid in group_ids
            for stay in await blackroom.list(session, gid, now)]
    try:
        from plugins.moderation.models import ModerationAction as A
    except ImportError:
        return [], room
    actions: list[Any] = []
    for chunk in chunked(group_ids):
        actions += await session.scalars(select(A).where(A.group_id.in_(chunk), A.at >= since)
                                         .order_by(A.id.desc()).limit(500))
    return actions, room


@dataclass
class DigestPage:
    day: date
    text: str
    chart_png: bytes
    sent_at: datetime | None  # None: none was kept for the day, this one is rebuilt now


async def digest_of(runtime: BotRuntime, person_id: str, groups: Sequence[GroupSetup],
                    day: date) -> DigestPage:
    """The day's digest as it was sent to this person (bot/digest/archive.py), its chart
    drawn from the data it was drawn from then; for a day none was kept (before the archive,
    the digest off, a reader who gets none), rebuilt by the code that sends it, as
    `bot digest --date` prints it, and labelled so."""
    from bot.digest import archive, chart, report

    out = runtime.config.base_dir / runtime.config.config.digest.chart_dir / "console"
    async with runtime.db.transaction() as session:
        kept = await archive.sent(session, person_id, day)
    if kept is not None:
        days, series = archive.chart_of(kept)
        text, sent_at = kept.text, kept.sent_at
        path = await asyncio.to_thread(chart.draw, out / f"sent-{kept.id}.png", days, series)
    else:
        [built] = await report.build(runtime.db.transaction, runtime.config,
                                     runtime.builtins + runtime.plugins, day, out,
                                     {person_id: list(groups)})
        text, sent_at, path = built.text, None, built.chart
    png = path.read_bytes()
    path.unlink(missing_ok=True)  # drawn for this page only
    return DigestPage(day, text, png, sent_at)
