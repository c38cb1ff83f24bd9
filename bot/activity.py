"""Member activity per group and local day, counted in memory and written in batches.

Every message would otherwise cost a database write on the hot path; counters are added
up in a dictionary and flushed as one upsert per batch (every few seconds in real time,
on every advance of the simulated clock, and at shutdown).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, Insert, Integer, String, case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from bot.events import IncomingMessage
from bot.storage import Base, Database

log = logging.getLogger("bot.activity")


class ActivityDaily(Base):
    __tablename__ = "activity_daily"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    messages: Mapped[int] = mapped_column(Integer, default=0)
    characters: Mapped[int] = mapped_column(Integer, default=0)
    commands: Mapped[int] = mapped_column(Integer, default=0)
    mentions_received: Mapped[int] = mapped_column(Integer, default=0)


@dataclass
class _Counts:
    name: str = ""
    messages: int = 0
    characters: int = 0
    commands: int = 0
    mentions_received: int = 0


Key = tuple[str, str, date]
COUNTERS = ("messages", "characters", "commands", "mentions_received")


class ActivityRecorder:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: dict[Key, _Counts] = {}

    def record(self, message: IncomingMessage, day: date, *, command: bool) -> None:
        """Count one message (no I/O: this runs for every message)."""
        mine = self._counts((message.group_id, message.sender_id, day))
        mine.name = message.sender_name
        mine.messages += 1
        mine.characters += len(message.text)
        mine.commands += command
        for member in set(message.mention_ids):
            self._counts((message.group_id, member, day)).mentions_received += 1

    def _counts(self, key: Key) -> _Counts:
        counts = self._pending.get(key)
        if counts is None:
            counts = self._pending[key] = _Counts()
        return counts

    async def flush(self) -> None:
        """Add the pending counts to the database in one statement; kept on failure."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        rows = [{"group_id": g, "member_id": m, "day": d, "name": c.name,
                 **{k: getattr(c, k) for k in COUNTERS}} for (g, m, d), c in pending.items()]
        try:
            async with self.db.transaction() as session:
                await session.execute(self._upsert(session.bind.dialect.name), rows)
        except Exception:
            for key, counts in pending.items():  # merge back: nothing is lost
                merged = self._counts(key)
                merged.name = merged.name or counts.name
                for counter in COUNTERS:
                    setattr(merged, counter, getattr(merged, counter) + getattr(counts, counter))
            raise

    @staticmethod
    def _upsert(dialect: str) -> Insert:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = ActivityDaily.__table__
        statement = insert(table)
        incoming = statement.excluded
        added = {k: table.c[k] + incoming[k] for k in COUNTERS}
        # A member seen only as mentioned comes without a name: keep the one we know.
        name = case((incoming.name == "", table.c.name), else_=incoming.name)
        return statement.on_conflict_do_update(
            index_elements=[table.c.group_id, table.c.member_id, table.c.day],
            set_={**added, "name": name},
        )
