"""Check-in rules as plain functions over a session: streaks, milestones, makeup, anti-copy."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from plugins.checkin.models import CheckinMember, CheckinOffence, CheckinRecord
from plugins.checkin.settings import CheckinSettings

COUNTED = ("checkin", "makeup")  # kinds that count as days done (a freeze only bridges)
HISTORY_DAYS = 400


def local_day(now: datetime, timezone: ZoneInfo, starts_at: time) -> date:
    """The check-in day `now` belongs to: with 04:00, 01:30 still counts for yesterday."""
    shifted = now.astimezone(timezone) - timedelta(hours=starts_at.hour, minutes=starts_at.minute)
    return shifted.date()


_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")


def normalize_note(note: str) -> str:
    """Width, case, spaces and punctuation removed: what anti-copy compares."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", note)).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")


def streak_through(days: set[date], day: date) -> int:
    count = 0
    while day - timedelta(days=count) in days:
        count += 1
    return count


@dataclass(frozen=True)
class Refused:
    key: str  # a text key: already | blackroom | too_short | copied | …
    values: dict[str, Any] = field(default_factory=dict)


class AlreadyCheckedIn(Exception):
    """Lost a race with a simultaneous check-in (the unique key refused the second)."""


@dataclass(frozen=True)
class Done:
    day: date
    rank: int
    streak: int
    total: int
    points: int
    balance: int
    milestone: int | None
    milestone_bonus: int
    next_milestone: int | None
    comeback_bonus: int
    frozen_days: int


async def _member(session: AsyncSession, group_id: str, member_id: str, name: str) -> CheckinMember:
    member = await session.get(CheckinMember, (group_id, member_id))
    if member is None:
        # Written with the first record; a simultaneous first check-in of the same member
        # then fails on the keys and is answered "already done".
        member = CheckinMember(group_id=group_id, member_id=member_id, name=name[:128],
                               best_streak=0, quiet=False, offences=0)
        session.add(member)
    if name and member.name != name[:128]:
        member.name = name[:128]
    return member


# The hot path's statements, built once: building them per call cost more than SQLite.
_RECORDS = CheckinRecord.__table__
_MEMBERS = CheckinMember.__table__
_DAYS = select(_RECORDS.c.day, _RECORDS.c.kind).where(
    _RECORDS.c.group_id == bindparam("group"), _RECORDS.c.member_id == bindparam("member"),
    _RECORDS.c.day >= bindparam("since"))
_MEMBER_STATE = select(
    _MEMBERS.c.name, _MEMBERS.c.best_streak, _MEMBERS.c.banned_until, _MEMBERS.c.last_comeback
).where(_MEMBERS.c.group_id == bindparam("group"), _MEMBERS.c.member_id == bindparam("member"))
_RANK = select(func.count()).select_from(_RECORDS).where(
    _RECORDS.c.group_id == bindparam("group"), _RECORDS.c.day == bindparam("day"),
    _RECORDS.c.kind == "checkin")
_INSERT_RECORDS = insert(_RECORDS)
_INSERT_MEMBER = insert(_MEMBERS)


async def _days(session: AsyncSession, group_id: str, member_id: str,
                since: date) -> dict[date, str]:
    rows = await session.execute(_DAYS, {"group": group_id, "member": member_id,
                                         "since": since})
    return {day: kind for day, kind in rows}


async def _count_kind_in_month(session: AsyncSession, group_id: str, member_id: str,
                               kind: str, day: date) -> int:
    first = day.replace(day=1)
    value = await session.scalar(select(func.count()).select_from(CheckinRecord).where(
        CheckinRecord.group_id == group_id, CheckinRecord.member_id == member_id,
        CheckinRecord.kind == kind, CheckinRecord.day >= first, CheckinRecord.day <= day))
    return int(value or 0)


@dataclass(frozen=True)
class MemberState:
    """What a check-in needs to know of a member (read with one Core query)."""

    exists: bool
    name: str = ""
    best_streak: int = 0
    banned_until: datetime | None = None
    last_comeback: date | None = None


async def _member_state(session: AsyncSession, group_id: str, member_id: str) -> MemberState:
    row = (await session.execute(_MEMBER_STATE, {"group": group_id,
                                                 "member": member_id})).first()
    return MemberState(True, *row) if row is not None else MemberState(False)


