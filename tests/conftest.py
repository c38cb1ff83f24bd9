"""Fixtures every test shares: the fake-chat harness and the two databases."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.testing import FakeChat

PG_ENV = "QUNBOT_TEST_PG_URL"

# python-wechaty 0.10.7 imports telnetlib, which Python 3.13 removed.
WECHATY_PYTHON = sys.version_info < (3, 13)
if not WECHATY_PYTHON:
    collect_ignore = ["wechaty"]  # its conftest imports the SDK too


def pytest_report_header() -> str | None:
    if WECHATY_PYTHON:
        return None
    return "wechaty adapter tests not collected: python-wechaty needs Python 3.12 or older"

ChatFactory = Callable[..., Awaitable[FakeChat]]


@pytest.fixture
async def started_chats() -> AsyncIterator[list[FakeChat]]:
    """Every bot a test started; stopped before its database is dropped."""
    started: list[FakeChat] = []
    yield started
    await _stop_all(started)


async def _stop_all(started: list[FakeChat]) -> None:
    for chat in started:
        await chat.stop()


@pytest.fixture
async def make_chat(tmp_path, started_chats) -> ChatFactory:
    """Start bots over a simulated chat; each is stopped when the test ends."""

    async def factory(config: Any = None, **options: Any) -> FakeChat:
        chat = await FakeChat.start(tmp_path, config, **options)
        started_chats.append(chat)
        return chat

    return factory


def pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{PG_ENV} must point at a PostgreSQL server in CI (see .ci/run)")
    return None


async def _pg_execute(admin_url: str, statement: str) -> None:
    import asyncpg

    url = make_url(admin_url)
    connection = await asyncpg.connect(user=url.username, password=url.password,
                                       host=url.host, port=url.port or 5432,
                                       database=url.database or "postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path, started_chats) -> AsyncIterator[str]:
    """Run the test once on SQLite and once on PostgreSQL."""
    async with _databases(request.param, tmp_path, 1, started_chats) as (url,):
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def two_database_urls(request, tmp_path) -> AsyncIterator[tuple[str, ...]]:
    """Two empty databases of one kind, once on SQLite and once on PostgreSQL."""
    async with _databases(request.param, tmp_path, 2, []) as urls:
        yield urls


@asynccontextmanager
async def _databases(kind: str, tmp_path: Any, count: int,
                     started_chats: list[FakeChat]) -> AsyncIterator[tuple[str, ...]]:
    if kind == "sqlite":
        files = ["bot.db", *(f"bot{i}.db" for i in range(1, count))]
        yield tuple(f"sqlite+aiosqlite:///{tmp_path / name}" for name in files)
        return
    # PostgreSQL: databases of this test's own, dropped afterwards.
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(f"set {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1/postgres)")
    names = [f"qunbot_test_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    try:
        for name in names:
            await _pg_execute(admin, f'CREATE DATABASE "{name}"')
        yield tuple(make_url(admin).set(database=name).render_as_string(hide_password=False)
                    for name in names)
    finally:
        await _stop_all(started_chats)  # they flush to this database as they stop
        for name in names:
            await _pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
