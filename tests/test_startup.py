"""Start-up skips work a started bot has already done (issue 16 point 1): a database at
the migration heads is not handed to Alembic again, an empty one is built without
replaying the history, and the heads read from the scripts are Alembic's own."""

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


def migrate(url: str, tmp_path: Path) -> None:
    async def run() -> None:
        db = Database(url, tmp_path, migration_locations(PLUGINS))
        try:
            await db.migrate()
        finally:
            await db.close()

    asyncio.run(run())


def test_a_database_at_the_heads_is_not_migrated_again(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    changes: list[int] = []
    real = database._build_or_upgrade
    monkeypatch.setattr(database, "_build_or_upgrade",
                        lambda *a: (changes.append(1), real(*a)))
    migrate(url, tmp_path)  # an empty database: built
    migrate(url, tmp_path)  # at the heads: left alone
    assert changes == [1]


def test_a_first_start_builds_the_schema_without_replaying_the_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replays: list[int] = []
    real = database._upgrade
    monkeypatch.setattr(database, "_upgrade", lambda *a: (replays.append(1), real(*a)))
    migrate(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", tmp_path)
    assert replays == []
