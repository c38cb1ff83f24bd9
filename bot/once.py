"""Doing each incoming message at most once, durably (issue 14, point 1; issue 15 reuses it
for two accounts in one room).

Platforms redeliver and gateways replay what they had not acknowledged, also after the bot
restarts. Three layers keep a message from being handled twice:

- an in-memory set of recent ids (the fast path, no I/O);
- at start, the newest processed ids are read back into that set, so a replay right after a
  restart is dropped before any handler sees it;
- the `processed_messages` row is written in the SAME transaction as the handler's own state
  (the first `ctx.transaction()` the message opens claims it): a replayed id that reaches a
  handler anyway is refused by the database and its transaction rolled back, so it changes
  nothing and queues nothing. A message that opened no transaction is recorded with the
  outbox's next group commit, together with the replies it queued.

The same "unit" shape serves timed slots (bot/scheduler.py's SlotUnit): whatever a context
does once is entered in its first transaction.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Outgoing
from bot.storage.base import dialect_insert
from bot.storage.models import ProcessedMessage
from bot.storage.prepared import Prepared

PROCESSED = ProcessedMessage.__table__


# The claim on every message that changes state: built once per dialect when first used,
# on the table, not the ORM class (the ORM insert path is slower).
_CLAIM = Prepared(lambda dialect: dialect_insert(dialect)(PROCESSED).on_conflict_do_nothing())


class AlreadyHandled(Exception):
    """This message was handled before (a replay): stop, change nothing, send nothing."""


class Unit(Protocol):
    """Work a context does once: entered in its first transaction, told when it committed."""

    async def enter(self, session: AsyncSession) -> None: ...

    def committed(self) -> None: ...

    def keep(self, outgoing: Outgoing) -> bool:
        """Take a message queued outside a transaction (True), or let the outbox have it."""


class RecentIds:
    """Message ids seen lately: the fast path of the duplicate check (bounded)."""

    def __init__(self, capacity: int = 20_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def seen_before(self, message_id: str) -> bool:
        if message_id in self._ids:
            return True
        self.add(message_id)
        return False

    def add(self, message_id: str) -> None:
        self._ids[message_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)

    def __len__(self) -> int:
        return len(self._ids)


class ProcessedIds:
    """The durable record of handled messages for one account."""

    def __init__(self, account: str, capacity: int = 20_000) -> None:
        self.account = account
        self.recent = RecentIds(capacity)
        self._capacity = capacity
        self._unsaved: dict[str, datetime] = {}  # handled without a transaction of their own

    def seen_before(self, message_id: str) -> bool:
        return self.recent.seen_before(message_id)

    @property
    def dirty(self) -> bool:
        return bool(self._unsaved)

    def unit(self, message_id: str, at: datetime) -> MessageUnit:
        return MessageUnit(self, message_id, at)

    def note(self, message_id: str, at: datetime) -> None:
        """Record with the next group commit (a message that opened no transaction)."""
        self._unsaved[message_id] = at

    async def load(self, session: AsyncSession) -> int:
        """Read the newest processed ids back into memory (a restart's replays stop here)."""
        rows = await session.execute(
            select(ProcessedMessage.message_id)
            .where(ProcessedMessage.account == self.account)
            .order_by(ProcessedMessage.at.desc())
            .limit(self._capacity)
        )
        ids = [row[0] for row in rows]
        for message_id in reversed(ids):
            self.recent.add(message_id)
        return len(ids)

    async def handled(self, session: AsyncSession, message_ids: list[str]) -> set[str]:
        """Which of these ids some process already handled (issue 18: a room's new holder
        asks before handling what it heard while another process served the room)."""
        rows = await session.execute(
            select(ProcessedMessage.message_id)
            .where(ProcessedMessage.account == self.account,
                   ProcessedMessage.message_id.in_(message_ids)))
        return {row[0] for row in rows}

    async def claim(self, session: AsyncSession, message_id: str, at: datetime) -> bool:
        """Insert the row in `session`; False if another transaction already holds it."""
        self._unsaved.pop(message_id, None)
        return bool(await _CLAIM.run(session, {
            "account": self.account, "message_id": message_id, "at": at}))

    async def save(self, session: AsyncSession) -> None:
        """Part of the outbox's group commit: the ids noted since the last one."""
        if not self._unsaved:
            return
        pending, self._unsaved = self._unsaved, {}
        try:
            # One statement text whatever the count (executemany): a multi-row VALUES per
            # count filled SQLAlchemy's and sqlite3's statement caches with large variants
            # (bench/memory.py: RSS +45% from 20,000 to 200,000 messages).
            await _CLAIM.run_many(session, [{"account": self.account, "message_id": m,
                                             "at": at} for m, at in pending.items()])
        except Exception:
            self._unsaved = {**pending, **self._unsaved}
            raise

    async def purge(self, session: AsyncSession, before: datetime) -> int:
        result = await session.execute(
            delete(ProcessedMessage).where(ProcessedMessage.at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class MessageUnit:
    """One incoming message's claim: the first transaction any of its handlers opens
    writes the processed row; a conflict there means a replay."""

    def __init__(self, ids: ProcessedIds, message_id: str, at: datetime) -> None:
        self.ids, self.message_id, self.at = ids, message_id, at
        self.claimed = False  # the row is committed
        self.changed_state = False  # some transaction of this message committed
        self.finished = False  # a timer copied from the message's context claims nothing

    async def enter(self, session: AsyncSession) -> None:
        if self.claimed or self.finished:
            return
        if not await self.ids.claim(session, self.message_id, self.at):
            raise AlreadyHandled(self.message_id)

    def committed(self) -> None:
        self.claimed = self.changed_state = True

    def keep(self, outgoing: Outgoing) -> bool:
        return False  # replies are sent at once; the outbox's group commit writes them

    def finish(self) -> None:
        """After every handler ran: a message that claimed nothing is recorded later."""
        self.finished = True
        if not self.claimed:
            self.ids.note(self.message_id, self.at)

