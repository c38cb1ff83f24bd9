"""Units of work in a shared transaction (bot/storage/savepoints.py): a fan-out chunk runs
one group's job per unit, and a unit that fails — by its own bug, a failed statement or a
failed ORM flush — must lose its own work only, never its neighbours'. On SQLite the
savepoints bypass the ORM, so the ORM's ways of failing are what these tests try."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.storage import Database, Prepared


class _Base(DeclarativeBase):
    pass


class Thing(_Base):
    __tablename__ = "savepoint_things"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)


ADD = Prepared(insert(Thing.__table__))


@pytest.fixture
async def db(database_url, tmp_path):
    database = Database(database_url, tmp_path)
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    yield database
    await database.close()


async def names(db: Database) -> list[str]:
    async with db.transaction() as session:
        return sorted(await session.scalars(select(Thing.name)))


async def unit(shared, work, *, fails: bool = False) -> bool:
    """Run `work(session)` as one unit, as the scheduler runs a job; True if kept."""
    shared.begin_unit()
    try:
        async with shared.database.transaction() as session:  # joins: the unit's session
            await work(session)
        await shared.end_unit(keep=True)
    except Exception:
        await shared.end_unit(keep=False)
        return False
    return True


async def fails_alone(db: Database, failing) -> None:
    """`failing` between two units that succeed: only its own work is lost."""
    async with db.sharing() as shared:
        assert await unit(shared, adds("甲"))
        assert not await unit(shared, failing)
        assert await unit(shared, adds("丙"))
    assert await names(db) == ["丙", "甲"]


def adds(name: str):
    async def work(session):
        await ADD.run(session, {"name": name})
    return work


async def test_each_unit_is_kept_or_undone_alone(db):
    async def half_done(session):
        await ADD.run(session, {"name": "乙"})
        raise RuntimeError("the job's own bug")

    await fails_alone(db, half_done)


async def test_a_failed_orm_flush_loses_only_its_own_unit(db):
    async def duplicate(session):
        session.add(Thing(name="新"))
        session.add(Thing(name="甲"))  # taken by the unit before: the flush fails
        await session.flush()

    await fails_alone(db, duplicate)


async def test_a_flush_at_the_end_of_a_unit_that_fails_loses_only_that_unit(db):
    async def pending_duplicate(session):
        session.add(Thing(name="甲"))  # flushed when the unit is kept: it fails then

    await fails_alone(db, pending_duplicate)


async def test_a_failed_statement_loses_only_its_own_unit(db):
    async def duplicate(session):
        await ADD.run(session, {"name": "新"})
        await session.execute(insert(Thing), {"name": "甲"})

    await fails_alone(db, duplicate)


async def test_a_unit_that_swallows_its_failed_flush_is_not_kept(db):
    async def swallows(session):
        await ADD.run(session, {"name": "新"})
        session.add(Thing(name="甲"))
        with pytest.raises(IntegrityError):
            await session.flush()

    await fails_alone(db, swallows)


async def test_what_an_undone_unit_changed_in_memory_is_not_written_later(db):
    async with db.transaction() as session:
        first = Thing(name="原")
        session.add(first)
        await session.flush()
        first_id = first.id

    async def renames_then_fails(session):
        thing = await session.get(Thing, first_id)
        thing.name = "改"  # pending, not flushed
        session.add(Thing(name="新"))
        raise RuntimeError("the job's own bug")

    async def flushes_then_fails(session):
        thing = await session.get(Thing, first_id)
        thing.name = "又改"
        await session.flush()
        raise RuntimeError("the job's own bug")

    async with db.sharing() as shared:
        assert not await unit(shared, renames_then_fails)
        assert not await unit(shared, flushes_then_fails)
        assert await unit(shared, adds("丙"))

        async def reads(session):  # what the database holds, not what the undone ones left
            assert (await session.get(Thing, first_id)).name == "原"
        assert await unit(shared, reads)
    assert await names(db) == ["丙", "原"]


async def test_a_unit_may_open_savepoints_of_its_own(db):
    async def tries_twice(session):
        try:
            async with session.begin_nested():
                await session.execute(insert(Thing), {"name": "甲"})
        except IntegrityError:
            pass  # taken: it goes on with another name
        await ADD.run(session, {"name": "乙"})

    async with db.sharing() as shared:
        assert await unit(shared, adds("甲"))
        assert await unit(shared, tries_twice)
    assert await names(db) == ["乙", "甲"]


async def test_the_shared_transaction_is_one_commit(db):
    with pytest.raises(RuntimeError):
        async with db.sharing() as shared:
            assert await unit(shared, adds("甲"))
            raise RuntimeError("killed mid-chunk")
    assert await names(db) == []
