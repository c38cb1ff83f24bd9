"""The crash harness, short: real bot processes SIGKILLed at random points, on SQLite and
PostgreSQL (bench/crash.py runs the long version and prints the figures)."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest
from sqlalchemy.engine import make_url

from tests import crashkit
from tests.conftest import _pg_execute, pg_admin_url

KILLS, ROUNDS = 5, 8


@pytest.mark.timeout(300)
def test_killed_runs_lose_and_double_nothing_and_keep_the_ledger(tmp_path, database_url):
    if database_url.startswith("sqlite"):
        numbers = itertools.count()
        figures = crashkit.crash_test(
            tmp_path, lambda: f"sqlite+aiosqlite:///{tmp_path / f'crash{next(numbers)}.db'}",
            kills=KILLS, rounds=ROUNDS)
    else:
        admin = pg_admin_url()
        assert admin is not None
        made: list[str] = []

        def fresh() -> str:
            made.append(f"qunbot_crash_{uuid.uuid4().hex[:12]}")
            asyncio.run(_pg_execute(admin, f'CREATE DATABASE "{made[-1]}"'))
            return make_url(admin).set(database=made[-1]).render_as_string(hide_password=False)

        try:
            figures = crashkit.crash_test(tmp_path, fresh, kills=KILLS, rounds=ROUNDS)
        finally:
            for name in made:
                asyncio.run(_pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert figures.kills == KILLS, figures.line()
    assert figures.ledger_errors == [], figures.line()
    # Every grab once: the replays after each restart changed nothing.
    assert figures.grabs == figures.cycles * 2 * ROUNDS * 3, figures.line()
    assert (figures.lost, figures.slots_missed) == (0, 0), figures.line()
    # Only the stated window repeats a message: a kill after a send, before the commit of its
    # "sent" mark (under the transcript's clock, the marks of one drain of the queue). A slot
    # is never run twice (the ledger), but its post can fall in that window.
    assert figures.doubled + figures.slots_doubled <= 3 * figures.kills, figures.line()
