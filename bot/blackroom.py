"""The group's one 小黑屋: whoever put a member in (moderation's escalation, check-in's
anti-copy, …), every plugin asks here whether they may check in, grab, join or win, and
the core's `小黑屋` / `放出` list and release them in one place.

Handed to plugins as `ctx.services.blackroom`. Its functions take the caller's session, so
a plugin's own writes and the 小黑屋 commit or fail together. Who is inside is kept in
memory per group (moderation asks on every message): one process serves a room at a time
(the instance guard; with several accounts, the room's lease), and a process that gains a
room reads its 小黑屋 again (`forget`) — another may have put someone in meanwhile.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, bindparam, event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Texts
from bot.storage import Database
from bot.storage.models import BlackroomStay

if TYPE_CHECKING:
    from bot.context import Context

TEXTS = Texts(
    zh={"refused": "你在小黑屋里（到 {until}），现在不能参加。"},
    en={"refused": "You are in the penalty box until {until}: not now."},
)


@dataclass(frozen=True)
class Stay:
    """Who is inside, until when, and why (`reason` is a text key of the `source` plugin)."""

    member_id: str
    name: str
    since: datetime
    until: datetime
    reason: str
    source: str


def _active(group_id: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (BlackroomStay.group_id == group_id, BlackroomStay.released_at.is_(None),
            BlackroomStay.until > now)


_STAYS = BlackroomStay.__table__.c
# Built once: building a statement per check-in cost more than SQLite's work.
_SPANS = select(_STAYS.since, _STAYS.until, _STAYS.released_at).where(
    _STAYS.group_id == bindparam("group"), _STAYS.member_id == bindparam("member"),
    _STAYS.until > bindparam("since")).order_by(_STAYS.since)
_STAYED = select(_STAYS.member_id).where(_STAYS.group_id == bindparam("group")).distinct()
_ALL_INSIDE = (select(_STAYS.group_id, _STAYS.member_id, func.max(_STAYS.until))
               .where(_STAYS.released_at.is_(None), _STAYS.until > bindparam("now"))
               .group_by(_STAYS.group_id, _STAYS.member_id))
_ALL_STAYED = select(_STAYS.group_id, _STAYS.member_id).distinct()


class Blackroom:
    """put, release, is_in, list: the 小黑屋 service every plugin asks."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._inside: dict[str, dict[str, datetime]] = {}  # group → member → until
        self._changes: dict[str, int] = {}  # group → writes so far (a load racing one is dropped)
        # group → members with any stay on record: check-in asks for a member's past stays
        # on every check-in, and almost no one has any (issue 16.3).
        self._stayed: dict[str, set[str]] = {}

    async def put(self, session: AsyncSession, group_id: str, member_id: str, until: datetime,
                  reason: str, by_plugin: str, *, now: datetime, name: str = "",
                  by: str = "bot") -> Stay:
        """Put a member in until `until` (a longer stay already running is kept; a shorter
        one is extended, with this reason)."""
        inside = await self._load(group_id, now, session)  # loaded before it changes
        await self._stayed_in(session, group_id)  # so is this
        found = await session.scalar(select(BlackroomStay).where(
            *_active(group_id, now), BlackroomStay.member_id == member_id)
            .order_by(BlackroomStay.until.desc()).limit(1))
        if found is None:
            found = BlackroomStay(group_id=group_id, member_id=member_id, name=name[:128],
                                  since=now, until=until, reason=reason[:200],
                                  source=by_plugin, put_by=by)
            session.add(found)
        elif until > found.until:
            found.until, found.reason, found.source, found.put_by = (
                until, reason[:200], by_plugin, by)
            found.name = name[:128] or found.name
        await session.flush()
        self._changed(group_id, session)
        if (stayed := self._stayed.get(group_id)) is not None:
            stayed.add(member_id)
        inside[member_id] = max(found.until, inside.get(member_id, found.until))
        return _stay(found)

    async def release(self, session: AsyncSession, group_id: str, member_id: str,
                      now: datetime, by: str = "bot") -> Stay | None:
        """Let a member out, whoever put them in; None if they were not inside."""
        inside = await self._load(group_id, now, session)
        stays = (await session.scalars(select(BlackroomStay).where(
            *_active(group_id, now), BlackroomStay.member_id == member_id)
            .order_by(BlackroomStay.until.desc()))).all()
        if not stays:
            return None
        await session.execute(update(BlackroomStay).where(
            *_active(group_id, now), BlackroomStay.member_id == member_id)
            .values(released_at=now, released_by=by[:128]))
        self._changed(group_id, session)
        inside.pop(member_id, None)
        return Stay(member_id, stays[0].name, stays[0].since, now, stays[0].reason,
                    stays[0].source)

    async def until(self, group_id: str, member_id: str, now: datetime, *,
                    session: AsyncSession | None = None) -> datetime | None:
        """When the member's stay ends, or None if they are not inside. Answered from
        memory once the group is loaded (moderation asks on every message). Inside a
        transaction pass its session: without one a first load opens its own, and SQLite's
        transactions do not nest."""
        found = (await self._load(group_id, now, session)).get(member_id)
        return found if found is not None and found > now else None

    async def is_in(self, group_id: str, member_id: str, now: datetime, *,
                    session: AsyncSession | None = None) -> bool:
        return await self.until(group_id, member_id, now, session=session) is not None

    async def members(self, group_id: str, now: datetime, *,
                      session: AsyncSession | None = None) -> set[str]:
        """Everyone inside now (a draw skips them)."""
        inside = await self._load(group_id, now, session)
        return {member for member, until in inside.items() if until > now}

    async def spans(self, session: AsyncSession, group_id: str, member_id: str,
                    since: datetime) -> list[tuple[datetime, datetime]]:
        """(from, to) of every stay that ended after `since`, released ones ending when
        released: what check-in needs to refuse making up a banned day."""
        if member_id not in await self._stayed_in(session, group_id):
            return []
        rows = await session.execute(_SPANS, {"group": group_id, "member": member_id,
                                              "since": since})
        spans = [(start, min(until, released) if released else until)
                 for start, until, released in rows]
        # A stay released the moment it began still happened: it breaks a streak too.
        return [(start, max(start, end)) for start, end in spans if end > since]

    async def latest_starts(self, session: AsyncSession, group_id: str) -> dict[str, datetime]:
        """member → when their latest stay began (a stay breaks a check-in streak)."""
        rows = await session.execute(select(BlackroomStay.member_id, func.max(
            BlackroomStay.since)).where(BlackroomStay.group_id == group_id)
            .group_by(BlackroomStay.member_id))
        return {member: since for member, since in rows}

    async def keeps_out(self, ctx: Context[Any], session: AsyncSession | None = None) -> bool:
        """Is the sender inside? If so they are told until when (grabbing, rolling, a
        quiz answer…) and the caller does nothing more."""
        until = await self.until(ctx.group.id, ctx.sender_id, ctx.now, session=session)
        if until is None:
            return False
        shown = f"{until.astimezone(ctx.group.timezone):%m-%d %H:%M}"
        await ctx.reply(TEXTS.get(ctx.group.language, "refused", until=shown))
        return True

    async def preload(self, group_ids: Collection[str], now: datetime) -> None:
        """Read these groups' 小黑屋 in two statements (the warm-up): each group's first
        message otherwise reads its own — 40% of the day's first check-in (issue 16.4's
        morning rush: every check-in at 09:00 is its group's first). A group written or
        read meanwhile keeps what it has."""
        changes = {group: self._changes.get(group, 0) for group in group_ids}
        inside: dict[str, dict[str, datetime]] = {group: {} for group in group_ids}
        stayed: dict[str, set[str]] = {group: set() for group in group_ids}
        async with self._db.transaction() as session:
            for group, member, until in await session.execute(_ALL_INSIDE, {"now": now}):
                if group in inside:
                    inside[group][member] = until
            for group, member in await session.execute(_ALL_STAYED):
                if group in stayed:
                    stayed[group].add(member)
        for group in group_ids:
            if self._changes.get(group, 0) == changes[group]:
                self._inside.setdefault(group, inside[group])
                self._stayed.setdefault(group, stayed[group])

    def _changed(self, group_id: str, session: AsyncSession | None = None) -> None:
        """A write: loads racing it are not kept, and should its transaction roll back,
        the group is read again from the database."""
        self._changes[group_id] = self._changes.get(group_id, 0) + 1
        if session is not None:
            event.listen(session.sync_session, "after_rollback",
                         lambda _session: self._forget(group_id), once=True)

    def forget(self, group_ids: set[str]) -> None:
        """These rooms were served elsewhere (issue 18's leases): read them again."""
        for group_id in group_ids:
            self._forget(group_id)

    def _forget(self, group_id: str) -> None:
        self._inside.pop(group_id, None)
        self._stayed.pop(group_id, None)
        self._changed(group_id)

    async def _load(self, group_id: str, now: datetime,
                    session: AsyncSession | None) -> dict[str, datetime]:
        found = self._inside.get(group_id)
        if found is not None:
            return found
        if session is None:
            async with self._db.transaction() as own:
                return await self._load(group_id, now, own)
        changes = self._changes.get(group_id, 0)
        rows = await session.execute(select(BlackroomStay.member_id, func.max(
            BlackroomStay.until)).where(*_active(group_id, now))
            .group_by(BlackroomStay.member_id))
        found = {member: until for member, until in rows}
        if self._changes.get(group_id, 0) == changes:  # no write raced the read
            self._inside[group_id] = found
        return found

    async def _stayed_in(self, session: AsyncSession, group_id: str) -> set[str]:
        """Members of the group with any stay on record, read once per group."""
        found = self._stayed.get(group_id)
        if found is not None:
            return found
        changes = self._changes.get(group_id, 0)
        found = set(await session.scalars(_STAYED, {"group": group_id}))
        if self._changes.get(group_id, 0) == changes:  # no write raced the read
            return self._stayed.setdefault(group_id, found)
        return found

    async def list(self, session: AsyncSession, group_id: str,
                   now: datetime) -> builtins.list[Stay]:
        """Everyone inside, one line each (their longest stay), soonest out first."""
        rows = (await session.scalars(select(BlackroomStay).where(*_active(group_id, now))
                                      .order_by(BlackroomStay.until.desc()))).all()
        latest: dict[str, BlackroomStay] = {}
        for row in rows:
            latest.setdefault(row.member_id, row)
        return sorted((_stay(r) for r in latest.values()), key=lambda s: (s.until, s.member_id))


def _stay(row: BlackroomStay) -> Stay:
    return Stay(row.member_id, row.name, row.since, row.until, row.reason, row.source)


def banned_days(spans: list[tuple[datetime, datetime]], timezone: ZoneInfo,
                starts_at: time) -> set[date]:
    """The check-in days (starting at `starts_at` in `timezone`) a member spent any part
    of in the 小黑屋."""
    shift = timedelta(hours=starts_at.hour, minutes=starts_at.minute)
    days: set[date] = set()
    for start, end in spans:
        day = (start.astimezone(timezone) - shift).date()
        last = max(day, (end.astimezone(timezone) - shift - timedelta(microseconds=1)).date())
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return days
