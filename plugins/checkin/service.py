"""Check-in rules as plain functions over a session: streaks, milestones, makeup, anti-copy."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from bot.blackroom import Blackroom, banned_days
from bot.storage import Prepared
from plugins.checkin.models import CheckinMember, CheckinOffence, CheckinRecord
from plugins.checkin.settings import AntiCopySettings, CheckinSettings

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
    milestones: tuple[int, ...]  # every milestone this streak passed just now, each once
    milestone_bonus: int
    next_milestone: int | None
    comeback_bonus: int
    frozen_days: int
    level_up: int | None = None  # the level reached just now, if this day raised it


def passed_milestones(settings: CheckinSettings, before: int, after: int) -> tuple[int, ...]:
    """The milestones a streak passes going from `before` to `after` days: a freeze day or
    a 补签 can carry it over several at once (2 → 4 passes 3), and each is paid once."""
    return tuple(m for m in settings.milestones if before < m <= after)


def level_of(settings: CheckinSettings, total_days: int) -> int:
    """A member's level (等级) from their check-in history: how many thresholds of days
    checked in (or made up) they have reached; 0 before the first."""
    return sum(1 for days in settings.levels if total_days >= days)


def _level_up(settings: CheckinSettings, before: int, after: int) -> int | None:
    new = level_of(settings, after)
    return new if new > level_of(settings, before) else None


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
_DAYS = Prepared(select(_RECORDS.c.day, _RECORDS.c.kind).where(
    _RECORDS.c.group_id == bindparam("group"), _RECORDS.c.member_id == bindparam("member"),
    _RECORDS.c.day >= bindparam("since")))


def _of_member(column: Any) -> Any:
    """One column of the member's row (NULL without one), as a scalar subquery."""
    return select(column).where(_MEMBERS.c.group_id == bindparam("group"),
                                _MEMBERS.c.member_id == bindparam("member")).scalar_subquery()


# The member's row and how many checked in today before them: one statement, not two.
_MEMBER_STATE = Prepared(select(
    _of_member(_MEMBERS.c.best_streak), _of_member(_MEMBERS.c.name),
    _of_member(_MEMBERS.c.last_comeback),
    select(func.count()).select_from(_RECORDS).where(
        _RECORDS.c.group_id == bindparam("group"), _RECORDS.c.day == bindparam("day"),
        _RECORDS.c.kind == "checkin").scalar_subquery()))
_INSERT_RECORDS = Prepared(insert(_RECORDS))
_INSERT_MEMBER = Prepared(insert(_MEMBERS))


async def _days(session: AsyncSession, group_id: str, member_id: str,
                since: date) -> dict[date, str]:
    rows = await _DAYS.rows(session, {"group": group_id, "member": member_id, "since": since})
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
    last_comeback: date | None = None
    before: int = 0  # check-ins in the group today so far: this one's rank is the next


async def _member_state(session: AsyncSession, group_id: str, member_id: str,
                        day: date) -> MemberState:
    best, name, comeback, before = await _MEMBER_STATE.one(session, {
        "group": group_id, "member": member_id, "day": day})
    if best is None:
        return MemberState(False, before=before)
    return MemberState(True, name, best, comeback, before)


@dataclass(frozen=True)
class Ban:
    """What the group's 小黑屋 means for a member's check-ins: a stay breaks the streak
    (days up to the day it began no longer count toward it), and a day spent in it, even
    partly, cannot be made up."""

    cut: date | None = None
    days: frozenset[date] = frozenset()

    def streak_days(self, history: dict[date, str]) -> dict[date, str]:
        """The history a streak may run through: only what came after the latest stay."""
        if self.cut is None:
            return history
        return {d: kind for d, kind in history.items() if d > self.cut}


async def _ban(session: AsyncSession, blackroom: Blackroom, settings: CheckinSettings,
               who: tuple[str, str], now: datetime, timezone: ZoneInfo) -> Ban:
    spans = await blackroom.spans(session, *who, now - timedelta(days=HISTORY_DAYS))
    if not spans:
        return Ban()
    cut = max(local_day(start, timezone, settings.day_starts_at) for start, _ in spans)
    return Ban(cut, frozenset(banned_days(spans, timezone, settings.day_starts_at)))


