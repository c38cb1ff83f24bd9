#!/usr/bin/env python3
"""Digest benchmark: the operators' digest over 2,000 groups × 200 members × 30 days.

Seeds a SQLite database (or PostgreSQL with --database) the way a running bot leaves it:
per-member daily counters (activity_daily), each day's top words, the nightly segment
snapshots, joins and leaves, and check-ins. Then, in a fresh process, computes the digest
for every group — the core figures, every enabled plugin's digest hook, trends against
the 7-day average, risk, the text, and the 14-day PNG chart — and prints the time and
the process's peak RSS. Target (issue 5): under 5 s and under 300 MB.

    python bench/digest.py                       # 2,000 × 200 × 30, members of mixed habits
    python bench/digest.py --every-member-every-day   # 12 M counter rows: the worst case
    python bench/digest.py --groups 200 --keep /tmp/digest.db

Members' habits (fixed seed): 5% post most days, 25% now and then, 70% rarely or never,
like the seeds' groups; --every-member-every-day gives every member a row every day.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAY = date(2026, 11, 24)  # the digest covers this day
WORDS = ["读书", "打卡", "活着", "三体", "周末", "分享", "推荐", "作者", "章节", "沙龙",
         "书单", "笔记", "摘抄", "共读", "线上", "活动", "报名", "感悟", "小说", "诗歌"]


def config_text(groups: int) -> str:
    lines = ["operators: [{id: op_wang}]", "groups:"]
    for n in range(groups):
        lines.append(f"  g{n:04d}: {{name: 群{n:04d}, plugins: {{checkin: {{}}, activity: {{}}}}}}")
    return "\n".join(lines) + "\n"


def _habits(rng: random.Random, members: int) -> list[float]:
    """Each member's chance of posting on a given day."""
    return [rng.choice((0.9, 0.8)) if r < 0.05 else rng.uniform(0.1, 0.5) if r < 0.30
            else rng.uniform(0.0, 0.05) for r in (rng.random() for _ in range(members))]


def seed(path: Path, groups: int, members: int, days: int, every_day: bool) -> dict[str, int]:
    """Rows written straight with sqlite3 (fast); the schema comes from the migrations."""
    from bot.storage import Database

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        await db.close()

    asyncio.run(migrate())
    rng = random.Random(12345)
    first = DAY - timedelta(days=days - 1)
    counts = {"activity_daily": 0, "activity_words": 0, "segment_days": 0, "checkins": 0}
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    for g in range(groups):
        group = f"g{g:04d}"
        habits = [1.0] * members if every_day else _habits(rng, members)
        daily, checkins = [], []
        for d in range(days):
            day = first + timedelta(days=d)
            quiet = g % 50 == 0 and d >= days - 4  # 2% of groups went silent: at risk
            for m, chance in enumerate(habits):
                if quiet or rng.random() >= chance:
                    continue
                messages = 1 + int(rng.expovariate(1 / 6))
                daily.append((group, f"u{m:03d}", day.isoformat(), f"成员{m}", messages,
                              messages * 12, rng.randint(0, 1), rng.randint(0, 2)))
                if rng.random() < 0.5:
                    checkins.append((group, f"u{m:03d}", day.isoformat()))
        connection.executemany(
            "INSERT INTO activity_daily (group_id, member_id, day, name, messages, characters,"
            " commands, mentions_received) VALUES (?,?,?,?,?,?,?,?)", daily)
        connection.executemany(
            "INSERT INTO activity_words (group_id, day, word, count) VALUES (?,?,?,?)",
            [(group, (first + timedelta(days=d)).isoformat(), w, rng.randint(1, 40))
             for d in range(days) for w in rng.sample(WORDS, 12)])
        connection.executemany(
            "INSERT INTO activity_segment_days (group_id, day, kol, active, ordinary, lurker)"
            " VALUES (?,?,?,?,?,?)",
            [(group, (first + timedelta(days=d)).isoformat(), 3, 20, 50, members - 73)
             for d in range(days)])
        _checkins(connection, checkins)
        connection.executemany(
            "INSERT INTO checkin_days (group_id, day, checkins, members) VALUES (?,?,?,?)",
            _checkin_days(group, checkins, first, days))
        counts["activity_daily"] += len(daily)
        counts["activity_words"] += days * 12
        counts["segment_days"] += days
        counts["checkins"] += len(checkins)
    connection.commit()
    connection.close()
    return counts


