"""Hot-path statements compiled once and run on SQLite without SQLAlchemy's per-call work.

On the message path SQLAlchemy's own work per statement (the session's execute, cache-key
generation, parameter and result set-up) costs about three times SQLite's (issue 16.3: a
check-in is 8 statements). A `Prepared` statement is compiled once per dialect and set of
parameter names, and on the inline SQLite connection (`bot.storage.inline_sqlite`) it runs
straight on the session's sqlite3 connection, in the session's transaction: the same SQL,
the same bind and result conversions (SQLAlchemy's own type processors), errors raised as
SQLAlchemy's (`IntegrityError` and the rest). On PostgreSQL, where the network round trip
dominates, it is an ordinary `session.execute`.

Forms that need SQLAlchemy's execution (Python-side column defaults, expanding `IN`) run
through `session.execute` on SQLite too. The ORM's pending changes are flushed first, as
`session.execute` would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from bot.storage.inline_sqlite import InlineAdaptedConnection

Params = Mapping[str, Any]
Row = tuple[Any, ...]
Processor = Callable[[Any], Any] | None


Source = tuple[str | None, Any]  # (the parameter's key, or None: the statement's constant)


@dataclass(frozen=True)
class _Plan:
    """One compiled form: SQL text, where each bind's value comes from in position order
    and its processor, and the result columns' processors (empty for a statement that
    returns no rows)."""

    sql: str
    sources: tuple[Source, ...]
    binds: tuple[Processor, ...]
    columns: tuple[Processor, ...]

    def parameters(self, params: Params) -> tuple[Any, ...]:
        return tuple((params[key] if key is not None else constant) if bind is None
                     else bind(params[key] if key is not None else constant)
                     for (key, constant), bind in zip(self.sources, self.binds, strict=True))

    def convert(self, rows: list[Row]) -> list[Row]:
        if not any(self.columns):
            return rows
        return [tuple(value if convert is None else convert(value)
                      for value, convert in zip(row, self.columns, strict=True))
                for row in rows]


def _plan(statement: Executable, dialect: Dialect, names: tuple[str, ...]) -> _Plan | None:
    """The compiled form, or None for what only SQLAlchemy's execution does: Python-side
    column defaults, expanding (IN) parameters, binds computed per call, a non-positional
    driver."""
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(names))
    if (compiled.insert_prefetch or compiled.update_prefetch or compiled.literal_execute_params
            or compiled.post_compile_params or not compiled.positional):
        return None
    sources = []
    for name in compiled.positiontup:  # as construct_params finds each bind's value
        bind = compiled.binds[name]
        if bind.key in names or name in names:
            sources.append((bind.key if bind.key in names else name, None))
        elif bind.callable is not None or bind.required:
            return None
        else:
            sources.append((None, bind.value))
    processors = compiled._bind_processors
    columns = tuple(entry.type._cached_result_processor(dialect, None)
                    for entry in compiled._result_columns)
    return _Plan(compiled.string, tuple(sources),
                 tuple(processors.get(n) for n in compiled.positiontup), columns)


class Prepared:
    """A statement for the hot path; built once at import, compiled on first use.

    `statement` is the statement, or a function of the dialect's name that builds it
    (for dialect-specific forms such as `INSERT … ON CONFLICT`)."""

    def __init__(self, statement: Executable | Callable[[str], Executable]) -> None:
        self._statement = statement
        self._per_dialect = not isinstance(statement, Executable)
        self._built: dict[str, Executable] = {}
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

    def statement(self, dialect: str) -> Executable:
        if not self._per_dialect:
            return self._statement  # type: ignore[return-value]
        if dialect not in self._built:
            self._built[dialect] = self._statement(dialect)  # type: ignore[operator]
        return self._built[dialect]

    async def rows(self, session: AsyncSession, params: Params | None = None) -> list[Row]:
        """The rows it returns (a SELECT, or DML with RETURNING)."""
        raw, plan = await self._plan_for(session, params or {})
        if raw is None or plan is None:
            result = await self._execute(session, params)
            return [tuple(row) for row in result]
        return plan.convert(run_raw(raw, plan.sql, plan.parameters(params or {})).fetchall())

    async def one(self, session: AsyncSession, params: Params | None = None) -> Row:
        rows = await self.rows(session, params)
        if len(rows) != 1:
            raise exc.NoResultFound() if not rows else exc.MultipleResultsFound()
        return rows[0]

    async def run(self, session: AsyncSession, params: Params | None = None) -> int:
        """Runs a statement that returns no rows; how many rows it changed."""
        raw, plan = await self._plan_for(session, params or {})
        if raw is None or plan is None:
            return int((await self._execute(session, params)).rowcount)
        return int(run_raw(raw, plan.sql, plan.parameters(params or {})).rowcount)

    async def run_many(self, session: AsyncSession, rows: Sequence[Params]) -> None:
        """Runs it once per row (executemany; every row with the same names)."""
        if not rows:
            return
        raw, plan = await self._plan_for(session, rows[0])
        if raw is None or plan is None:
            await self._execute(session, list(rows))
            return
        run_raw(raw, plan.sql, [plan.parameters(row) for row in rows], many=True)

    async def rows_each(self, session: AsyncSession, rows: Sequence[Params]) -> list[Row]:
        """Runs it once per row (every row with the same names) and returns the rows they
        returned, in order: one each for INSERT … RETURNING, none for a row that ON
        CONFLICT DO NOTHING skipped. On PostgreSQL one executemany (for the order, give
        the statement `sort_by_parameter_order=True`)."""
        if not rows:
            return []
        raw, plan = await self._plan_for(session, rows[0])
        if raw is None or plan is None:
            return [tuple(row) for row in await self._execute(session, list(rows))]
        return [returned for row in rows
                for returned in plan.convert(run_raw(raw, plan.sql, plan.parameters(row))
                                             .fetchall())]

    async def _execute(self, session: AsyncSession, params: Any) -> Any:
        return await session.execute(self.statement(session.bind.dialect.name), params)

    async def _plan_for(self, session: AsyncSession,
                        params: Params) -> tuple[RawSqlite | None, _Plan | None]:
        raw = await raw_sqlite(session)
        if raw is None:
            return None, None
        names = tuple(params)
        if names not in self._plans:
            dialect = session.bind.dialect
            self._plans[names] = _plan(self.statement(dialect.name), dialect, names)
        return raw, self._plans[names]


def run_raw(raw: RawSqlite, sql: str, values: Any, many: bool = False) -> Any:
    """sqlite3's execute (or executemany), its errors raised as SQLAlchemy's. The engine's
    `before_cursor_execute` listeners still hear of it (benches count statements), without
    a connection or context: there is none."""
    for listener in raw.listeners:
        listener(None, None, sql, values, None, many)
    try:
        if many:
            return raw.connection.executemany(sql, values)
        return raw.connection.execute(sql, values)
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(sql, values, error, sqlite3.Error) from error


@dataclass(frozen=True)
class RawSqlite:
    connection: sqlite3.Connection
    listeners: tuple[Callable[..., Any], ...]


_RAW = "qunbot.sqlite3"


async def raw_sqlite(session: AsyncSession) -> RawSqlite | None:
    """The sqlite3 connection under `session`'s transaction (None on other databases),
    after flushing what the ORM has pending."""
    sync = session.sync_session
    if not sync._is_clean():
        await session.flush()
    # Known per transaction, savepoints included: a savepoint's SAVEPOINT is only emitted
    # when the session next asks for its connection, so a new savepoint must ask. Once it
    # ends, its parent's connection is still known (a fan-out chunk: the chunk's
    # transaction around a savepoint per group).
    # Weakly: a transaction refers to its session, so a plain dict here would make every
    # session a reference cycle, left for the cyclic collector to free (46 objects each).
    known: WeakKeyDictionary[Any, RawSqlite] | None = session.info.get(_RAW)
    if known is None:
        known = session.info[_RAW] = WeakKeyDictionary()
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    if transaction is not None and (raw := known.get(transaction)) is not None:
        return raw
    if session.bind.dialect.name != "sqlite":
        return None
    connection = await session.connection()
    adapted = (await connection.get_raw_connection()).dbapi_connection
    if not isinstance(adapted, InlineAdaptedConnection):
        return None
    listeners = tuple(session.bind.sync_engine.dispatch.before_cursor_execute)
    raw = RawSqlite(adapted._connection._connection, listeners)
    for ended in [t for t in known if not t.is_active]:
        del known[ended]
    known[sync.get_nested_transaction() or sync.get_transaction()] = raw
    return raw
