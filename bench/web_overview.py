#!/usr/bin/env python3
"""Web console benchmark: the overview page of an operator running 2,000 groups.

Seeds the digest bench's database (bench/digest.py: 2,000 groups × 200 members × 30 days
of counters, words, segments and check-ins), then, in this process, times whole requests
for GET / through the console's ASGI app at 22:00 on the last seeded day (today: a whole
day of counters) — session lookup, the digest's aggregate queries for yesterday, today and
the 7-day trend, risk flags, and the page's HTML with a sparkline per group. Prints the
first request (cold: the finished days are computed once, then kept) and the median of
the following ones. Target (issue 19): under 300 ms.

    python bench/web_overview.py                  # 2,000 groups
    python bench/web_overview.py --groups 200 --keep /tmp/overview.db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from calibration import py_loop_us  # noqa: E402
from digest import DAY, config_text, seed  # noqa: E402  (bench/digest.py)


async def measure(config_path: Path, database: str, requests: int) -> dict[str, object]:
    import httpx

    from bot.app import BUILTINS, PLUGINS
    from bot.clock import ManualClock
    from bot.config import load_config
    from bot.storage import Database
    from bot.web import auth
    from bot.web.app import SESSION_COOKIE, create_app

    config = load_config(config_path, PLUGINS, BUILTINS)
    now = datetime.combine(DAY, datetime.min.time(),
                           ZoneInfo("Asia/Shanghai")) + timedelta(hours=22)
    db = Database(database, config.base_dir)
    # What the console reads of a running bot; nothing else of it is needed here.
    runtime = SimpleNamespace(
        config=config, db=db, clock=ManualClock(now), last_event_at=now,
        platform=SimpleNamespace(logged_in=True), outbox=SimpleNamespace(pending=0),
        adapter=SimpleNamespace(name="wechaty"))
    try:
        async with db.transaction() as session:
            token = await auth.new_session(session, "op_wang", None, now, 1)
        app = create_app(runtime)  # type: ignore[arg-type]
        transport = httpx.ASGITransport(app=app)
        times, size = [], 0
        async with httpx.AsyncClient(transport=transport, base_url="https://bench",
                                     cookies={SESSION_COOKIE: token}) as http:
            for _ in range(requests):
                started = time.perf_counter()
                response = await http.get("/")
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:300]
                size = len(response.content)
        rows = response.text.count("<tr>") - 1
    finally:
        await db.close()
    return {"first_ms": round(times[0], 1), "median_ms": round(statistics.median(times[1:]), 1),
            "max_ms": round(max(times[1:]), 1), "requests": requests, "groups_shown": rows,
            "page_kb": round(size / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="SQLite file to keep (reused if present)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qunbot-overview-"))
    db_path = args.keep or work / "bench.db"
    if not db_path.exists():
        seed(db_path, args.groups, args.members, args.days, False)
    config_path = work / "bot.yaml"
    config_path.write_text(config_text(args.groups), encoding="utf-8")
    result = asyncio.run(measure(config_path, f"sqlite+aiosqlite:///{db_path}", args.requests))
    print(json.dumps({"bench": "web_overview", "groups": args.groups, **result,
                      "target": "median_ms < 300", "python": platform.python_version(),
                      "machine": platform.machine(), "py_loop_us": py_loop_us()},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