async def _refused_inside(session: AsyncSession, blackroom: Blackroom, who: tuple[str, str],
                          now: datetime, timezone: ZoneInfo) -> Refused | None:
    until = await blackroom.until(*who, now, session=session)
    if until is None:
        return None
    return Refused("blackroom", {"until": until.astimezone(timezone).strftime("%m-%d %H:%M")})


async def check_in(session: AsyncSession, settings: CheckinSettings, group_id: str,
                   member_id: str, name: str, note: str, now: datetime,
                   timezone: ZoneInfo, blackroom: Blackroom) -> Done | Refused:
    """The hot path: Core statements only (the ORM's unit of work costs more than SQLite)."""
    day = local_day(now, timezone, settings.day_starts_at)
    inside = await _refused_inside(session, blackroom, (group_id, member_id), now, timezone)
    if inside is not None:
        return inside
    state = await _member_state(session, group_id, member_id, day)
    history = await _days(session, group_id, member_id, day - timedelta(days=HISTORY_DAYS))
    if day in history and history[day] != "freeze":
        return Refused("already")
    note = note.strip()[:500]
    if len(note) < settings.min_note_length:
        return Refused("too_short", {"min": settings.min_note_length})
    copied = await _copied_from(session, settings, group_id, member_id, note, day)
    if copied is not None:
        member = await _member(session, group_id, member_id, name)
        return await _punish_copy(session, settings, member, note, copied, now, blackroom)
    ban = await _ban(session, blackroom, settings, (group_id, member_id), now, timezone)
    return await _record(session, settings, (group_id, member_id, name[:128]), state, history,
                         day, note, now, ban)


async def _record(session: AsyncSession, settings: CheckinSettings, who: tuple[str, str, str],
                  state: MemberState, everything: dict[date, str], day: date, note: str,
                  now: datetime, ban: Ban) -> Done:
    group_id, member_id, name = who
    history = ban.streak_days(everything)  # a freeze never bridges a stay in the 小黑屋
    earlier = [d for d in history if d < day]
    last = max(earlier) if earlier else None
    gap = (day - last).days - 1 if last else 0
    frozen = 0
    if 0 < gap <= settings.freezes_per_month - await _count_kind_in_month(
            session, group_id, member_id, "freeze", day):
        frozen = gap
    days = set(history) | {day} | {day - timedelta(days=o) for o in range(1, frozen + 1)}
    streak = streak_through(days, day)
    # The run this day joins (across the frozen gap) was already paid up to its length.
    joined = streak_through(set(history), last) if last and gap == frozen else 0
    passed = passed_milestones(settings, joined, streak)
    milestone_bonus = sum(settings.milestones[m] for m in passed)
    comeback = 0 if frozen else _comeback_bonus(settings, state.last_comeback, last, day)
    points = settings.points + milestone_bonus + comeback
    rows = [{"group_id": group_id, "member_id": member_id, "day": day, "kind": "checkin",
             "at": now, "note": note, "points": points}]
    rows += [{"group_id": group_id, "member_id": member_id, "day": day - timedelta(days=o),
              "kind": "freeze", "at": now, "note": "", "points": 0} for o in range(1, frozen + 1)]
    try:
        await _INSERT_RECORDS.run_many(session, rows)
    except IntegrityError:
        raise AlreadyCheckedIn from None
    await _save_member(session, who, state, streak, day if comeback else None)
    why = ledger.Change("打卡", "checkin", now, ref=day.isoformat())
    balance = await ledger.change(session, group_id, member_id, points, why, name=name)
    rank = state.before + 1  # read in the same transaction, before this one's row
    total = sum(1 for kind in everything.values() if kind in COUNTED) + 1
    upcoming = [m for m in settings.milestones if m > streak]
    return Done(day, rank, streak, total, points, balance, passed,
                milestone_bonus, min(upcoming) if upcoming else None, comeback, frozen,
                _level_up(settings, total - 1, total))


