"""Every message the bot sends goes through here: prioritized, budgeted, persisted, retried.

WeChat bans accounts that burst ("发送消息过于频繁", 12-hour bans after ~100 rooms), so
sends obey a token bucket, a daily cap and a random pause when switching groups.

When a message is written (issue 14, point 2):
- queued inside `ctx.transaction()`: its row is added to that same transaction
  (`stage`, a transactional outbox) and it is queued for sending only once committed, so a
  kill keeps both the state and the reply, or neither;
- queued outside a transaction: written by the next group commit (`flush`, every 0.1 s in
  real time, at the end of any message that changed state, and at stop). A reply sent
  before that never costs a write — the hot path stays free of I/O;
- a graceful stop (SIGTERM, SIGINT) sends what the budget allows for `stop_timeout`, then
  writes whatever is left (`finish`).

Sending a written message: its row carries a client-side id from the start (written before
any send call, at no extra cost) and is marked "sent" with the platform's message id after
the call, by the next group commit. A row still "queued" at start may have gone out just
before a crash: if the platform can confirm it by client id (`confirm`) it is marked sent,
otherwise it is sent again — a lost reply is worse than a repeated one. That window, from the
send call to the commit of its mark (at most `flush_every` plus one commit), is the only way
a message goes out twice (measured in the README).

Coalescing (issue 16.5): the budget (20 a minute) holds replies back when many groups are
busy. When the relay is about to send a short reply marked `coalesce` (ctx.reply(...,
coalesce="checkin")) and the same group's queue holds others of that kind, it sends them as
one message — each on its own line, with its own mention, in the order they were queued —
and marks every row "sent" in the same group commit (so a crash repeats the merged message,
never part of it, in the same window as above). No reply waits for a merge: it happens only
to what the budget was holding anyway. Long replies, and anything not marked, go alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.base import SendError
from bot.clock import Clock
from bot.config.models import OutboxSettings
from bot.events import Outgoing, OutKind, Sent
from bot.storage import Database, Prepared, chunked
from bot.storage.models import OutboxMessage
from bot.text import MESSAGE_LIMIT, cap

log = logging.getLogger("bot.outbox")

PRIORITY = {OutKind.NOTICE: 0, OutKind.REPLY: 1, OutKind.DM: 1, OutKind.POST: 2}
FLUSH_BATCH = 50
COALESCE_LINES = 20  # members one merged message mentions (as moderation's mass welcome)
COALESCE_CHARS = 300  # a longer reply is not "short": it always goes alone
MENTION_ROOM = 24  # per line, room for "@群昵称 " within the message cap
_TABLE = OutboxMessage.__table__
# New rows through Core, not the ORM: an ORM flush of one row cost more than the check-in
# it reports (issue 16.3). The ids come back in the order of the rows given.
INSERT = Prepared(insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True))
# One statement for a whole group commit's outcomes (executemany, not one UPDATE each).
MARK = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in (
        "status", "attempts", "last_error", "not_before", "sent_at", "platform_id")})
)

Transport = Callable[[Outgoing], Awaitable[Sent]]
SendPolicy = Callable[[Outgoing], bool]
# Asks the platform whether a message with this client-side id went out (None: can't tell).
Confirm = Callable[[str], Awaitable[bool | None]]


class WriteBehind(Protocol):
    """Something else written in the outbox's group commit (e.g. processed message ids)."""

    @property
    def dirty(self) -> bool: ...

    async def save(self, session: AsyncSession) -> None: ...


# A queued message is kept as a tuple of plain values: the cyclic collector stops walking
# such a tuple once it has seen it, where an `Outgoing` is three objects it walks at every
# full collection — and a backlog holds 100,000s (issue 16.4: 75 ms pauses at 2,000 groups).
Packed = tuple[str, str, str | None, str | None, tuple[str, ...], str | None, tuple[int, ...],
               str | None]


def pack(o: Outgoing) -> Packed:
    return (o.text, o.kind.value, o.group_id, o.to, o.mentions, o.image_path, o.mention_at,
            o.coalesce)


