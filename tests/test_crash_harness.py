"""The crash harness, short: real bot processes SIGKILLed at random points, on SQLite and
PostgreSQL (bench/crash.py runs the long version and prints the figures)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import make_url

from tests import crashkit
from tests.conftest import _pg_execute, pg_admin_url


@pytest.mark.timeout(300)
def test_killed_runs_lose_and_double_nothing_and_keep_the_ledger(tmp_path, database_url):
    if database_url.startswith("sqlite"):
        fresh = f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
        figures = crashkit.crash_test(tmp_path, database_url, fresh, kills=5, rounds=8)
    else:
        admin = pg_admin_url()
        assert admin is not None
        name = f"qunbot_ref_{uuid.uuid4().hex[:12]}"
        import asyncio

        asyncio.run(_pg_execute(admin, f'CREATE DATABASE "{name}"'))
        try:
            fresh = make_url(admin).set(database=name).render_as_string(hide_password=False)
            figures = crashkit.crash_test(tmp_path, database_url, fresh, kills=5, rounds=8)
        finally:
            asyncio.run(_pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert figures.kills >= 3, figures.line()
    assert figures.ledger_errors == [], figures.line()
    assert figures.grabs == 2 * 8 * 3  # every grab once: replays after restarts changed nothing
    assert (figures.lost, figures.slots_missed) == (0, 0), figures.line()
    # Only the stated window repeats a message: a kill after a send, before the commit of its
    # "sent" mark (under the transcript's clock, the mark of every message one drain sent).
    # A slot is never run twice (the ledger), but its post can fall in that window.
    assert figures.doubled + figures.slots_doubled <= 3 * figures.kills, figures.line()
