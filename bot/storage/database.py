"""The async database: SQLite (WAL, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

import ast
import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.storage.base import Base
from bot.storage.inline_sqlite import (
    AUTOCHECKPOINT_PAGES,
    RESTART_FRAMES,
    Checkpointer,
    InlineDBAPI,
    inline_creator,
    sqlite3_of,
)
from bot.storage.savepoints import Savepoint, UnitSession, open_savepoint

# Shipped inside the package, so a plain (non-editable) install migrates too.
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
MIGRATION_LOCK = 0x7162_6F74_6D69_6772  # "qbotmigr": the advisory lock held while migrating


@dataclass
class Shared:
    """A transaction many units of work run in (a fan-out chunk of timed slots): every
    transaction the same task opens meanwhile is nested in it, and what they queue is
    written at its end (`staged`), with everything else."""

    database: Database
    session: AsyncSession
    task: asyncio.Task[Any] | None
    staged: list[Any] = field(default_factory=list)  # Outgoing
    # What must wait for the commit (queueing what was written: bot/outbox.py's enqueue).
    on_commit: list[Callable[[], None]] = field(default_factory=list)
    # Each unit of work in a savepoint of its own, opened when it first uses the session:
    # one that never does (a plain timed post) costs no SAVEPOINT and RELEASE.
    isolate: bool = False
    savepoint: Savepoint | None = None

    async def enter(self) -> AsyncSession:
        """The session, for the current unit of work (within its savepoint)."""
        if self.isolate and self.savepoint is None:
            self.savepoint = await open_savepoint(self.session)
        return self.session

    def begin_unit(self) -> None:
        """What follows is one unit of work, kept or undone alone (`end_unit`)."""
        self.isolate, self.savepoint = True, None

    async def end_unit(self, keep: bool) -> None:
        """Keep (release) or undo the unit's work; the session is then the shared
        transaction's again. Keeping may raise: the unit is still open then, to undo."""
        if self.savepoint is not None:
            await (self.savepoint.release() if keep else self.savepoint.rollback())
        self.isolate, self.savepoint = False, None


_SHARED: ContextVar[Shared | None] = ContextVar("shared_transaction", default=None)


