"""The Alembic history builds exactly the schema the models describe, on both databases —
which is what lets a first start build an empty database from the models instead of
replaying the history (bot/storage/database.py, `_build_if_empty`)."""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.storage import Base, Database
from bot.storage import database as storage
from bot.storage.database import script_heads, shipped_tables


def replay_history(connection: Connection) -> None:
    """Every migration from the first, as on a database older than the fast path."""
    with storage._migration_transaction(connection):
        storage._upgrade(connection, ())


def reflected(connection: Connection) -> dict[str, dict[str, Any]]:
    """Every table's columns, keys, indexes and constraints as the database reports them."""
    inspector = inspect(connection)

    def listed(items: list[Any]) -> list[str]:
        return sorted(map(repr, items))

    return {table: {
        "columns": {c["name"]: {k: str(v) for k, v in c.items()}
                    for c in inspector.get_columns(table)},
        "primary key": inspector.get_pk_constraint(table),
        "foreign keys": listed(inspector.get_foreign_keys(table)),
        "indexes": listed(inspector.get_indexes(table)),
        "unique": listed(inspector.get_unique_constraints(table)),
        "checks": listed(inspector.get_check_constraints(table)),
    } for table in inspector.get_table_names()}


def sqlite_ddl(connection: Connection) -> dict[str, Any]:
    """SQLite's stored CREATE statements, each table's as a set of column and constraint
    definitions (a batch migration rebuilds a table with columns in another order)."""
    ddl: dict[str, Any] = {}
    for name, sql in connection.exec_driver_sql("SELECT name, sql FROM sqlite_master"):
        text = " ".join((sql or "").split())
        if text.startswith("CREATE TABLE"):
            body = text[text.index("(") + 1:text.rindex(")")]
            ddl[name] = {part.strip() for part in re.split(r",(?![^()]*\))", body)}
        else:
            ddl[name] = text
    return ddl


async def schema_of(db: Database) -> dict[str, Any]:
    async with db.engine.connect() as connection:
        schema = {"reflected": await connection.run_sync(reflected)}
        if db.is_sqlite:
            schema["ddl"] = await connection.run_sync(sqlite_ddl)
        schema["stamped"] = await connection.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads()))
    return schema


def differences(built: dict[str, Any], replayed: dict[str, Any]) -> list[str]:
    """What differs, one line per table and aspect (a readable failure)."""
    found = []
    for part in built.keys() | replayed.keys():
        one, other = built.get(part), replayed.get(part)
        if not isinstance(one, dict) or not isinstance(other, dict):
            found += [f"{part}: built {one!r}, replayed {other!r}"] if one != other else []
            continue
        for table in sorted(one.keys() | other.keys()):
            if one.get(table) != other.get(table):
                found.append(f"{part} {table}: built {one.get(table)!r}, "
                             f"replayed {other.get(table)!r}")
    return found


async def test_building_from_the_models_gives_the_schema_the_history_builds(two_database_urls):
    built, replayed = (Database(url) for url in two_database_urls)
    try:
        await built.migrate()  # empty: built from the models and stamped
        async with replayed.engine.begin() as connection:
            await connection.run_sync(replay_history)
        assert differences(await schema_of(built), await schema_of(replayed)) == []
    finally:
        await built.close()
        await replayed.close()


async def test_the_replayed_history_matches_the_models(database_url, tmp_path):
    db = Database(database_url, tmp_path)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(replay_history)
        async with db.engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await db.close()
    assert differences == []
    assert {t.name for t in shipped_tables()} | {"alembic_version"} == tables


async def test_a_built_database_is_at_the_heads_for_alembic(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'built.db'}", tmp_path)
    try:
        await db.migrate()
        async with db.engine.begin() as connection:
            heads = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads()))
            await connection.run_sync(replay_history)  # Alembic finds nothing to do
    finally:
        await db.close()
    assert heads == script_heads()


async def test_upgrading_twice_is_harmless(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'twice.db'}", tmp_path)
    try:
        await db.migrate()
        await db.migrate()
    finally:
        await db.close()


PLUGIN_REVISION = '''"""A plugin's own branch (docs/plugins.md)."""
import sqlalchemy as sa
from alembic import op

revision = "7e57b4a9c001"
down_revision = None
branch_labels = ("thanks",)
depends_on = None


def upgrade() -> None:
    op.create_table("thanks_notes", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("thanks_notes")
'''


async def test_a_plugins_own_branch_is_migrated_after_the_build(tmp_path):
    versions = tmp_path / "thanks" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_thanks.py").write_text(PLUGIN_REVISION, encoding="utf-8")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'plugin.db'}", tmp_path, [versions])
    try:
        await db.migrate()  # built, then the plugin's branch through Alembic
        async with db.engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            heads = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads()))
    finally:
        await db.close()
    assert "thanks_notes" in tables and {t.name for t in shipped_tables()} <= tables
    assert heads == script_heads([versions])
