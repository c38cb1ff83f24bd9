"""Who serves a room when several accounts share one PostgreSQL database (issue 18).

Each room is served — its messages dispatched, its timed slots run, its outbox rows sent —
by exactly one process at a time: the one holding the room's row in `room_leases`. The
instance guard (bot/instance.py) already makes each account one process, so "the process"
and "the account" are the same thing here.

Every `renew_every` (15 % of `leases.failover`) each process, in one transaction:
- locks the rows of its own leases and of the rooms its account is in
  (`SELECT … FOR UPDATE SKIP LOCKED`: a row another process is taking right now is left to it);
- renews its own (`expires_at` = the database's now + 60 % of `failover`) and gives up those
  of rooms its account left;
- takes rooms that have no row, or whose row expired (its holder died, logged out or
  stopped). The account listed first for the group takes a free room at once; an account
  further down the list waits `defer` (30 % of `failover`) first if a preferred account's
  process is running (its instance lock is held), so the preferred one gets it when both
  start (and one logged out costs that much more: still within `failover`).
  A live lease is never taken away: a restarted preferred account takes nothing back.

The process stops serving a room on its own a renewal round before the row can expire
(measured on its monotonic clock from before the renewing statement), so the next holder,
which only takes an expired row, never overlaps with it. A room "*" elects the process that
runs the bot-wide jobs (the operators' digest, the nightly purge).

`AllRooms` is what a single process uses (SQLite, or a bot.yaml without `accounts:`): it
serves every room, with no table and no I/O.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, String, func, select, text, update
from sqlalchemy.orm import Mapped, mapped_column

from bot.instance import advisory_key
from bot.storage import Base, UTCDateTime, dialect_insert

if TYPE_CHECKING:
    from bot.config.models import BotConfig, LeaseSettings
    from bot.storage import Database

log = logging.getLogger("bot.leases")

BOT_WIDE = "*"  # the lease of the bot-wide jobs (ScheduledJob.group_id "*")


class RoomLease(Base):
    """Which account serves a room, until when (the database's clock)."""

    __tablename__ = "room_leases"
    __table_args__ = (Index("ix_room_leases_account", "account"),)

    room_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(160))  # host and pid, for people reading it
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())  # last renewal
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


LEASES = RoomLease.__table__

# (room, when it was last served: its previous holder's last renewal, None if never)
Gained = Callable[[dict[str, datetime | None]], Awaitable[None]]
Lost = Callable[[set[str]], Awaitable[None]]


def operator_account(config: BotConfig, operator_id: str | None, own: str,
                     running: Collection[str]) -> str:
    """The account an operator's direct message goes out through (issue 18, point 3): the
    first one listed for the operator (`operators[].accounts`, default every account in
    order) whose process is running, else this process's own if it is listed, else the
    first listed: an account that is not the operator's contact could not deliver it, so
    the row waits for that account's process (it takes its direct messages when it starts
    or at its next lease round). The one rule for every operator DM: the digest, broken
    content files, outage notices, skipped posts."""
    if not any(operator.id == operator_id for operator in config.operators):
        return own  # a plugin's DM to a member: through the account the member talks to
    listed = config.operator_accounts(operator_id)
    for name in listed:
        if name == own or name in running:
            return name
    return listed[0] if listed else own


async def running_accounts(session: Any, names: Iterable[str]) -> set[str]:
    """Which of `names` have a process running: their instance lock (bot/instance.py) is
    held in this database."""
    keys = {advisory_key(name): name for name in names}  # signed, as rebuilt below
    rows = await session.execute(text(
        "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks "
        "WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())"))
    return {keys[key] for (key,) in rows if key in keys}


class AllRooms:
    """One process serves every room (no `accounts:`, or SQLite)."""

    enabled = False
    running: frozenset[str] = frozenset()  # only this process's own account

    def serves(self, room: str | None) -> bool:
        return True

    def seen(self, room: str) -> None:
        return None

    def left(self, room: str) -> None:
        return None