def _checkins(connection: sqlite3.Connection, rows: list[tuple[str, str, str]]) -> None:
    """Check-ins at 09:00 local (01:00 UTC) on their day, 5 points each."""
    connection.executemany(
        "INSERT INTO checkin_records (group_id, member_id, day, kind, at, note, points)"
        " VALUES (?, ?, ?, 'checkin', ?, '', 5)",
        [(g, m, d, f"{d} 01:00:00.000000") for g, m, d in rows])


def _checkin_days(group: str, rows: list[tuple[str, str, str]], first: date,
                  days: int) -> list[tuple[str, str, int, int]]:
    """What the check-in plugin's nightly job keeps: the day's check-ins and the members who
    checked in within the 30 days ending that day."""
    by_day: dict[str, set[str]] = {}
    for _, member, day in rows:
        by_day.setdefault(day, set()).add(member)
    kept = []
    for d in range(days):
        day = first + timedelta(days=d)
        window = set().union(*(by_day.get((day - timedelta(days=n)).isoformat(), set())
                               for n in range(30)))
        kept.append((group, day.isoformat(), len(by_day.get(day.isoformat(), ())), len(window)))
    return kept


def measure(config_path: Path, database: str, out: Path) -> dict[str, float]:
    """Run in a fresh process: load the config, then time the digest for every group."""
    from bot.app import BUILTINS, PLUGINS
    from bot.config import load_config
    from bot.digest.report import build
    from bot.storage import Database

    config = load_config(config_path, PLUGINS, BUILTINS)
    groups = list(config.groups.values())

    async def run() -> tuple[float, str]:
        db = Database(database, config.base_dir)
        try:
            started = time.perf_counter()
            [report] = await build(db.transaction, config, (*BUILTINS, *PLUGINS), DAY, out,
                                   {"op_wang": groups})
            return time.perf_counter() - started, report.text
        finally:
            await db.close()

    seconds, text = asyncio.run(run())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(rss, 1),
            "digest_lines": len(text.splitlines())}


def _py_loop_us() -> float:
    from bench.calibration import py_loop_us

    return py_loop_us()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every-member-every-day", action="store_true")
    parser.add_argument("--keep", type=Path, help="SQLite file to keep (reused if present)")
    parser.add_argument("--measure", nargs=3, metavar=("CONFIG", "DB", "OUT"),
                        help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), args.measure[1], Path(args.measure[2]))))
        return
    work = Path(tempfile.mkdtemp(prefix="qunbot-digest-"))
    db_path = args.keep or work / "bench.db"
    seeded: dict[str, int] = {}
    seed_seconds = 0.0
    if not db_path.exists():
        started = time.perf_counter()
        seeded = seed(db_path, args.groups, args.members, args.days, args.every_member_every_day)
        seed_seconds = time.perf_counter() - started
    config_path = work / "bot.yaml"
    config_path.write_text(config_text(args.groups), encoding="utf-8")
    child = subprocess.run(
        [sys.executable, __file__, "--measure", str(config_path),
         f"sqlite+aiosqlite:///{db_path}", str(work / "charts")],
        capture_output=True, text=True, check=False, env={**os.environ, "PYTHONHASHSEED": "0"})
    if child.returncode != 0:
        sys.exit(child.stderr)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps({
        "bench": "digest", "groups": args.groups, "members": args.members, "days": args.days,
        "every_member_every_day": args.every_member_every_day, **seeded,
        "seed_seconds": round(seed_seconds, 1), **result,
        "target": "seconds < 5, peak_rss_mb < 300",
        "python": platform.python_version(), "machine": platform.machine(),
        "py_loop_us": _py_loop_us(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