async def _save_member(session: AsyncSession, who: tuple[str, str, str], state: MemberState,
                       streak: int, comeback_day: date | None) -> None:
    group_id, member_id, name = who
    if not state.exists:
        # A simultaneous first check-in of the same member fails here on the key and is
        # answered "already done".
        await _INSERT_MEMBER.run(session, {
            "group_id": group_id, "member_id": member_id, "name": name, "best_streak": streak,
            "quiet": False, "offences": 0, "last_comeback": comeback_day, "left_at": None})
        return
    changes: dict[str, object] = {}
    if name and name != state.name:
        changes["name"] = name
    if streak > state.best_streak:
        changes["best_streak"] = streak
    if comeback_day is not None:
        changes["last_comeback"] = comeback_day
    if changes:
        await _member_update(tuple(changes)).run(session, {
            **{f"new_{k}": v for k, v in changes.items()}, "group": group_id,
            "member": member_id})


@functools.cache
def _member_update(columns: tuple[str, ...]) -> Prepared:
    """UPDATE of these columns of a member's row, built once per set of columns."""
    return Prepared(update(_MEMBERS).where(
        _MEMBERS.c.group_id == bindparam("group"), _MEMBERS.c.member_id == bindparam("member")
    ).values({name: bindparam(f"new_{name}") for name in columns}))


def _comeback_bonus(settings: CheckinSettings, last_comeback: date | None, last: date | None,
                    day: date) -> int:
    rules = settings.comeback
    if last is None or rules.bonus == 0 or (day - last).days <= rules.after_days:
        return 0
    if last_comeback is not None and (day - last_comeback).days < rules.every_days:
        return 0
    return rules.bonus


def copy_score(rules: AntiCopySettings, mine: str, theirs: str) -> int | None:
    """How alike two normalized notes are (percent) when one reads as a copy of the other:
    nearly the same text, or one containing the other (a copied note plus a sentence of
    one's own). None when they are not alike enough."""
    shorter, longer = sorted((mine, theirs), key=len)
    if len(shorter) >= rules.min_contained_length and shorter in longer:
        return 100
    # Imported on the first comparison (~12 ms once): ~4 MB an idle bot need not keep.
    from rapidfuzz import fuzz

    score = fuzz.ratio(mine, theirs, score_cutoff=rules.similarity)
    return int(score) if score else None


async def _copied_from(session: AsyncSession, settings: CheckinSettings, group_id: str,
                       member_id: str, note: str, day: date) -> tuple[str, int] | None:
    """(whose note this one copies, how alike) or None. Only the later note of a pair is
    the copy: a note matching one this member wrote first is their own, whoever repeated
    it in between."""
    rules = settings.anti_copy
    mine = normalize_note(note)
    if not rules.enabled or len(mine) < rules.min_length:
        return None
    rows = (await session.execute(select(
        CheckinRecord.member_id, CheckinRecord.note, CheckinRecord.at).where(
        CheckinRecord.group_id == group_id, CheckinRecord.member_id != member_id,
        CheckinRecord.day >= day - timedelta(days=rules.window_days),
        CheckinRecord.note != ""))).all()
    matches = sorted(((score, at, other, theirs) for other, text, at in rows
                      if (score := copy_score(rules, mine, theirs := normalize_note(text)))),
                     key=lambda match: (-match[0], match[1]))
    if not matches:
        return None
    earlier = await _own_notes(session, group_id, member_id, day)
    for score, at, other, theirs in matches:
        if not any(when < at and copy_score(rules, own, theirs) for when, own in earlier):
            return other, score
    return None


async def _own_notes(session: AsyncSession, group_id: str, member_id: str,
                     day: date) -> list[tuple[datetime, str]]:
    rows = await session.execute(select(CheckinRecord.at, CheckinRecord.note).where(
        CheckinRecord.group_id == group_id, CheckinRecord.member_id == member_id,
        CheckinRecord.day >= day - timedelta(days=HISTORY_DAYS), CheckinRecord.note != ""))
    return [(at, normalize_note(text)) for at, text in rows]