async def check_in(session: AsyncSession, settings: CheckinSettings, group_id: str,
                   member_id: str, name: str, note: str, now: datetime,
                   timezone: ZoneInfo) -> Done | Refused:
    """The hot path: Core statements only (the ORM's unit of work costs more than SQLite)."""
    day = local_day(now, timezone, settings.day_starts_at)
    state = await _member_state(session, group_id, member_id)
    if state.banned_until is not None and state.banned_until > now:
        until = state.banned_until.astimezone(timezone).strftime("%m-%d %H:%M")
        return Refused("blackroom", {"until": until})
    history = await _days(session, group_id, member_id, day - timedelta(days=HISTORY_DAYS))
    if day in history and history[day] != "freeze":
        return Refused("already")
    note = note.strip()[:500]
    if len(note) < settings.min_note_length:
        return Refused("too_short", {"min": settings.min_note_length})
    copied = await _copied_from(session, settings, group_id, member_id, note, day)
    if copied is not None:
        member = await _member(session, group_id, member_id, name)
        return await _punish_copy(session, settings, member, note, copied, now)
    return await _record(session, settings, (group_id, member_id, name[:128]), state, history,
                         day, note, now)


async def _record(session: AsyncSession, settings: CheckinSettings, who: tuple[str, str, str],
                  state: MemberState, history: dict[date, str], day: date, note: str,
                  now: datetime) -> Done:
    group_id, member_id, name = who
    earlier = [d for d in history if d < day]
    last = max(earlier) if earlier else None
    gap = (day - last).days - 1 if last else 0
    frozen = 0
    if 0 < gap <= settings.freezes_per_month - await _count_kind_in_month(
            session, group_id, member_id, "freeze", day):
        frozen = gap
    days = set(history) | {day} | {day - timedelta(days=o) for o in range(1, frozen + 1)}
    streak = streak_through(days, day)
    milestone_bonus = settings.milestones.get(streak, 0)
    comeback = 0 if frozen else _comeback_bonus(settings, state.last_comeback, last, day)
    points = settings.points + milestone_bonus + comeback
    rows = [{"group_id": group_id, "member_id": member_id, "day": day, "kind": "checkin",
             "at": now, "note": note, "points": points}]
    rows += [{"group_id": group_id, "member_id": member_id, "day": day - timedelta(days=o),
              "kind": "freeze", "at": now, "note": "", "points": 0} for o in range(1, frozen + 1)]
    try:
        await session.execute(_INSERT_RECORDS, rows)
    except IntegrityError:
        raise AlreadyCheckedIn from None
    await _save_member(session, who, state, streak, day if comeback else None)
    why = ledger.Change("打卡", "checkin", now, ref=day.isoformat())
    balance = await ledger.change(session, group_id, member_id, points, why, name=name)
    rank = await session.scalar(_RANK, {"group": group_id, "day": day})
    total = sum(1 for kind in history.values() if kind in COUNTED) + 1
    upcoming = [m for m in settings.milestones if m > streak]
    return Done(day, int(rank or 0), streak, total, points, balance,
                streak if streak in settings.milestones else None,
                milestone_bonus, min(upcoming) if upcoming else None, comeback, frozen)


async def _save_member(session: AsyncSession, who: tuple[str, str, str], state: MemberState,
                       streak: int, comeback_day: date | None) -> None:
    group_id, member_id, name = who
    table = CheckinMember.__table__
    if not state.exists:
        # A simultaneous first check-in of the same member fails here on the key and is
        # answered "already done".
        await session.execute(_INSERT_MEMBER, {
            "group_id": group_id, "member_id": member_id, "name": name, "best_streak": streak,
            "quiet": False, "offences": 0, "last_comeback": comeback_day,
            "banned_until": None})
        return
    changes: dict[str, object] = {}
    if name and name != state.name:
        changes["name"] = name
    if streak > state.best_streak:
        changes["best_streak"] = streak
    if comeback_day is not None:
        changes["last_comeback"] = comeback_day
    if changes:
        await session.execute(update(table).where(
            table.c.group_id == group_id, table.c.member_id == member_id).values(**changes))