def unpack(packed: Packed) -> Outgoing:
    text, kind, group_id, to, mentions, image_path, mention_at, coalesce = packed
    return Outgoing.model_construct(  # (validated when it was made)
        text=text, kind=OutKind(kind), group_id=group_id, to=to, mentions=mentions,
        image_path=image_path, mention_at=mention_at, coalesce=coalesce)


# A message in the outbox, as plain values too (a queue holds 100,000s of them):
#   (priority, seq, packed, client_id, account, attempts, not_before, last_error)
# Queues order them by (priority, seq); seq is unique. A retry is a new tuple (its attempts
# counted); what changes while one waits — its row id — is kept beside it (`_row_ids`).
# `account` is set for a direct message another account's process sends.
Item = tuple[int, int, Packed, str, str | None, int, datetime | None, str | None]
Staged = tuple[Item, int]  # written with a caller's transaction: the item and its row id


def _seq(item: Item) -> int:
    return item[1]


def _packed(item: Item) -> Packed:
    return item[2]


def _text(item: Item) -> str:
    return item[2][0]


def _elsewhere(item: Item) -> str | None:
    """The account whose process sends it (a direct message), None if this one does."""
    return item[4]


def _group(item: Item) -> str | None:
    return item[2][2]


def _target(item: Item) -> str | None:
    """The group, or the person of a direct message."""
    return item[2][2] or item[2][3]


def _entry(item: Item) -> tuple[int, int]:
    """Which of an item's queue entries this is (seq, attempts): a retry is queued anew."""
    return item[1], item[5]


AlikeKey = tuple[str, str, str]  # (group, message kind, coalesce kind)


def _alike_key(packed: Packed) -> AlikeKey | None:
    """What a queued reply may be merged with, or None if it always goes alone."""
    text, kind, group_id, _to, mentions, image_path, mention_at, coalesce = packed
    if (coalesce is None or group_id is None or image_path or len(mentions) > 1
            or mention_at or len(text) > COALESCE_CHARS):
        return None
    return (group_id, kind, coalesce)


def merge(outgoing: list[Outgoing]) -> Outgoing:
    """One message of several short replies: a line each, each line starting with its
    own mention (the adapter places it there)."""
    lines: list[str] = []
    mentions: list[str] = []
    at: list[int] = []
    offset = 0
    for message in outgoing:
        if message.mentions:
            mentions.append(message.mentions[0])
            at.append(offset)
        lines.append(message.text)
        offset += len(message.text) + 1
    return outgoing[0].model_copy(update={
        "text": "\n".join(lines), "mentions": tuple(mentions), "mention_at": tuple(at)})


@dataclass
class OutboxStats:
    sent: int = 0
    failed: int = 0  # given up after retries (or a permanent error)
    retried: int = 0
    dropped: int = 0  # refused by the send policy (e.g. a post to a group not set up)
    confirmed: int = 0  # left "queued" by a crash, but the platform confirmed it went out
    coalesced: int = 0  # replies that went out inside another's message (not counted in sent)


class TokenBucket:
    def __init__(self, per_minute: float, burst: int, now: datetime) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: datetime) -> None:
        elapsed = max(0.0, (now - self.updated).total_seconds())
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now

    def wait(self, now: datetime) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: datetime) -> None:
        self._refill(now)
        self.tokens -= 1


