"""A unit of work's savepoint inside a shared transaction (a fan-out chunk: one per group).

The ORM's own savepoint (`session.begin_nested()`) costs about 150 µs on SQLite — four
greenlet switches and two statements through SQLAlchemy's execution — against SQLite's
2 µs, and a fan-out opens one per group (issue 16.4: 0.3 s of 2,000 groups' quiz). On the
inline SQLite connection a unit's SAVEPOINT and RELEASE therefore go to sqlite3 directly,
and the ORM is kept right around them:

- what the ORM has pending is flushed before the SAVEPOINT (it belongs to the work before);
- should the unit flush, it flushes inside an ORM savepoint of its own, opened just then
  (`_flush_inside`): a failed flush rolls back the innermost ORM transaction, which would
  otherwise be the shared one, with every other unit's work in it;
- a unit rolled back leaves no ORM object behind claiming rows that are gone.

On PostgreSQL, where the round trip dominates, the ORM's savepoint is used as it is.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction
from sqlalchemy.orm import Session, SessionTransaction

from bot.storage.prepared import RawSqlite, raw_sqlite, run_raw

_UNIT = "qunbot.unit"  # session.info: the SqliteSavepoint open in it


class UnitSession(Session):
    """The database's sessions: what a unit flushes goes in an ORM savepoint of its own
    (`_flush_inside`, listening on this class: once, not per session)."""


class Savepoint(Protocol):
    async def release(self) -> None: ...
    async def rollback(self) -> None: ...


async def open_savepoint(session: AsyncSession) -> Savepoint:
    """A savepoint in `session`'s transaction, for one unit of work."""
    raw = await raw_sqlite(session)  # (flushes what the ORM has pending)
    if raw is None:
        return OrmSavepoint(await session.begin_nested())
    return SqliteSavepoint(session, raw)


class OrmSavepoint:
    def __init__(self, transaction: AsyncSessionTransaction) -> None:
        self._transaction = transaction

    async def release(self) -> None:
        await self._transaction.commit()

    async def rollback(self) -> None:
        await self._transaction.rollback()


class SqliteSavepoint:
    NAME = "qunbot_unit"

    def __init__(self, session: AsyncSession, raw: RawSqlite) -> None:
        self.session, self.raw = session, raw
        self.orm: SessionTransaction | None = None  # opened by a flush inside the unit
        if not raw.connection.in_transaction:  # pysqlite begins only at a first write, and
            self._sql("BEGIN")  # a SAVEPOINT outside a transaction would commit at RELEASE
        self._sql(f"SAVEPOINT {self.NAME}")
        session.sync_session.info[_UNIT] = self

    async def release(self) -> None:
        """Keep the unit's work (raises, the unit still open, if its flush fails)."""
        if not self.session.sync_session._is_clean():
            await self.session.flush()
        if self.orm is not None:  # (inactive if a flush failed and the unit went on)
            await self.session.run_sync(_commit, self.orm)
        self._sql(f"RELEASE {self.NAME}")
        self.session.sync_session.info.pop(_UNIT, None)

    async def rollback(self) -> None:
        """Undo the unit's work; the shared transaction goes on."""
        sync = self.session.sync_session
        if self.orm is not None:
            await self.session.run_sync(_rollback, self.orm)
        root = sync.get_transaction()
        if root is None or not root.is_active:  # the unit rolled the session back itself:
            raise RuntimeError("the shared transaction was rolled back inside a unit")
        self._sql(f"ROLLBACK TO {self.NAME}")
        self._sql(f"RELEASE {self.NAME}")
        sync.info.pop(_UNIT, None)
        sync.expunge_all()  # objects it loaded or added may hold what was rolled back

    def _sql(self, sql: str) -> None:
        run_raw(self.raw, sql, ())


@event.listens_for(UnitSession, "before_flush")
def _flush_inside(session: Session, _context: Any, _instances: Any) -> None:
    """A flush inside a unit runs in an ORM savepoint (see the module docstring), opened
    here unless the unit opened one itself."""
    unit = session.info.get(_UNIT)
    if unit is not None and unit.orm is None and session.get_nested_transaction() is None:
        unit.orm = session.begin_nested()  # (mid-flush: it does not flush again)


def _commit(_session: Session, transaction: SessionTransaction) -> None:
    transaction.commit()


def _rollback(_session: Session, transaction: SessionTransaction) -> None:
    transaction.rollback()