def _comeback_bonus(settings: CheckinSettings, last_comeback: date | None, last: date | None,
                    day: date) -> int:
    rules = settings.comeback
    if last is None or rules.bonus == 0 or (day - last).days <= rules.after_days:
        return 0
    if last_comeback is not None and (day - last_comeback).days < rules.every_days:
        return 0
    return rules.bonus


async def _copied_from(session: AsyncSession, settings: CheckinSettings, group_id: str,
                       member_id: str, note: str, day: date) -> tuple[str, int] | None:
    rules = settings.anti_copy
    mine = normalize_note(note)
    if not rules.enabled or len(mine) < rules.min_length:
        return None
    rows = (await session.execute(select(CheckinRecord.member_id, CheckinRecord.note).where(
        CheckinRecord.group_id == group_id, CheckinRecord.member_id != member_id,
        CheckinRecord.day >= day - timedelta(days=rules.window_days),
        CheckinRecord.note != ""))).all()
    notes = {index: normalize_note(text) for index, (_, text) in enumerate(rows)}
    match = process.extractOne(mine, notes, scorer=fuzz.ratio, score_cutoff=rules.similarity)
    if match is None:
        return None
    return rows[match[2]][0], int(match[1])


async def _punish_copy(session: AsyncSession, settings: CheckinSettings, member: CheckinMember,
                       note: str, copied: tuple[str, int], now: datetime) -> Refused:
    rules = settings.anti_copy
    session.add(CheckinOffence(group_id=member.group_id, member_id=member.member_id, at=now,
                               note=note, copied_from=copied[0], similarity=copied[1]))
    member.offences += 1
    if member.offences >= rules.offences_before_blackroom:
        member.banned_until = now + timedelta(days=rules.blackroom_days)
        member.offences = 0
        return Refused("copied.blackroom", {"days": rules.blackroom_days})
    held = await ledger.balance(session, member.group_id, member.member_id)
    penalty = min(rules.penalty_points, max(held, 0))
    if penalty:
        await ledger.change(session, member.group_id, member.member_id, -penalty,
                            ledger.Change("抄袭打卡内容", "checkin", now))
    left = rules.offences_before_blackroom - member.offences
    return Refused("copied" if penalty else "copied.free", {"points": penalty, "left": left})


async def make_up(session: AsyncSession, settings: CheckinSettings, group_id: str,
                  member_id: str, name: str, now: datetime, timezone: ZoneInfo) -> Done | Refused:
    """补签: count yesterday for points, only to repair a streak that exists."""
    today = local_day(now, timezone, settings.day_starts_at)
    yesterday = today - timedelta(days=1)
    member = await _member(session, group_id, member_id, name)
    history = await _days(session, group_id, member_id, today - timedelta(days=HISTORY_DAYS))
    if yesterday in history:
        return Refused("makeup.not_needed")
    if yesterday - timedelta(days=1) not in history:
        return Refused("makeup.no_streak")
    used = await _count_kind_in_month(session, group_id, member_id, "makeup", today)
    if used >= settings.makeup.per_month:
        return Refused("makeup.limit", {"limit": settings.makeup.per_month})
    try:
        balance = await ledger.change(session, group_id, member_id, -settings.makeup.cost,
                                      ledger.Change("补签", "checkin", now, ref=str(yesterday)))
    except ledger.InsufficientPoints as short:
        return Refused("makeup.no_points", {"cost": settings.makeup.cost,
                                            "balance": short.balance})
    session.add(CheckinRecord(group_id=group_id, member_id=member_id, day=yesterday,
                              kind="makeup", at=now, note="", points=-settings.makeup.cost))
    days = set(history) | {yesterday}
    streak = streak_through(days, today if today in days else yesterday)
    member.best_streak = max(member.best_streak, streak)
    total = sum(1 for kind in history.values() if kind in COUNTED) + 1
    return Done(yesterday, 0, streak, total, -settings.makeup.cost, balance, None, 0, None, 0, 0)


@dataclass(frozen=True)
class Summary:
    streak: int
    best: int
    total: int
    freezes_used: int
    month: dict[date, str]  # this month's days → kind
    today: date


