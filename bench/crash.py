#!/usr/bin/env python3
"""Crash benchmark: the real bot process SIGKILLed at random points, many times, on SQLite
and PostgreSQL; prints the figures for the README's "What survives a crash".

    python bench/crash.py --kills 200                    # SQLite
    python bench/crash.py --kills 200 --pg postgresql+asyncpg://postgres@127.0.0.1/postgres

One JSON line per database: kills, runs, grabs, replies and slots one uninterrupted run
sends, lost and doubled counts, ledger errors (see tests/crashkit.py for the method).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from tests import crashkit  # noqa: E402
from tests.conftest import _pg_execute  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=12, help="transcript rounds per run")
    parser.add_argument("--pg", help="a PostgreSQL admin URL: also run there")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from bench.calibration import line

    print(line(), flush=True)
    directory = Path(tempfile.mkdtemp(prefix="qunbot-crash-"))
    numbers = itertools.count()
    sqlite = crashkit.crash_test(
        directory, lambda: f"sqlite+aiosqlite:///{directory / f'crash{next(numbers)}.db'}",
        kills=args.kills, rounds=args.rounds, seed=args.seed)
    print(f'{{"database": "sqlite", "figures": {sqlite.line()}}}', flush=True)
    if args.pg:
        admin, made = args.pg, []

        def fresh() -> str:
            made.append(f"qunbot_crash_{uuid.uuid4().hex[:10]}")
            asyncio.run(_pg_execute(admin, f'CREATE DATABASE "{made[-1]}"'))
            return make_url(admin).set(database=made[-1]).render_as_string(hide_password=False)

        try:
            pg = crashkit.crash_test(directory / "pg", fresh, kills=args.kills,
                                     rounds=args.rounds, seed=args.seed)
        finally:
            for name in made:
                asyncio.run(_pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        print(f'{{"database": "postgresql", "figures": {pg.line()}}}', flush=True)


if __name__ == "__main__":
    main()
