"""The SQLite WAL is checkpointed off the event loop (bot/storage/inline_sqlite.py): a
member's commit must neither copy the WAL nor fsync it, and the WAL must still start over
under a steady stream of commits, which passive checkpoints alone never let it do."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from bot.storage import Database

METADATA = MetaData()
NOTES = Table("checkpoint_notes", METADATA, Column("id", Integer, primary_key=True),
              Column("text", String(4000)))
HOUR = 3600.0  # the thread's own passes never come: the test drives every pass


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database("sqlite+aiosqlite:///bot.db", tmp_path)
    async with database.engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    yield database
    await database.close()


async def write(db: Database, count: int) -> None:
    for n in range(count):
        async with db.transaction() as session:
            await session.execute(insert(NOTES).values(text=f"{n}" * 3000))


def wal_frames(connection: sqlite3.Connection) -> int:
    """Frames in the WAL since it last started over (a passive checkpoint reports them)."""
    return int(connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


async def test_a_commit_landing_after_the_threads_pass_still_lets_the_wal_start_over(
        db: Database, tmp_path: Path) -> None:
    checkpointer = await db.start_checkpoints(every=HOUR, restart_after=20)
    assert checkpointer is not None
    thread = sqlite3.connect(tmp_path / "bot.db")  # the checkpoint thread's connection
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    try:
        await write(db, 30)
        # A transaction under way while the thread's last pass runs, as one always is
        # under load: its commit leaves the WAL not wholly copied, so SQLite would append
        # the loop's next commits to the WAL instead of starting it over.
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM checkpoint_notes").fetchall()
        checkpointer.checkpoint(thread)  # the WAL is long: caught up, the loop readied
        assert checkpointer.nearly_copied.is_set()
        other.execute("INSERT INTO checkpoint_notes (text) VALUES ('late')")
        other.execute("COMMIT")
        await write(db, 1)  # the loop's next transaction copies the rest first
        assert not checkpointer.nearly_copied.is_set()
        assert wal_frames(thread) < 5  # its commit started the WAL over (was 30 and more)
    finally:
        thread.close()
        other.close()


async def test_a_short_wal_is_left_to_the_threads_passes(db: Database, tmp_path: Path) -> None:
    checkpointer = await db.start_checkpoints(every=HOUR, restart_after=10_000)
    assert checkpointer is not None
    thread = sqlite3.connect(tmp_path / "bot.db")
    try:
        await write(db, 10)
        checkpointer.checkpoint(thread)
        assert not checkpointer.nearly_copied.is_set()
        async with db.transaction() as session:
            assert len((await session.execute(NOTES.select())).all()) == 10
    finally:
        thread.close()


async def test_an_in_memory_database_has_no_checkpoints() -> None:
    database = Database("sqlite+aiosqlite:///:memory:")
    try:
        assert await database.start_checkpoints() is None
    finally:
        await database.close()