class Outbox:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: OutboxSettings,
        *,
        account: str,
        timezone: ZoneInfo,
        may_send: SendPolicy = lambda _: True,
        rng: random.Random | None = None,
        confirm: Confirm | None = None,
    ) -> None:
        self.db, self.clock, self.settings = db, clock, settings
        self.account, self.timezone, self.may_send = account, timezone, may_send
        self.rng = rng or random.Random()
        self.stats = OutboxStats()
        self._transport: Transport | None = None
        self._ready: list[Item] = []
        # Entries (`_entry`) in _ready of items already sent inside a merged message: left
        # in the heap, skipped when they reach its top.
        self._merged: set[tuple[int, int]] = set()
        # Ready items that may be merged, by what they may be merged with, then by seq.
        self._alike: dict[AlikeKey, dict[int, Item]] = {}
        self._delayed: list[tuple[datetime, int, Item]] = []  # retries, by due time
        # By seq: messages not yet in the database, with the status to write them with.
        self._unsaved: dict[int, tuple[Item, str]] = {}
        self._saving: set[int] = set()  # seqs whose INSERT is under way
        self._row_ids: dict[int, int] = {}  # seq → row, for messages written and held here
        self._released: set[int] = set()  # set aside: forget their rows once written
        # Outcomes to mark: (item, status, error, the platform's message id).
        self._finished: list[tuple[Item, str, str | None, str | None]] = []
        self._seq = itertools.count()
        self._bucket = TokenBucket(settings.per_minute, settings.burst, clock.now())
        self._last_target: str | None = None
        self._switch_ok_at: datetime | None = None
        self._day: tuple[object, int] = (None, 0)  # (local date, sends that day)
        self._wakeup = asyncio.Event()
        self._save_lock = asyncio.Lock()
        self.held = False  # the account is logged out: keep everything, burn no retries
        self.confirm = confirm
        self._stopping = False
        self._write_behind: list[WriteBehind] = []
        # Several accounts on one database (issue 18): a message to a room goes out only
        # from the process holding the room's lease (`serves`); `load` then takes back only
        # this account's direct messages, and rooms' rows come with their leases (`adopt`).
        self.serves: SendPolicy = lambda _: True
        self.leased = False
        # The account a direct message goes out through (bot/leases.py operator_account):
        # one of another account's is only written here, for that account's process to send.
        self.reach: Callable[[Outgoing], str] = lambda _: self.account
        self._in_flight: list[Item] = []  # handed to the transport, no outcome yet
        # Rows added to a caller's transaction, not yet queued (committed, maybe, while the
        # caller is still closing its session): `adopt` must not take them as orphans.
        self._staged_rows: set[int] = set()

    def write_behind(self, other: WriteBehind) -> None:
        """Write `other` in every group commit (it shares the outbox's flush cadence)."""
        self._write_behind.append(other)

    def hold(self) -> None:
        """Stop sending (nothing is dropped or retried) until `release()`."""
        self.held = True

    def release(self) -> None:
        self.held = False
        self._wakeup.set()

    def attach(self, transport: Transport) -> None:
        self._transport = transport

    def put(self, outgoing: Outgoing) -> None:
        """Queue a message (no I/O here: this runs on the message hot path). Inside a
        shared transaction (a fan-out chunk), once that commits: what reports its state
        never goes out before it."""
        if (shared := self.db.shared()) is not None:
            shared.on_commit.append(lambda: self.put(outgoing))
            return
        if not self.may_send(outgoing):
            self.stats.dropped += 1
            log.warning("not sending to %s: the group is not set up for it", outgoing.group_id)
            return
        item = self._item(outgoing)
        self._unsaved[_seq(item)] = (item, "queued")
        if _elsewhere(item) is None:
            self._push_ready(item)
            self._wakeup.set()

    async def stage(self, session: AsyncSession, outgoing: list[Outgoing]) -> list[Staged]:
        """Add rows for `outgoing` to a caller's transaction; `enqueue` them once it commits."""
        items = []
        for message in outgoing:
            if not self.may_send(message):
                self.stats.dropped += 1
                continue
            items.append(self._item(message))
        if not items:
            return []
        row_ids = await self._insert(session, [(i, "queued") for i in items], self.clock.now())
        self._staged_rows.update(row_ids)
        return list(zip(items, row_ids, strict=True))

    def _item(self, outgoing: Outgoing) -> Item:
        """Queued (`put`) or written with a caller's transaction (`stage`), every message,
        whoever wrote it, is capped the same way."""
        if len(outgoing.text) > MESSAGE_LIMIT:
            outgoing = outgoing.model_copy(update={"text": cap(outgoing.text)})
        account = None
        if outgoing.kind is OutKind.DM and outgoing.group_id is None:
            account = self.reach(outgoing)
            account = account if account != self.account else None
        return (PRIORITY[outgoing.kind], next(self._seq), pack(outgoing), uuid.uuid4().hex,
                account, 0, None, None)

    def enqueue(self, staged: list[Staged]) -> None:
        """Queue staged messages whose transaction committed (another account's stay
        written only: its process sends them). Inside a shared transaction (a fan-out
        chunk), once that commits."""
        if (shared := self.db.shared()) is not None:
            shared.on_commit.append(lambda: self.enqueue(staged))
            return
        for item, row_id in staged:
            self._staged_rows.discard(row_id)
            if _elsewhere(item) is None:
                self._row_ids[_seq(item)] = row_id
                self._push_ready(item)
        if staged:
            self._wakeup.set()

    @property
    def has_unsaved(self) -> bool:
        return bool(self._unsaved)

    @property
    def pending(self) -> int:
        return len(self._ready) - len(self._merged) + len(self._delayed)

    async def load(self) -> None:
        """Take back what a previous run queued but did not send."""
        mine = OutboxMessage.account == self.account
        if self.leased:  # rooms' rows are adopted with their leases
            mine = mine & OutboxMessage.group_id.is_(None)
        async with self.db.transaction() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.status == "queued", mine)
                    .order_by(OutboxMessage.id)
                )
            ).all()
            self._day = (
                self.clock.now().astimezone(self.timezone).date(),
                await self._sent_today(session),
            )
        await self._take_back(rows)
        if rows:
            log.info("outbox: %d queued message(s) taken back from the last run", len(rows))

    async def adopt(self, rooms: set[str]) -> None:
        """This process now serves `rooms` (issue 18): queue what is waiting for them,
        whichever account queued it; it is sent under this account's budget. Called again
        every lease round: a row the last holder wrote late is picked up then, and so are
        direct messages another process queued for this account (an operator's digest)."""
        await self.flush()
        # No group commit while reading: a message sent meanwhile keeps its mark in
        # `_finished` (so it is known here) instead of vanishing from memory and database.
        async with self._save_lock:
            rows: list[OutboxMessage] = []
            async with self.db.transaction() as session:
                rows += (await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.status == "queued", OutboxMessage.group_id.is_(None),
                           OutboxMessage.account == self.account)
                    .order_by(OutboxMessage.id)
                )).all()
                for chunk in chunked(sorted(rooms)):
                    rows += (await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.status == "queued",
                               OutboxMessage.group_id.in_(chunk))
                        .order_by(OutboxMessage.id)
                    )).all()
                rows = [row for row in rows if row.id not in self._known_rows()]
                others = [row.id for row in rows if row.account != self.account]
                for chunk in chunked(others):
                    await session.execute(
                        update(OutboxMessage).where(OutboxMessage.id.in_(chunk))
                        .values(account=self.account))
            rows = [row for row in rows if row.id not in self._known_rows()]
            await self._take_back(sorted(rows, key=lambda row: row.id))
        if rows:
            log.info("outbox: %d queued message(s) taken over (%d room(s), %d direct)",
                     len(rows), len({row.group_id for row in rows} - {None}),
                     sum(row.group_id is None for row in rows))

    def _known_rows(self) -> set[int | None]:
        """Rows this process has in hand: queued, being sent, or awaiting their mark."""
        items = [*self._ready, *(item for _, _, item in self._delayed),
                 *(item for item, *_ in self._finished), *self._in_flight]
        return {self._row_ids.get(_seq(item)) for item in items} | set(self._staged_rows)

    def set_aside(self, rooms: set[str]) -> None:
        """Another process serves `rooms` now: forget their messages here (those not yet
        written stay in the next group commit; the new holder adopts them)."""
        leaving = [i for i in self._ready if _group(i) in rooms]
        leaving += [i for _, _, i in self._delayed if _group(i) in rooms]
        for item in leaving:
            if _entry(item) in self._merged:  # sent already: its row awaits its mark
                self._merged.discard(_entry(item))
            else:
                self._released.add(_seq(item))
        self._ready = [i for i in self._ready if _group(i) not in rooms]
        heapq.heapify(self._ready)
        self._alike = {key: alike for key, alike in self._alike.items() if key[0] not in rooms}
        self._delayed = [d for d in self._delayed if _group(d[2]) not in rooms]
        heapq.heapify(self._delayed)

    async def _take_back(self, rows: Sequence[OutboxMessage]) -> None:
        for row in rows:
            # Only this account's gateway can tell whether it sent a message.
            if (self.confirm is not None and row.account == self.account
                    and await self._confirmed(row)):
                continue
            outgoing = Outgoing(
                text=row.text,
                kind=OutKind(row.kind),
                group_id=row.group_id,
                to=row.to_id,
                mentions=tuple(row.mentions or ()),
                image_path=row.image_path,
                coalesce=row.coalesce,
            )
            item = (row.priority, next(self._seq), pack(outgoing),
                    row.client_id or uuid.uuid4().hex, None, row.attempts, row.not_before,
                    row.last_error)
            self._row_ids[_seq(item)] = row.id
            self._queue(item)

    async def _confirmed(self, row: OutboxMessage) -> bool:
        """A row a crash left "queued": did the platform get it before the crash?"""
        assert self.confirm is not None
        if not row.client_id or not await self.confirm(row.client_id):
            return False
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id)
                .values(status="sent", sent_at=self.clock.now())
            )
        self.stats.confirmed += 1
        return True

    async def _sent_today(self, session: AsyncSession) -> int:
        local_midnight = (
            self.clock.now()
            .astimezone(self.timezone)
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )
        query = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == "sent",
                OutboxMessage.account == self.account,
                OutboxMessage.sent_at >= local_midnight,
            )
        )
        return int((await session.execute(query)).scalar_one())

    async def flush(self) -> None:
        """Write new messages and finished sends to the database in one transaction."""
        async with self._save_lock:
            unsaved, finished = self._unsaved, self._finished
            if not unsaved and not finished and not any(w.dirty for w in self._write_behind):
                return
            self._unsaved, self._finished = {}, []
            self._saving.update(unsaved)
            try:
                await self._save(list(unsaved.values()), finished)
            except Exception:
                self._unsaved = {**unsaved, **self._unsaved}
                self._finished = finished + self._finished
                raise
            finally:
                self._saving.difference_update(unsaved)

    async def _save(self, unsaved: list[tuple[Item, str]],
                    finished: list[tuple[Item, str, str | None, str | None]]) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            if unsaved:
                row_ids = await self._insert(session, unsaved, now)
                for (item, status), row_id in zip(unsaved, row_ids, strict=True):
                    # Held here until marked; not another account's (its process sends
                    # it), nor one written with its outcome already (failed for good).
                    if _elsewhere(item) is None and status == "queued":
                        self._row_ids[_seq(item)] = row_id
            if finished:
                await session.execute(MARK, [self._mark(*outcome, now) for outcome in finished])
            for other in self._write_behind:
                await other.save(session)
        for item, status, *_ in finished:  # final: its row is no longer held here
            if status != "queued":
                self._row_ids.pop(_seq(item), None)
        if self._released:  # set aside: their rows are the new holder's once written
            pending = {_seq(item) for item, *_ in self._finished} | self._unsaved.keys()
            for seq in self._released - pending:
                self._row_ids.pop(seq, None)
                self._released.discard(seq)

    def _mark(self, item: Item, status: str, error: str | None, platform_id: str | None,
              now: datetime) -> dict[str, object]:
        _priority, seq, _packed, _client_id, _account, attempts, not_before, _ = item
        return {"row_id": self._row_ids[seq], "status": status, "attempts": attempts,
                "last_error": error, "not_before": not_before,
                "sent_at": now if status == "sent" else None, "platform_id": platform_id}

    async def _insert(self, session: AsyncSession, items: list[tuple[Item, str]],
                      now: datetime) -> list[int]:
        """Write rows for `items` (each with its status) in `session`: their ids, in order."""
        ids = await INSERT.rows_each(session, [self._row(*item, now) for item in items])
        return [row_id for (row_id,) in ids]

    def _row(self, item: Item, status: str, now: datetime) -> dict[str, object]:
        priority, _seq, packed, client_id, account, attempts, not_before, last_error = item
        text, kind, group_id, to, mentions, image_path, _mention_at, coalesce = packed
        return {
            "account": account or self.account, "group_id": group_id, "to_id": to,
            "text": text, "mentions": list(mentions), "kind": kind, "image_path": image_path,
            "priority": priority, "status": status, "attempts": attempts,
            "not_before": not_before, "last_error": last_error, "created_at": now,
            "platform_id": None, "sent_at": None, "client_id": client_id,
            "coalesce": coalesce,
        }

    def _queue(self, item: Item) -> None:
        *_, not_before, _last_error = item
        if not_before is None:
            self._push_ready(item)
        else:
            heapq.heappush(self._delayed, (not_before, _seq(item), item))

    def _push_ready(self, item: Item) -> None:
        heapq.heappush(self._ready, item)
        key = _alike_key(_packed(item)) if self.settings.coalesce else None
        if key is not None:
            self._alike.setdefault(key, {})[_seq(item)] = item

    def _drop_merged(self) -> None:
        """Pop heap entries of items that already went out in a merged message."""
        while self._ready and _entry(self._ready[0]) in self._merged:
            self._merged.discard(_entry(heapq.heappop(self._ready)))

    def _take_alike(self, item: Item) -> list[Item]:
        """`item` and the ready replies that may go out with it (issue 16.5), in queue
        order, as many as one message holds. Those taken leave the queue."""
        key = _alike_key(_packed(item)) if self.settings.coalesce else None
        if key is None:
            return [item]
        alike = self._alike.get(key, {})
        alike.pop(_seq(item), None)
        batch, size = [item], len(_text(item)) + MENTION_ROOM
        # `item` heads the heap, so it is the oldest of its kind: the rest follow in order.
        for seq in sorted(alike):
            other = alike[seq]
            size += len(_text(other)) + 1 + MENTION_ROOM
            if len(batch) == COALESCE_LINES or size > MESSAGE_LIMIT:
                break
            batch.append(other)
        for other in batch[1:]:
            del alike[_seq(other)]
            self._merged.add(_entry(other))
        if not alike:
            self._alike.pop(key, None)
        return batch

    def _promote_due(self, now: datetime) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            self._push_ready(heapq.heappop(self._delayed)[2])

    def _wait_for(self, item: Item, now: datetime) -> float:
        waits = [self._bucket.wait(now)]
        target = _target(item)
        if self._switch_ok_at and target != self._last_target:
            waits.append((self._switch_ok_at - now).total_seconds())
        local = now.astimezone(self.timezone)
        if self._day[0] == local.date() and self._day[1] >= self.settings.daily_cap:
            midnight = (local + timedelta(days=1)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            waits.append((midnight - local).total_seconds())
        return max(waits)

    async def step(self) -> float | None:
        """Send the next message if the budget allows; returns seconds to wait, None if idle."""
        if self.held:
            return None
        now = self.clock.now()
        self._promote_due(now)
        self._drop_merged()
        if not self._ready:
            if not self._delayed:
                return None
            return max(0.0, (self._delayed[0][0] - now).total_seconds())
        item = self._ready[0]
        if not self.serves(unpack(_packed(item))):  # its room's lease moved: the new holder
            self.set_aside({_group(item) or ""})  # sends it
            return 0.0
        wait = self._wait_for(item, now)
        if wait > 0:
            return wait
        heapq.heappop(self._ready)
        await self._send(self._take_alike(item), now)
        if len(self._finished) >= FLUSH_BATCH:
            await self.flush()  # marks are otherwise written by the run loop's group commit
        return 0.0

    def _record(self, item: Item, status: str, error: str | None = None,
                platform_id: str | None = None) -> None:
        """Note an outcome; only what reached the database needs an UPDATE."""
        seq = _seq(item)
        if seq not in self._row_ids and seq not in self._saving:
            if status in ("sent", "dropped"):
                self._unsaved.pop(seq, None)  # never written, nothing to remember
            else:  # a retry or failure is written with its status by the next flush
                self._unsaved[seq] = (item, status)
            return
        self._finished.append((item, status, error, platform_id))

    async def _send(self, items: list[Item], now: datetime) -> None:
        """Send one message: one item's, or several merged; each item keeps its own row,
        and all of them are marked in the same group commit (one `_finished` batch)."""
        messages = [unpack(_packed(item)) for item in items]
        outgoing = messages[0] if len(items) == 1 else merge(messages)
        if not self.may_send(outgoing):
            self.stats.dropped += len(items)
            for item in items:
                self._record(item, "dropped", "group no longer set up")
            return
        assert self._transport is not None, "outbox has no transport attached"
        self._in_flight = items
        try:
            sent = await self._transport(outgoing)
        except SendError as exc:
            for item in items:  # each is retried on its own (and may merge again)
                self._failed(item, now, str(exc), exc.permanent)
            return
        except Exception as exc:  # an adapter bug must not kill the sender
            log.exception("send failed unexpectedly")
            for item in items:
                self._failed(item, now, repr(exc), False)
            return
        finally:  # its outcome is recorded below without a pause: still known to `adopt`
            self._in_flight = []
        self._bucket.take(now)
        self._count_day(now)
        self._last_target = outgoing.group_id or outgoing.to
        low, high = self.settings.group_jitter
        self._switch_ok_at = now + low + (high - low) * self.rng.random()
        self.stats.sent += 1
        self.stats.coalesced += len(items) - 1
        for item in items:
            self._record(item, "sent", platform_id=sent.message_id if sent is not None else None)

    def _count_day(self, now: datetime) -> None:
        today = now.astimezone(self.timezone).date()
        self._day = (today, self._day[1] + 1 if self._day[0] == today else 1)

    def _failed(self, item: Item, now: datetime, error: str, permanent: bool) -> None:
        priority, seq, packed, client_id, account, attempts, not_before, _ = item
        attempts += 1
        if permanent or attempts >= self.settings.max_attempts:
            self.stats.failed += 1
            log.error("giving up on a message to %s after %d attempt(s): %s",
                      _target(item), attempts, error)
            failed = (priority, seq, packed, client_id, account, attempts, not_before, error)
            self._record(failed, "failed", error)
            return
        self.stats.retried += 1
        not_before = now + self.settings.retry_after * 2 ** (attempts - 1)
        retry = (priority, seq, packed, client_id, account, attempts, not_before, error)
        self._queue(retry)
        self._record(retry, "queued", error)

    async def drain(self) -> int:
        """Send everything the budget allows right now (tests and the simulated clock)."""
        sent_before = self.stats.sent
        while await self.step() == 0:
            pass
        await self.flush()
        return self.stats.sent - sent_before

    def stop_running(self) -> None:
        """Let `run` return after its current step (never cut a send in half)."""
        self._stopping = True
        self._wakeup.set()

    async def finish(self, timeout: float) -> None:
        """Graceful stop: send what the budget allows within `timeout` seconds, then write
        whatever is still queued (nothing is lost; the next start sends it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout + 1):  # a hung transport cannot hold the stop
                while (delay := await self.step()) is not None:
                    if loop.time() + delay >= deadline:
                        break
                    await asyncio.sleep(delay)
        await self.flush()

    async def run(self, flush_every: float = 0.1) -> None:
        """The sender loop for real time: wakes on new messages or when the budget allows."""
        loop = asyncio.get_running_loop()
        last_flush = loop.time()
        while not self._stopping:
            try:
                delay = await self.step()
            except Exception:
                log.exception("outbox step failed; retrying in a second")
                delay = 1.0
            if delay == 0:  # busy: never commit between ready sends (step does every 50)
                await asyncio.sleep(0)  # a fast transport must not starve the event loop
                continue
            self._wakeup.clear()
            due = last_flush + flush_every - loop.time()
            if due > 0:  # one group commit per interval, at most
                timeout = min(due, flush_every if delay is None else delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout)
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Python 3.11's wait_for drops a cancel that lands as the wakeup fires
                    raise asyncio.CancelledError
                if loop.time() < last_flush + flush_every:
                    continue
            last_flush = loop.time()
            try:
                await self.flush()
            except Exception:
                log.exception("outbox flush failed; will retry")
