"""Prepared statements (bot/storage/prepared.py): the hot path's statements run on SQLite's
own connection, so they must give exactly what `session.execute` gives — values, errors,
transactions — on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.storage import Database, UTCDateTime, dialect_insert
from bot.storage.models import ProcessedMessage
from bot.storage.prepared import Prepared

METADATA = MetaData()
THINGS = Table(
    "prepared_things", METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("day", Date),
    Column("at", UTCDateTime),
    Column("tags", JSON),
    Column("score", Integer, default=7),
)
AT = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)
ROW = {"name": "甲", "day": date(2026, 11, 23), "at": AT, "tags": ["a", "乙"], "score": 3}

SELECT = Prepared(select(THINGS.c.name, THINGS.c.day, THINGS.c.at, THINGS.c.tags,
                         THINGS.c.score).where(THINGS.c.name == bindparam("name")))
INSERT = Prepared(insert(THINGS))
INSERT_RETURNING = Prepared(insert(THINGS).returning(THINGS.c.id, THINGS.c.at,
                                                     sort_by_parameter_order=True))
RENAME = Prepared(update(THINGS).where(THINGS.c.name == bindparam("old"))
                  .values(name=bindparam("new")))


@pytest.fixture
async def db(database_url, tmp_path):
    database = Database(database_url, tmp_path)
    async with database.engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    yield database
    await database.close()


async def test_values_come_back_as_the_orm_gives_them(db):
    async with db.transaction() as session:
        await INSERT.run(session, ROW)
    async with db.transaction() as session:
        prepared = await SELECT.rows(session, {"name": "甲"})
        plain = (await session.execute(SELECT.statement(db.engine.dialect.name),
                                       {"name": "甲"})).all()
    assert prepared == [tuple(row) for row in plain]
    assert prepared == [("甲", date(2026, 11, 23), AT, ["a", "乙"], 3)]
    assert prepared[0][2].tzinfo is not None  # aware, as UTCDateTime promises


async def test_returning_and_rowcounts(db):
    async with db.transaction() as session:
        (row_id, at) = await INSERT_RETURNING.one(session, ROW)
        assert isinstance(row_id, int) and at == AT
        assert await RENAME.run(session, {"old": "甲", "new": "乙"}) == 1
        assert await RENAME.run(session, {"old": "nobody", "new": "丙"}) == 0
    async with db.transaction() as session:
        assert [r[0] for r in await SELECT.rows(session, {"name": "乙"})] == ["乙"]


async def test_each_row_returns_its_own_in_order(db):
    rows = [{**ROW, "name": f"n{i}", "score": i} for i in range(7)]
    async with db.transaction() as session:
        returned = await INSERT_RETURNING.rows_each(session, rows)
        by_id = {row_id: name for row_id, name in await Prepared(
            select(THINGS.c.id, THINGS.c.name)).rows(session)}
    assert [by_id[row_id] for row_id, _ in returned] == [row["name"] for row in rows]


async def test_rows_skipped_on_conflict_return_nothing_and_no_rows_is_no_statement(db):
    """A fan-out's claim: the rows returned are the claims won, the rest were taken."""
    claim = Prepared(lambda dialect: dialect_insert(dialect)(THINGS).on_conflict_do_nothing()
                     .returning(THINGS.c.name, THINGS.c.at))
    async with db.transaction() as session:
        await INSERT.run(session, {**ROW, "name": "taken"})
        won = await claim.rows_each(session, [{**ROW, "name": name}
                                              for name in ("a", "taken", "b")])
        assert await claim.rows_each(session, []) == []
        await INSERT.run_many(session, [])
    assert sorted(won) == [("a", AT), ("b", AT)]


async def test_a_duplicate_key_is_sqlalchemys_integrity_error_and_keeps_nothing(db):
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await INSERT.run(session, {**ROW, "name": "新"})
            await INSERT.run(session, {**ROW, "name": "新"})
    async with db.transaction() as session:
        assert await SELECT.rows(session, {"name": "新"}) == []


async def test_writes_belong_to_the_transaction_and_its_savepoints(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await INSERT.run(session, {**ROW, "name": "lost"})
            raise RuntimeError
    async with db.transaction() as session:
        await INSERT.run(session, {**ROW, "name": "before"})
        for _ in range(2):  # a savepoint, and one after it (a fan-out chunk's jobs)
            async with session.begin_nested() as savepoint:
                await INSERT.run(session, {**ROW, "name": "undone"})
                await savepoint.rollback()
        await INSERT.run(session, {**ROW, "name": "kept"})
    async with db.transaction() as session:
        for name, expected in (("lost", 0), ("undone", 0), ("before", 1), ("kept", 1)):
            assert len(await SELECT.rows(session, {"name": name})) == expected, name


async def test_many_rows_and_a_subset_of_columns(db):
    rows = [{"name": f"m{i}", "day": None, "at": AT, "tags": [], "score": i} for i in range(5)]
    async with db.transaction() as session:
        await INSERT.run_many(session, rows)
        # Other names compile their own form; a Python-side default is filled in.
        await INSERT.run(session, {"name": "short", "score": 1})
        await INSERT.run(session, {"name": "no score"})
    async with db.transaction() as session:
        assert (await SELECT.one(session, {"name": "m4"}))[4] == 4
        assert (await SELECT.one(session, {"name": "short"}))[1:] == (None, None, None, 1)
        assert (await SELECT.one(session, {"name": "no score"}))[4] == 7


async def test_pending_orm_changes_are_flushed_first(db):
    claims = Prepared(select(ProcessedMessage.message_id).where(
        ProcessedMessage.account == bindparam("account")))
    async with db.engine.begin() as connection:
        await connection.run_sync(ProcessedMessage.__table__.create)
    async with db.transaction() as session:
        session.add(ProcessedMessage(account="a", message_id="m1", at=AT))
        assert await claims.rows(session, {"account": "a"}) == [("m1",)]


async def test_statements_are_still_heard_by_engine_listeners(db):
    heard: list[tuple[object, str]] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute",
                 lambda connection, _cur, sql, *_: heard.append((connection, sql)))
    async with db.transaction() as session:
        await INSERT.run(session, {**ROW, "name": "heard"})
        await SELECT.rows(session, {"name": "heard"})
    ours = [connection for connection, sql in heard if "prepared_things" in sql]
    assert len(ours) == 2
    # On SQLite they ran on the sqlite3 connection itself (what the tests above cover).
    assert all(c is None for c in ours) == db.is_sqlite


async def test_a_finished_transaction_leaves_nothing_for_the_cyclic_collector(db):
    """Sessions are freed as soon as they end, not left in reference cycles for the
    collector (46 objects each, thousands a minute under load: its pauses grew with them)."""
    import gc

    async def one(n: int) -> None:
        async with db.transaction() as session:
            await INSERT.run(session, {**ROW, "name": f"n{n}"})
            assert await SELECT.rows(session, {"name": f"n{n}"})
            async with session.begin_nested():
                await RENAME.run(session, {"old": f"n{n}", "new": f"m{n}"})

    await one(0)  # caches filled
    gc.collect()
    gc.disable()
    try:
        for n in range(1, 6):
            await one(n)
        assert gc.collect() == 0
    finally:
        gc.enable()