async def summary(session: AsyncSession, settings: CheckinSettings, group_id: str,
                  member_id: str, now: datetime, timezone: ZoneInfo) -> Summary:
    today = local_day(now, timezone, settings.day_starts_at)
    history = await _days(session, group_id, member_id, today - timedelta(days=HISTORY_DAYS))
    alive_from = today if today in history else today - timedelta(days=1)
    streak = streak_through(set(history), alive_from)
    member = await session.get(CheckinMember, (group_id, member_id))
    best = max(member.best_streak if member else 0, streak)
    month = {d: k for d, k in history.items() if d.year == today.year and d.month == today.month}
    freezes = sum(1 for k in month.values() if k == "freeze")
    total = sum(1 for k in history.values() if k in COUNTED)
    return Summary(streak, best, total, freezes, month, today)


async def toggle_quiet(session: AsyncSession, group_id: str, member_id: str, name: str) -> bool:
    member = await _member(session, group_id, member_id, name)
    member.quiet = not member.quiet
    return member.quiet


async def to_remind(session: AsyncSession, group_id: str, day: date,
                    now: datetime) -> list[str]:
    """Members who checked in before, not today, and did not opt out — never nagged twice."""
    done_today = select(CheckinRecord.member_id).where(
        CheckinRecord.group_id == group_id, CheckinRecord.day == day,
        CheckinRecord.kind.in_(COUNTED))
    ever = select(CheckinRecord.member_id).where(CheckinRecord.group_id == group_id,
                                                 CheckinRecord.kind == "checkin")
    rows = await session.scalars(select(CheckinMember.member_id).where(
        CheckinMember.group_id == group_id, CheckinMember.quiet.is_(False),
        CheckinMember.member_id.in_(ever), CheckinMember.member_id.not_in(done_today),
        (CheckinMember.banned_until.is_(None)) | (CheckinMember.banned_until <= now),
    ).order_by(CheckinMember.member_id))
    return list(rows)


async def day_order(session: AsyncSession, group_id: str, day: date) -> list[tuple[str, datetime]]:
    rows = await session.execute(
        select(CheckinMember.name, CheckinRecord.member_id, CheckinRecord.at)
        .join(CheckinMember, (CheckinMember.group_id == CheckinRecord.group_id)
              & (CheckinMember.member_id == CheckinRecord.member_id))
        .where(CheckinRecord.group_id == group_id, CheckinRecord.day == day,
               CheckinRecord.kind == "checkin")
        .order_by(CheckinRecord.at, CheckinRecord.id))
    return [(name or member, at) for name, member, at in rows]


async def completers(session: AsyncSession, group_id: str, day: date) -> list[str]:
    rows = await session.scalars(select(CheckinRecord.member_id).where(
        CheckinRecord.group_id == group_id, CheckinRecord.day == day,
        CheckinRecord.kind == "checkin").order_by(CheckinRecord.at, CheckinRecord.id))
    return list(rows)


async def rankings(session: AsyncSession, group_id: str, today: date) -> tuple[
        list[tuple[str, int]], list[tuple[str, int]]]:
    """(streaks, this month's totals) as (name, days), best first."""
    since = today - timedelta(days=HISTORY_DAYS)
    rows = await session.execute(
        select(CheckinRecord.member_id, CheckinRecord.day, CheckinRecord.kind)
        .where(CheckinRecord.group_id == group_id, CheckinRecord.day >= since))
    days: dict[str, set[date]] = {}
    month: dict[str, int] = {}
    for member, day, kind in rows:
        days.setdefault(member, set()).add(day)
        if kind in COUNTED and (day.year, day.month) == (today.year, today.month):
            month[member] = month.get(member, 0) + 1
    names = dict((await session.execute(select(CheckinMember.member_id, CheckinMember.name)
                                        .where(CheckinMember.group_id == group_id))).all())
    streaks = {m: streak_through(d, today if today in d else today - timedelta(days=1))
               for m, d in days.items()}

    def top(values: dict[str, int]) -> list[tuple[str, int]]:
        ordered = sorted(((v, m) for m, v in values.items() if v > 0), key=lambda x: (-x[0], x[1]))
        return [(names.get(m) or m, v) for v, m in ordered[:10]]

    return top(streaks), top(month)