async def _punish_copy(session: AsyncSession, settings: CheckinSettings, member: CheckinMember,
                       note: str, copied: tuple[str, int], now: datetime,
                       blackroom: Blackroom) -> Refused:
    """Every offence is fined; the one that reaches the limit also puts the member in the
    group's 小黑屋 (the core's: listed and released with everyone else's)."""
    rules = settings.anti_copy
    session.add(CheckinOffence(group_id=member.group_id, member_id=member.member_id, at=now,
                               note=note, copied_from=copied[0], similarity=copied[1]))
    member.offences += 1
    held = await ledger.balance(session, member.group_id, member.member_id)
    penalty = min(rules.penalty_points, max(held, 0))
    if penalty:
        await ledger.change(session, member.group_id, member.member_id, -penalty,
                            ledger.Change("抄袭打卡内容", "checkin", now))
    if member.offences >= rules.offences_before_blackroom:
        await blackroom.put(session, member.group_id, member.member_id,
                            now + timedelta(days=rules.blackroom_days), "blackroom.reason",
                            "checkin", now=now, name=member.name)
        member.offences = 0
        key = "copied.blackroom" if penalty else "copied.blackroom.free"
        return Refused(key, {"days": rules.blackroom_days, "points": penalty})
    left = rules.offences_before_blackroom - member.offences
    return Refused("copied" if penalty else "copied.free", {"points": penalty, "left": left})


async def make_up(session: AsyncSession, settings: CheckinSettings, group_id: str,
                  member_id: str, name: str, now: datetime, timezone: ZoneInfo,
                  blackroom: Blackroom) -> Done | Refused:
    """补签: count yesterday for points, only to repair a streak that exists — never from
    inside the 小黑屋, never a day spent in it (a stay breaks the streak)."""
    today = local_day(now, timezone, settings.day_starts_at)
    yesterday = today - timedelta(days=1)
    inside = await _refused_inside(session, blackroom, (group_id, member_id), now, timezone)
    if inside is not None:
        return inside
    member = await _member(session, group_id, member_id, name)
    everything = await _days(session, group_id, member_id, today - timedelta(days=HISTORY_DAYS))
    if yesterday in everything:
        return Refused("makeup.not_needed")
    ban = await _ban(session, blackroom, settings, (group_id, member_id), now, timezone)
    if yesterday in ban.days:
        return Refused("makeup.banned")
    history = ban.streak_days(everything)
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
    days = set(history) | {yesterday}
    streak = streak_through(days, today if today in days else yesterday)
    # The two runs the made-up day joins were each paid up to their own length.
    before = streak_through(set(history), yesterday - timedelta(days=1))
    after = streak_through(set(history), today)
    passed = passed_milestones(settings, max(before, after), streak)
    bonus = sum(settings.milestones[m] for m in passed)
    if bonus:
        balance = await ledger.change(session, group_id, member_id, bonus, ledger.Change(
            "补签连续奖励", "checkin", now, ref=f"makeup-milestone:{yesterday}"))
    session.add(CheckinRecord(group_id=group_id, member_id=member_id, day=yesterday,
                              kind="makeup", at=now, note="",
                              points=bonus - settings.makeup.cost))
    member.best_streak = max(member.best_streak, streak)
    total = sum(1 for kind in everything.values() if kind in COUNTED) + 1
    upcoming = [m for m in settings.milestones if m > streak]
    return Done(yesterday, 0, streak, total, -settings.makeup.cost, balance, passed, bonus,
                min(upcoming) if upcoming else None, 0, 0, _level_up(settings, total - 1, total))


@dataclass(frozen=True)
class Summary:
    streak: int
    best: int
    total: int
    freezes_used: int
    month: dict[date, str]  # this month's days → kind
    today: date


async def summary(session: AsyncSession, settings: CheckinSettings, group_id: str,
                  member_id: str, now: datetime, timezone: ZoneInfo,
                  blackroom: Blackroom) -> Summary:
    today = local_day(now, timezone, settings.day_starts_at)
    history = await _days(session, group_id, member_id, today - timedelta(days=HISTORY_DAYS))
    alive_from = today if today in history else today - timedelta(days=1)
    ban = await _ban(session, blackroom, settings, (group_id, member_id), now, timezone)
    streak = streak_through(set(ban.streak_days(history)), alive_from)
    member = await session.get(CheckinMember, (group_id, member_id))
    best = max(member.best_streak if member else 0, streak)
    month = {d: k for d, k in history.items() if d.year == today.year and d.month == today.month}
    freezes = sum(1 for k in month.values() if k == "freeze")
    total = sum(1 for k in history.values() if k in COUNTED)
    return Summary(streak, best, total, freezes, month, today)


async def set_quiet(session: AsyncSession, group_id: str, member_id: str, name: str,
                    quiet: bool | None) -> tuple[bool, bool]:
    """(is quiet now, was already so). `quiet=None` asks for the state and changes nothing."""
    member = await _member(session, group_id, member_id, name)
    before = bool(member.quiet)
    if quiet is not None:
        member.quiet = quiet
    return bool(member.quiet), before == bool(member.quiet)


