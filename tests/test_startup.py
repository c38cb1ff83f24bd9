"""Start-up skips work a started bot has already done (issue 16 point 1): a database at
the migration heads is not handed to Alembic again, and the heads read from the scripts
are Alembic's own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import PLUGINS
from bot.registry import migration_locations
from bot.storage import database
from bot.storage.database import Database, alembic_config, script_heads


def test_script_heads_are_alembics_heads() -> None:
    from alembic.script import ScriptDirectory

    locations = migration_locations(PLUGINS)
    alembic = ScriptDirectory.from_config(alembic_config(None, locations)).get_heads()
    assert script_heads(locations) == set(alembic)


def test_a_database_at_the_heads_is_not_migrated_again(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    locations = migration_locations(PLUGINS)

    async def migrate() -> None:
        db = Database(url, tmp_path, locations)
        try:
            await db.migrate()
        finally:
            await db.close()

    upgrades: list[int] = []
    real = database._upgrade
    monkeypatch.setattr(database, "_upgrade", lambda *a: (upgrades.append(1), real(*a)))
    asyncio.run(migrate())  # an empty database: Alembic builds it
    asyncio.run(migrate())  # at the heads: left alone
    assert upgrades == [1]
