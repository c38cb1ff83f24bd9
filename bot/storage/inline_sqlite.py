"""aiosqlite without its worker thread: every SQLite call runs on the event loop.

aiosqlite sends each call to a thread and back; SQLAlchemy makes several calls per
statement, and a thread round trip costs ~0.4 ms on the 2-core machines we run on, while
the statements themselves (WAL, synchronous=NORMAL, a local file) take tens of
microseconds. The bot holds one SQLite connection and serializes transactions anyway, so
running the calls inline is both simpler and several times faster. The cost: a slow
query blocks the loop while it runs — keep SQLite queries small (PostgreSQL is the choice
for very large deployments).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite


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