class RoomLeases:
    enabled = True

    def __init__(
        self,
        db: Database,
        account: str,
        order: Callable[[str], list[str]],
        settings: LeaseSettings,
        *,
        on_gained: Gained,
        on_lost: Lost,
        ready: Callable[[], bool],
        removed: Callable[[str], bool] = lambda _: False,
        on_round: Lost | None = None,
    ) -> None:
        self.db, self.account, self.order, self.settings = db, account, order, settings
        self.on_gained, self.on_lost = on_gained, on_lost
        self.on_round = on_round  # after each round, with the rooms held
        self.ready, self.removed = ready, removed
        self.holder = f"{socket.gethostname()} pid {os.getpid()}"[:160]
        self.present: set[str] = set()  # rooms the account is in (listed, or heard from)
        self.listed = False  # the platform said which rooms (until then: nothing taken)
        self.held: dict[str, float] = {}  # room → serve until (time.monotonic())
        # The accounts whose process ran at the last round (where operators' DMs may go).
        self.running: set[str] = set()
        self._free_since: dict[str, float] = {}  # rooms seen free while deferring
        self._lock = asyncio.Lock()

    # -- asked on every message, slot and send (no I/O) ------------------------------------

    def serves(self, room: str | None) -> bool:
        if room is None:
            return True  # a direct message goes out through the account that queued it
        until = self.held.get(room)
        return until is not None and time.monotonic() < until

    def seen(self, room: str) -> None:
        """The account is in `room` (an event came from it): it may serve it."""
        self.present.add(room)

    def left(self, room: str) -> None:
        """The account was removed from `room`: given up at the next renewal."""
        self.present.discard(room)

    # -- the renewal round -------------------------------------------------------------------

    def wanted(self) -> set[str]:
        if not self.ready():
            return set()  # logged out: serve nothing, let the others take over
        rooms = {r for r in self.present if not self.removed(r)} | {BOT_WIDE}
        return {r for r in rooms if self.account in self.order(r)}

    async def tick(self) -> None:
        async with self._lock:
            started = time.monotonic()
            wanted = self.wanted()
            kept, gained, seen = await self._round(wanted, started)
            until = started + (self.settings.expires_after - self.settings.renew_every
                               ).total_seconds()
            # A row another process had locked this round (it was looking, SKIP LOCKED) is
            # still ours until its old deadline; the next round renews it.
            busy = {room: old for room, old in self.held.items()
                    if room not in seen and room in wanted and old > time.monotonic()}
            held = {**busy, **{room: until for room in (*kept, *gained)}}
            lost = set(self.held) - set(held)
            self.held = held
        if lost:
            log.info("%s: no longer serving %d room(s): %s", self.account, len(lost),
                     _some(lost))
            await self.on_lost(lost)
        if gained:
            log.info("%s: now serving %d room(s): %s", self.account, len(gained),
                     _some(gained))
            await self.on_gained(gained)

    async def _round(self, wanted: set[str], started: float
                     ) -> tuple[set[str], dict[str, datetime | None], set[str]]:
        expires = self.settings.expires_after
        async with self.db.transaction() as session:
            now = await session.scalar(select(func.now()))
            rows = (await session.execute(
                select(RoomLease.room_id, RoomLease.account, RoomLease.expires_at,
                       RoomLease.heartbeat_at)
                .where((RoomLease.account == self.account) | RoomLease.room_id.in_(wanted))
                .with_for_update(skip_locked=True)
            )).all()
            known = {row.room_id for row in rows}
            # Asked every round: operators' direct messages go through a running account.
            alive = self.running = await self._running_accounts(session)
            keep, drop, take = set(), set(), {}
            for row in rows:
                if row.account == self.account:
                    (keep if row.room_id in wanted else drop).add(row.room_id)
                elif row.expires_at > now:
                    self._free_since.pop(row.room_id, None)  # served: a later wait starts anew
                elif row.room_id in wanted and self._my_turn(row.room_id, alive, started):
                    take[row.room_id] = row.heartbeat_at
            values = {"heartbeat_at": now, "expires_at": now + expires}
            if keep:
                await session.execute(update(LEASES).where(LEASES.c.room_id.in_(keep))
                                      .values(values))
            if drop:
                await session.execute(update(LEASES).where(LEASES.c.room_id.in_(drop))
                                      .values(expires_at=now))
            mine = {"account": self.account, "holder": self.holder, "taken_at": now, **values}
            if take:
                await session.execute(update(LEASES).where(LEASES.c.room_id.in_(take))
                                      .values(mine))
            new = [r for r in wanted - known if self._my_turn(r, alive, started)]
            if new:
                insert = dialect_insert("postgresql")  # leases live on PostgreSQL only
                inserted = await session.execute(
                    insert(LEASES).values([{"room_id": r, **mine} for r in new])
                    .on_conflict_do_nothing().returning(LEASES.c.room_id))
                take.update({room: None for (room,) in inserted})
        gained: dict[str, datetime | None] = {r: s for r, s in take.items()}
        # A row of ours we did not know we held (we restarted): ours again, nothing missed
        # but what a dead process of ours left, which its heartbeat tells.
        for row in rows:
            if row.room_id in keep and row.room_id not in self.held:
                gained[row.room_id] = row.heartbeat_at
        for room in gained:
            self._free_since.pop(room, None)
        return keep - set(gained), gained, known

    def _my_turn(self, room: str, alive: set[str], now: float) -> bool:
        """A free room: the first account listed for it takes it at once; one further down
        waits a renewal round while a preferred account's process runs."""
        order = self.order(room)
        preferred = order[: order.index(self.account)]
        if not any(name in alive for name in preferred):
            return True
        first_seen = self._free_since.setdefault(room, now)
        return now - first_seen >= self.settings.defer.total_seconds()

    async def _running_accounts(self, session: Any) -> set[str]:
        """The accounts whose process is running: their instance lock is held."""
        names = {name for room in self.present | {BOT_WIDE} for name in self.order(room)}
        return await running_accounts(session, names)

    async def release_all(self) -> None:
        """Stopping or logged out: let the others take every room now (not at expiry)."""
        async with self._lock:
            lost, self.held = set(self.held), {}
            async with self.db.transaction() as session:
                await session.execute(update(LEASES).where(LEASES.c.account == self.account)
                                      .values(expires_at=func.now()))
        if lost:
            await self.on_lost(lost)

    async def run(self, refresh: Callable[[], Awaitable[Iterable[str] | None]],
                  refresh_every: int = 20) -> None:
        """Renew and take, every `renew_every`; ask the platform for the account's rooms at
        the start and every `refresh_every` rounds."""
        rounds = 0
        while True:
            if rounds % refresh_every == 0 or not self.listed:
                try:
                    rooms = await refresh()
                    if rooms is not None:
                        self.present, self.listed = set(rooms), True
                except Exception as exc:  # not connected yet, most often: next round
                    log.debug("could not list the account's rooms: %s", exc)
            try:
                if self.listed and (self.ready() or self.held):
                    await self.tick()
                if self.on_round is not None:  # also with no room: its own DMs
                    await self.on_round(set(self.held))
            except Exception:
                log.warning("lease renewal failed; retrying", exc_info=True)
            rounds += 1
            await asyncio.sleep(self.settings.renew_every.total_seconds())


def _some(rooms: Iterable[str], shown: int = 5) -> str:
    rooms = sorted(rooms)
    more = f" (+{len(rooms) - shown})" if len(rooms) > shown else ""
    return ", ".join(rooms[:shown]) + more