async def mark_presence(session: AsyncSession, group_id: str, member_id: str,
                        left_at: datetime | None) -> None:
    """A member left the group (left_at) or came back (None): leavers are not reminded."""
    await session.execute(update(CheckinMember).where(
        CheckinMember.group_id == group_id, CheckinMember.member_id == member_id,
    ).values(left_at=left_at))


async def to_remind(session: AsyncSession, group_id: str, day: date, now: datetime,
                    inactive_days: int = 14, jailed: frozenset[str] = frozenset()) -> list[str]:
    """Members still in the group who checked in within `inactive_days`, not today, did
    not opt out and are not in the 小黑屋 — never nagged twice, and not forever."""
    done_today = select(CheckinRecord.member_id).where(
        CheckinRecord.group_id == group_id, CheckinRecord.day == day,
        CheckinRecord.kind.in_(COUNTED))
    lately = select(CheckinRecord.member_id).where(
        CheckinRecord.group_id == group_id, CheckinRecord.kind.in_(COUNTED),
        CheckinRecord.day >= day - timedelta(days=inactive_days))
    rows = await session.scalars(select(CheckinMember.member_id).where(
        CheckinMember.group_id == group_id, CheckinMember.quiet.is_(False),
        CheckinMember.left_at.is_(None),
        CheckinMember.member_id.in_(lately), CheckinMember.member_id.not_in(done_today),
    ).order_by(CheckinMember.member_id))
    return [member for member in rows if member not in jailed]


async def completers(session: AsyncSession, group_id: str, day: date) -> list[str]:
    rows = await session.scalars(select(CheckinRecord.member_id).where(
        CheckinRecord.group_id == group_id, CheckinRecord.day == day,
        CheckinRecord.kind == "checkin").order_by(CheckinRecord.at, CheckinRecord.id))
    return list(rows)


Board = list[tuple[str, int]]


async def rankings(session: AsyncSession, group_id: str, today: date,
                   cuts: dict[str, date] | None = None) -> tuple[Board, Board]:
    """(streaks, this month's totals) as (name, days), best first. `cuts`: the day each
    member's latest 小黑屋 stay began (their streak starts after it)."""
    _, streaks, month = await boards(session, group_id, today, cuts)
    return streaks, month


async def boards(session: AsyncSession, group_id: str, today: date,
                 cuts: dict[str, date] | None = None) -> tuple[
        list[tuple[str, datetime]], Board, Board]:
    """(today's check-ins in order as (name, at), streaks, month) from one read of the
    records (today is within the history the streaks read)."""
    cuts = cuts or {}
    since = today - timedelta(days=HISTORY_DAYS)
    rows = await session.execute(
        select(CheckinRecord.member_id, CheckinRecord.day, CheckinRecord.kind,
               CheckinRecord.at, CheckinRecord.id)
        .where(CheckinRecord.group_id == group_id, CheckinRecord.day >= since))
    days: dict[str, set[date]] = {}
    month: dict[str, int] = {}
    checked_in: list[tuple[datetime, int, str]] = []
    for member, day, kind, at, record in rows:
        if member not in cuts or day > cuts[member]:
            days.setdefault(member, set()).add(day)
        if kind in COUNTED and (day.year, day.month) == (today.year, today.month):
            month[member] = month.get(member, 0) + 1
        if day == today and kind == "checkin":
            checked_in.append((at, record, member))
    names = dict((await session.execute(select(CheckinMember.member_id, CheckinMember.name)
                                        .where(CheckinMember.group_id == group_id))).all())
    # Only members with a member row (a check-in writes one), in check-in order.
    order = [(names[member] or member, at) for at, _, member in sorted(checked_in)
             if member in names]
    streaks = {m: streak_through(d, today if today in d else today - timedelta(days=1))
               for m, d in days.items()}

    def top(values: dict[str, int]) -> Board:
        ordered = sorted(((v, m) for m, v in values.items() if v > 0), key=lambda x: (-x[0], x[1]))
        return [(names.get(m) or m, v) for v, m in ordered[:10]]

    return order, top(streaks), top(month)