class Database:
    def __init__(self, url: str, base_dir: Path | None = None,
                 plugin_migrations: Sequence[Path] = ()) -> None:
        parsed = make_url(url)
        self.plugin_migrations = tuple(plugin_migrations)  # plugins' own Alembic branches
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            url = _sqlite_url(parsed.database, base_dir or Path.cwd())
        self.url = url
        self.engine = create_async_engine(url, **self._engine_options())
        _plain_savepoints(self.engine.sync_engine.dialect)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False,
                                            sync_session_class=UnitSession)
        # SQLite has one writer; one shared connection turns lock errors into a queue.
        self._sqlite_lock = asyncio.Lock() if self.is_sqlite else None
        self._checkpointer: Checkpointer | None = None

    async def start_checkpoints(self, every: float = 0.25,
                                restart_after: int = RESTART_FRAMES) -> Checkpointer | None:
        """A running bot's SQLite file: checkpoint the WAL off the event loop (a thread);
        commits then checkpoint only past a far larger WAL (a backstop). Returns the
        `Checkpointer` (None without a SQLite file)."""
        path = make_url(self.url).database if self.is_sqlite else None
        if self._checkpointer is not None or not path or path == ":memory:":
            return self._checkpointer
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        self._checkpointer = Checkpointer(path, every, restart_after)
        self._checkpointer.start()
        return self._checkpointer

    def _engine_options(self) -> dict[str, Any]:
        if self.is_sqlite:
            path = make_url(self.url).database or ":memory:"
            return {"poolclass": StaticPool, "async_creator": inline_creator(path, timeout=30),
                    "module": InlineDBAPI()}
        return {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True}

    def shared(self) -> Shared | None:
        """The shared transaction on this database this task is running in, if any."""
        shared = _SHARED.get()
        if shared is None or shared.database is not self:
            return None
        return shared if shared.task is asyncio.current_task() else None

    @asynccontextmanager
    async def sharing(self) -> AsyncIterator[Shared]:
        """A transaction that this task's transactions join until it ends (one commit)."""
        async with self.transaction() as session:
            shared = Shared(self, session, asyncio.current_task())
            token = _SHARED.set(shared)
            try:
                yield shared
            finally:
                _SHARED.reset(token)
        for then in shared.on_commit:
            then()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back on error. Inside
        `sharing`, the shared transaction (nested: committed with it)."""
        if (shared := self.shared()) is not None:
            yield await shared.enter()
            return
        if self._sqlite_lock is None:
            async with self._sessions.begin() as session:
                yield session
            return
        # Not `self._sessions.begin()`: its exit commits and closes in new tasks (shielded
        # from cancellation), so every transaction's end yielded to the loop with the lock
        # still held — a member's reply then waited for whatever a fan-out did until its
        # next transaction (issue 16.4: 17–21 ms p99). Inline SQLite never suspends, so
        # there is nothing for a cancellation to cut in half.
        async with self._sqlite_lock:
            if self._checkpointer is not None and self._checkpointer.nearly_copied.is_set():
                await self._last_checkpoint_pass(self._checkpointer)
            session = self._sessions()
            try:
                async with session.begin():
                    yield session
            finally:
                await session.close()

    async def _last_checkpoint_pass(self, checkpointer: Checkpointer) -> None:
        async with self.engine.connect() as connection:
            adapted = (await connection.get_raw_connection()).dbapi_connection
            checkpointer.last_pass(sqlite3_of(adapted))

    async def migrate(self) -> None:
        """Bring the schema to the migration heads (the bot does this on every start). A
        database already at the heads is left alone without loading Alembic, which costs
        about 0.1 s and 9 MB at every start; an empty one is built from the models in one
        step rather than by replaying every migration (see `_build_if_empty`)."""
        async with self.engine.begin() as connection:
            if await connection.run_sync(_at_heads, self.plugin_migrations):
                return
            await connection.run_sync(_build_or_upgrade, self.plugin_migrations)

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        await self.engine.dispose()


def _sqlite_url(database: str | None, base_dir: Path) -> str:
    if not database or database == ":memory:":
        return "sqlite+aiosqlite:///:memory:"
    path = Path(database)
    if not path.is_absolute():
        path = base_dir / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{path}"


def _plain_savepoints(dialect: Any) -> None:
    """SAVEPOINT, RELEASE and ROLLBACK TO as plain SQL. SQLAlchemy compiles a new clause
    for each (a savepoint's name is unique, so never cached): about 0.1 ms a savepoint, and a
    fan-out opens one per group (issue 16.4). The names are its own `sa_savepoint_N`."""
    dialect.do_savepoint = lambda conn, name: conn.exec_driver_sql(f"SAVEPOINT {name}")
    dialect.do_release_savepoint = (
        lambda conn, name: conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}"))
    dialect.do_rollback_to_savepoint = (
        lambda conn, name: conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(connection: Connection | None = None,
                   plugin_migrations: Sequence[Path] = ()) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    locations = (MIGRATIONS_DIR / "versions", *plugin_migrations)
    config.set_main_option("version_locations", os.pathsep.join(map(str, locations)))
    config.attributes["connection"] = connection
    return config


_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def script_heads(plugin_migrations: Sequence[Path] = ()) -> set[str] | None:
    """The head revisions of the migration scripts, read without Alembic (None when a
    script is not in the usual form: then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for folder in (MIGRATIONS_DIR / "versions", *plugin_migrations):
        for path in Path(folder).glob("*.py"):
            found = dict((m.group(1), m.group(2))
                         for m in _REVISION.finditer(path.read_text(encoding="utf-8")))
            try:
                revision = ast.literal_eval(found["revision"])
                down = ast.literal_eval(found.get("down_revision", "None"))
            except (KeyError, ValueError, SyntaxError):
                return None
            if not isinstance(revision, str):
                return None
            revisions.add(revision)
            parents.update([down] if isinstance(down, str) else down or ())
    return revisions - parents or None


def _at_heads(connection: Connection, plugin_migrations: Sequence[Path]) -> bool:
    heads = script_heads(plugin_migrations)
    if heads is None or not connection.dialect.has_table(connection, "alembic_version"):
        return False
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    stamped = {row[0] for row in rows}
    return stamped == heads


def _build_or_upgrade(connection: Connection, plugin_migrations: Sequence[Path]) -> None:
    with _migration_transaction(connection):
        if not _build_if_empty(connection) or plugin_migrations:
            _upgrade(connection, plugin_migrations)


@contextmanager
def _migration_transaction(connection: Connection) -> Iterator[None]:
    """The schema changes as a whole or not at all, one process at a time."""
    if connection.dialect.name != "sqlite":
        # Several processes (one per account, issue 18) may start at once: one migrates,
        # the others wait for it and then find nothing to do. DDL is transactional there.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        yield
        return
    # pysqlite commits DDL statement by statement: a kill during the first start's
    # migrations left half a schema that no later start could upgrade (the crash harness
    # found it). One explicit transaction makes the whole change all-or-nothing.
    raw = connection.connection.dbapi_connection._connection._connection  # type: ignore[union-attr]
    previous = raw.isolation_level
    raw.isolation_level = None  # we say BEGIN and COMMIT ourselves
    try:
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
    finally:
        raw.isolation_level = previous


# Alembic's own version table, as its MigrationContext defines it.
ALEMBIC_VERSION = Table("alembic_version", MetaData(),
                        Column("version_num", String(32), nullable=False),
                        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
SHIPPED_PACKAGES = frozenset({"bot", "plugins"})  # their tables are the core history's


def shipped_tables() -> list[Table]:
    """The tables the core migration history builds: the core's and the shipped plugins'
    (a plugin installed from elsewhere builds its own through its Alembic branch)."""
    import bot.storage.models  # noqa: F401  (the core's tables, as migrations/env.py sees)
    from bot.registry import installed_plugins

    installed_plugins()  # importing each plugin registers its models
    tables = {mapper.local_table for mapper in Base.registry.mappers
              if mapper.class_.__module__.split(".")[0] in SHIPPED_PACKAGES}
    return [table for table in Base.metadata.sorted_tables if table in tables]


def _build_if_empty(connection: Connection) -> bool:
    """A database without any table gets the schema of the models and is stamped at the
    core history's heads, in the caller's transaction: the same schema the migrations
    build (tests/test_migrations.py holds them to it), in a fraction of the time. Only an
    empty database: a replayed data migration has no rows to move there."""
    heads = script_heads()
    if heads is None or inspect(connection).get_table_names():
        return False
    Base.metadata.create_all(connection, tables=shipped_tables(), checkfirst=False)
    ALEMBIC_VERSION.create(connection)
    connection.execute(ALEMBIC_VERSION.insert(), [{"version_num": h} for h in sorted(heads)])
    return True


def _upgrade(connection: Connection, plugin_migrations: Sequence[Path]) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection, plugin_migrations), "heads")
