"""One writer: a lease that keeps a second bot process off the same database (issue 14,
point 4). Issue 18's leases per room and per account should reuse `acquire` with their
own scope.

- SQLite: an exclusive `flock` on a lock file beside the database file (one file, one
  writer, whatever the scope).
- PostgreSQL: `pg_try_advisory_lock` on a dedicated connection, keyed by the scope (the
  account), so one database can serve several accounts but each has one process.

Both are released by the operating system or the server when the process dies, so a stale
lock left by a killed process is taken over safely: there is nothing to clean up and no
heartbeat to expire. A refusal names the holder (host, pid, since when).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from bot.storage import Database


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    since: datetime | None

    @classmethod
    def me(cls) -> Holder:
        return cls(socket.gethostname(), os.getpid(), datetime.now(UTC))

    def describe(self) -> str:
        since = self.since.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if self.since else "?"
        return f"host {self.host}, pid {self.pid}, since {since}"


class InstanceBusy(Exception):
    """Another process holds the lease; the message names it."""

    def __init__(self, what: str, holder: Holder | None, hint: str = "") -> None:
        running = holder.describe() if holder else "holder unknown"
        super().__init__(
            f"另一个 qunbot 进程正在使用{what}，本进程不启动 / another qunbot process is using "
            f"{what} ({running}); not starting. "
            + (hint or "Stop it first, or point this one at another database.")
        )
        self.holder = holder


class Lease(Protocol):
    async def release(self) -> None: ...

    def drop(self) -> None:
        """Let go without ceremony (what the OS does for a killed process)."""


class _NoLease:
    async def release(self) -> None:
        return None

    def drop(self) -> None:
        return None


async def acquire(db: Database, scope: str, *, wait: float = 3.0) -> Lease:
    """Take the lease for `scope` on `db`, or raise InstanceBusy naming the holder.

    `scope` is the account (issue 18): on PostgreSQL one process per account, any number
    of accounts; SQLite is one process whatever the scope.
    `wait`: a killed holder's PostgreSQL session can take a moment to end; retry that long.
    """
    if db.is_sqlite:
        path = make_url(db.url).database
        if not path or path == ":memory:":
            return _NoLease()  # nothing another process could share
        return _FileLease.take(Path(path))
    return await _AdvisoryLease.take(db.url, scope, wait)


class _FileLease:
    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def take(cls, database: Path) -> _FileLease:
        lock = database.with_name(database.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise InstanceBusy(str(database), holder) from None
        me = Holder.me()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"host": me.host, "pid": me.pid,
                                  "since": me.since.isoformat() if me.since else None}).encode(), 0)
        return cls(fd)

    async def release(self) -> None:
        self.drop()

    def drop(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def _read_holder(fd: int) -> Holder | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
        since = datetime.fromisoformat(data["since"]) if data.get("since") else None
        return Holder(str(data["host"]), int(data["pid"]), since)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def advisory_key(scope: str) -> int:
    """A stable signed 64-bit key for `scope` (advisory locks are per database already)."""
    digest = hashlib.blake2b(f"qunbot:{scope}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_HOLDER = """
SELECT a.application_name, a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
"""


class _AdvisoryLease:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    @classmethod
    async def take(cls, url: str, scope: str, wait: float) -> _AdvisoryLease:
        import asyncpg

        parsed, me = make_url(url), Holder.me()
        # What another process reads in pg_stat_activity (63 bytes at most).
        name = f"qunbot pid={me.pid} host={me.host}"[:63]
        connection = await asyncpg.connect(
            user=parsed.username, password=parsed.password, host=parsed.host,
            port=parsed.port or 5432, database=parsed.database,
            server_settings={"application_name": name},
        )
        key = advisory_key(scope)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
            if loop.time() >= deadline:
                holder = await _pg_holder(connection, key)
                await connection.close()
                raise InstanceBusy(
                    f"{parsed.database} (account {scope})", holder,
                    "Each account runs in one process: stop it first, or run another "
                    "account (--account).")
            await asyncio.sleep(0.2)
        return cls(connection)

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()  # the session ends: the lock with it
            self._connection = None

    def drop(self) -> None:
        if self._connection is not None:
            self._connection.terminate()
            self._connection = None


async def _pg_holder(connection: Any, key: int) -> Holder | None:
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = await connection.fetchrow(_HOLDER, unsigned >> 32, unsigned & 0xFFFFFFFF)
    if row is None:
        return None
    fields = dict(part.split("=", 1) for part in str(row[0]).split()[1:] if "=" in part)
    try:
        return Holder(fields.get("host", "?"), int(fields.get("pid", "0")), row[1])
    except ValueError:
        return None
