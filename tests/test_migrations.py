"""The Alembic history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import bot.storage.models  # noqa: F401
from bot.registry import installed_plugins
from bot.storage import Base, Database

installed_plugins()  # importing each plugin registers its models


async def test_an_empty_database_upgraded_to_head_matches_the_models(database_url, tmp_path):
    db = Database(database_url, tmp_path)
    try:
        await db.migrate()
        async with db.engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await db.close()
    assert differences == []
    assert set(Base.metadata.tables) <= tables


async def test_upgrading_twice_is_harmless(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'twice.db'}", tmp_path)
    try:
        await db.migrate()
        await db.migrate()
    finally:
        await db.close()
