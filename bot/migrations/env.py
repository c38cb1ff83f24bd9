"""Alembic environment: sees the core's and every plugin's models through one metadata."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import bot.storage.models  # noqa: F401  (core tables)
from bot.registry import installed_plugins
from bot.storage import Base

installed_plugins()  # importing each plugin registers its models

target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run_with)
        await connection.commit()
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "QUNBOT_DATABASE_URL", "sqlite+aiosqlite:///data/qunbot.db"
    )
    asyncio.run(run_from_url(url))
