"""aiosqlite without its worker thread: every SQLite call runs on the event loop.

aiosqlite sends each call to a thread and back; SQLAlchemy makes several calls per
statement, and a thread round trip costs ~0.4 ms on the 2-core machines we run on, while
the statements themselves (WAL, synchronous=NORMAL, a local file) take tens of
microseconds. The bot holds one SQLite connection and serializes transactions anyway, so
running the calls inline is both simpler and several times faster. The cost: a slow
query blocks the loop while it runs — keep SQLite queries small (PostgreSQL is the choice
for very large deployments).

SQLAlchemy's asyncio adapter still awaited every cursor call (open, execute, fetch, close,
commit), each await a greenlet switch to the loop and back for a call that never waits
here: `InlineDBAPI` hands SQLAlchemy an adapter that makes those calls directly, with one
switch per statement left (issue 16.3: the switches cost more than SQLite's work on the
check-in path).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Generator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

log = logging.getLogger("bot.storage")


class InlineConnection(aiosqlite.Connection):
    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect().__await__()  # no worker thread to start

    def stop(self) -> asyncio.Future[Any] | None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None


def inline_creator(path: str, timeout: float) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine."""

    async def connect() -> InlineConnection:
        def connector() -> sqlite3.Connection:
            return sqlite3.connect(path, timeout=timeout, check_same_thread=False)

        return await InlineConnection(connector, 64)

    return connect


def sqlite3_of(adapted: AsyncAdapt_aiosqlite_connection) -> sqlite3.Connection:
    connection = adapted._connection._connection
    if connection is None:
        raise sqlite3.OperationalError("Connection closed")
    return connection  # type: ignore[no-any-return]


class _Ready:
    """An awaitable that is done at once."""

    def __await__(self) -> Generator[Any, None, None]:
        return iter(())  # type: ignore[return-value]


_READY = _Ready()


class InlineCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, calling sqlite3 directly instead of awaiting."""

    __slots__ = ()
    _awaitable_cursor_close = False  # close() closes the sqlite3 cursor directly

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = sqlite3_of(adapt_connection).cursor()  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        await_(_READY)  # AsyncConnection.execute insists that a statement awaited something
        cursor: Any = self._cursor
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:  # rows read at once, as the adapter does
            self._rows = collections.deque(cursor.fetchall())
        return cursor

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        await_(_READY)
        cursor: Any = self._cursor
        return cursor.executemany(operation, seq_of_parameters)

    async def _async_soft_close(self) -> None:
        return None  # the rows are already read; the cursor closes with the result


class InlineAdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = InlineCursor
    _ss_cursor_cls = InlineCursor

    def commit(self) -> None:
        if self._connection._connection:
            sqlite3_of(self).commit()

    def rollback(self) -> None:
        if self._connection._connection:
            sqlite3_of(self).rollback()


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The `module` for create_async_engine: connections adapted by InlineAdaptedConnection
    (only `async_creator` connections, i.e. `inline_creator`'s)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> InlineAdaptedConnection:
        creator = kw.pop("async_creator_fn")
        return InlineAdaptedConnection(self, await_(creator(*arg, **kw)))


# Pages of WAL after which a commit on the loop checkpoints by itself (SQLite's default is
# 1000): only a backstop once a `Checkpointer` runs, should it fall behind or stop.
AUTOCHECKPOINT_PAGES = 10_000
# Frames of WAL past which the `Checkpointer` readies the loop's own last pass, so that the
# WAL starts over. (The rush writes about 14 frames a commit and 1,400 commits a second.)
RESTART_FRAMES = 4_000


class Checkpointer:
    """Copies the WAL into the database file from a thread of its own, every `every`
    seconds: SQLite otherwise does it inside whichever commit finds the WAL past 1000
    pages, with an fsync of the file, and that member's message waited 10-150 ms for it
    (issue 16.3, the p99). A passive checkpoint waits for no one and blocks no writer.

    But SQLite starts the WAL over only at a commit whose transaction began with every
    frame copied, and under a steady stream of commits one always lands during a pass: the
    WAL grew to the backstop, and then a member's commit copied what the last pass had not,
    with two fsyncs of up to 30 MB (5-25 ms, every 0.35 s of the rush; issue 16.4). So past
    `restart_after` frames the thread catches up until little is left uncopied or unflushed,
    and sets `nearly_copied`: the loop's next transaction first copies that little itself
    (`last_pass`, two fsyncs of a few pages), and then its commit starts the WAL over."""

    def __init__(self, path: str, every: float = 0.25,
                 restart_after: int = RESTART_FRAMES) -> None:
        self.path, self.every, self.restart_after = path, every, restart_after
        self.nearly_copied = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            while not self._stop.wait(self.every):
                try:
                    self.checkpoint(connection)
                except sqlite3.Error:
                    log.warning("WAL checkpoint failed; will retry", exc_info=True)
        finally:
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        """One pass; if the WAL has grown long, catch up and ready the loop's last pass."""
        if _passive_checkpoint(connection) < self.restart_after:
            return
        # Each round copies what came during the one before, and flushes it: the pages
        # written to the database file, and the frames committed meanwhile.
        for _round in range(2):
            self._flush()
            _passive_checkpoint(connection)
        self._flush()
        self.nearly_copied.set()

    def _flush(self) -> None:
        """Sync both files now, so that the loop's last pass has less to sync. A file that
        cannot be synced here (Windows cannot through a read-only handle) is left to
        SQLite's own sync in that pass."""
        for path in (self.path, self.path + "-wal"):
            with contextlib.suppress(OSError):
                descriptor = os.open(path, os.O_RDONLY)
                try:
                    _datasync(descriptor)
                finally:
                    os.close(descriptor)

    def last_pass(self, connection: sqlite3.Connection) -> None:
        """(On the loop, outside any transaction, once `nearly_copied` is set.) Copy what
        is left: the next transaction then starts the WAL over. A failure costs only that
        restart (the thread's passes go on); the member's transaction goes ahead."""
        self.nearly_copied.clear()
        try:
            _passive_checkpoint(connection)
        except sqlite3.Error:
            log.warning("WAL checkpoint on the loop failed", exc_info=True)


_datasync = getattr(os, "fdatasync", os.fsync)  # (macOS has no fdatasync)


def _passive_checkpoint(connection: sqlite3.Connection) -> int:
    """The WAL's frames after a passive checkpoint (all copied, unless commits came)."""
    _busy, frames, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(frames)
