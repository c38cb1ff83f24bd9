"""Every message the bot sends goes through here: prioritized, budgeted, persisted, retried.

WeChat bans accounts that burst ("发送消息过于频繁", 12-hour bans after ~100 rooms), so
sends obey a token bucket, a daily cap and a random pause when switching groups.

Persistence is write-behind: a message still queued at the next flush (every 0.1 s in real
time) is written to the database, so a restart loses none; the runtime flushes timed posts
at once. A reply sent within that moment never costs a write — the hot path stays free of
I/O. A persisted message is marked sent right after the send (batched while more sends
are ready at once), which keeps the window for a duplicate after a crash to one send.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.base import SendError
from bot.clock import Clock
from bot.config.models import OutboxSettings
from bot.events import Outgoing, OutKind, Sent
from bot.storage import Database
from bot.storage.models import OutboxMessage
from bot.text import MESSAGE_LIMIT, cap

log = logging.getLogger("bot.outbox")

PRIORITY = {OutKind.NOTICE: 0, OutKind.REPLY: 1, OutKind.DM: 1, OutKind.POST: 2}
FLUSH_BATCH = 50

Transport = Callable[[Outgoing], Awaitable[Sent]]
SendPolicy = Callable[[Outgoing], bool]


@dataclass(order=True)
class _Item:
    priority: int
    seq: int
    outgoing: Outgoing = field(compare=False)
    row_id: int | None = field(default=None, compare=False)
    attempts: int = field(default=0, compare=False)
    not_before: datetime | None = field(default=None, compare=False)
    status: str = field(default="queued", compare=False)
    last_error: str | None = field(default=None, compare=False)
    saving: bool = field(default=False, compare=False)  # its INSERT is under way


@dataclass
class OutboxStats:
    sent: int = 0
    failed: int = 0  # given up after retries (or a permanent error)
    retried: int = 0
    dropped: int = 0  # refused by the send policy (e.g. a post to a group not set up)


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
    ) -> None:
        self.db, self.clock, self.settings = db, clock, settings
        self.account, self.timezone, self.may_send = account, timezone, may_send
        self.rng = rng or random.Random()
        self.stats = OutboxStats()
        self._transport: Transport | None = None
        self._ready: list[_Item] = []
        self._delayed: list[tuple[datetime, int, _Item]] = []  # retries, by due time
        self._unsaved: dict[int, _Item] = {}  # by seq: queued, not yet in the database
        self._finished: list[tuple[_Item, str, str | None]] = []  # (item, status, error)
        self._seq = itertools.count()
        self._bucket = TokenBucket(settings.per_minute, settings.burst, clock.now())
        self._last_target: str | None = None
        self._switch_ok_at: datetime | None = None
        self._day: tuple[object, int] = (None, 0)  # (local date, sends that day)
        self._wakeup = asyncio.Event()
        self._save_lock = asyncio.Lock()
        self.held = False  # the account is logged out: keep everything, burn no retries

    def hold(self) -> None:
        """Stop sending (nothing is dropped or retried) until `release()`."""
        self.held = True

    def release(self) -> None:
        self.held = False
        self._wakeup.set()

    def attach(self, transport: Transport) -> None:
        self._transport = transport

    def put(self, outgoing: Outgoing) -> None:
        """Queue a message (no I/O here: this runs on the message hot path)."""
        if len(outgoing.text) > MESSAGE_LIMIT:  # every message, whoever wrote it: one cap
            outgoing = outgoing.model_copy(update={"text": cap(outgoing.text)})
        if not self.may_send(outgoing):
            self.stats.dropped += 1
            log.warning("not sending to %s: the group is not set up for it", outgoing.group_id)
            return
        item = _Item(PRIORITY[outgoing.kind], next(self._seq), outgoing)
        heapq.heappush(self._ready, item)
        self._unsaved[item.seq] = item
        self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._ready) + len(self._delayed)

    async def load(self) -> None:
        """Take back what a previous run queued but did not send."""
        async with self.db.transaction() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.status == "queued", OutboxMessage.account == self.account)
                    .order_by(OutboxMessage.id)
                )
            ).all()
            self._day = (
                self.clock.now().astimezone(self.timezone).date(),
                await self._sent_today(session),
            )
        for row in rows:
            outgoing = Outgoing(
                text=row.text,
                kind=OutKind(row.kind),
                group_id=row.group_id,
                to=row.to_id,
                mentions=tuple(row.mentions or ()),
                image_path=row.image_path,
            )
            item = _Item(
                row.priority, next(self._seq), outgoing, row.id, row.attempts, row.not_before
            )
            self._queue(item)
        if rows:
            log.info("outbox: %d queued message(s) taken back from the last run", len(rows))

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
            unsaved, finished = list(self._unsaved.values()), self._finished
            if not unsaved and not finished:
                return
            self._unsaved, self._finished = {}, []
            for item in unsaved:
                item.saving = True
            try:
                await self._save(unsaved, finished)
            except Exception:
                self._unsaved = {**{i.seq: i for i in unsaved}, **self._unsaved}
                self._finished = finished + self._finished
                raise
            finally:
                for item in unsaved:
                    item.saving = False

    async def _save(
        self, unsaved: list[_Item], finished: list[tuple[_Item, str, str | None]]
    ) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            rows = [self._row(item, now) for item in unsaved]
            session.add_all(rows)
            await session.flush()
            for item, row in zip(unsaved, rows, strict=True):
                item.row_id = row.id
            for item, status, error in finished:
                assert item.row_id is not None
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == item.row_id)
                    .values(
                        status=status,
                        attempts=item.attempts,
                        last_error=error,
                        not_before=item.not_before,
                        sent_at=now if status == "sent" else None,
                    )
                )

    def _row(self, item: _Item, now: datetime) -> OutboxMessage:
        o = item.outgoing
        return OutboxMessage(
            account=self.account,
            group_id=o.group_id,
            to_id=o.to,
            text=o.text,
            mentions=list(o.mentions),
            kind=o.kind.value,
            image_path=o.image_path,
            priority=item.priority,
            status=item.status,
            attempts=item.attempts,
            not_before=item.not_before,
            last_error=item.last_error,
            created_at=now,
        )

    def _queue(self, item: _Item) -> None:
        if item.not_before is None:
            heapq.heappush(self._ready, item)
        else:
            heapq.heappush(self._delayed, (item.not_before, item.seq, item))

    def _promote_due(self, now: datetime) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            heapq.heappush(self._ready, heapq.heappop(self._delayed)[2])

    def _wait_for(self, item: _Item, now: datetime) -> float:
        waits = [self._bucket.wait(now)]
        target = item.outgoing.group_id or item.outgoing.to
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
        if not self._ready:
            if not self._delayed:
                return None
            return max(0.0, (self._delayed[0][0] - now).total_seconds())
        item = self._ready[0]
        wait = self._wait_for(item, now)
        if wait > 0:
            return wait
        heapq.heappop(self._ready)
        await self._send(item, now)
        if self._finished and (
            not self._ready
            or self._wait_for(self._ready[0], self.clock.now()) > 0
            or len(self._finished) >= FLUSH_BATCH
        ):
            await self.flush()
        return 0.0

    def _record(self, item: _Item, status: str, error: str | None = None) -> None:
        """Note an outcome; only what reached the database needs an UPDATE."""
        item.status, item.last_error = status, error
        if item.row_id is None and not item.saving:
            if status in ("sent", "dropped"):
                self._unsaved.pop(item.seq, None)  # never written, nothing to remember
            return  # a retry or failure is written with its status by the next flush
        self._finished.append((item, status, error))

    async def _send(self, item: _Item, now: datetime) -> None:
        if not self.may_send(item.outgoing):
            self.stats.dropped += 1
            self._record(item, "dropped", "group no longer set up")
            return
        assert self._transport is not None, "outbox has no transport attached"
        try:
            await self._transport(item.outgoing)
        except SendError as exc:
            self._failed(item, now, str(exc), exc.permanent)
            return
        except Exception as exc:  # an adapter bug must not kill the sender
            log.exception("send failed unexpectedly")
            self._failed(item, now, repr(exc), False)
            return
        self._bucket.take(now)
        self._count_day(now)
        self._last_target = item.outgoing.group_id or item.outgoing.to
        low, high = self.settings.group_jitter
        self._switch_ok_at = now + low + (high - low) * self.rng.random()
        self.stats.sent += 1
        self._record(item, "sent")

    def _count_day(self, now: datetime) -> None:
        today = now.astimezone(self.timezone).date()
        self._day = (today, self._day[1] + 1 if self._day[0] == today else 1)

    def _failed(self, item: _Item, now: datetime, error: str, permanent: bool) -> None:
        item.attempts += 1
        if permanent or item.attempts >= self.settings.max_attempts:
            self.stats.failed += 1
            log.error(
                "giving up on a message to %s after %d attempt(s): %s",
                item.outgoing.group_id or item.outgoing.to,
                item.attempts,
                error,
            )
            self._record(item, "failed", error)
            return
        self.stats.retried += 1
        item.not_before = now + self.settings.retry_after * 2 ** (item.attempts - 1)
        self._queue(item)
        self._record(item, "queued", error)

    async def drain(self) -> int:
        """Send everything the budget allows right now (tests and the simulated clock)."""
        sent_before = self.stats.sent
        while await self.step() == 0:
            pass
        await self.flush()
        return self.stats.sent - sent_before

    async def run(self, flush_every: float = 0.1) -> None:
        """The sender loop for real time: wakes on new messages or when the budget allows."""
        while True:
            try:
                delay = await self.step()
            except Exception:
                log.exception("outbox step failed; retrying in a second")
                delay = 1.0
            if delay == 0:
                await asyncio.sleep(0)  # a fast transport must not starve the event loop
                continue
            self._wakeup.clear()
            timeout = flush_every if delay is None else min(delay, flush_every)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Python 3.11's wait_for drops a cancel that lands as the wakeup fires
                raise asyncio.CancelledError
            try:
                await self.flush()
            except Exception:
                log.exception("outbox flush failed; will retry")
