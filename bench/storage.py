#!/usr/bin/env python3
"""Storage benchmark: how much the core's bookkeeping grows per day at 2,000 groups, and
where it levels off with the nightly purge (bot/purge.py).

Bytes per row are measured (100,000 rows of each table written to a migrated SQLite file,
indexes included); rows per day come from the traffic assumptions below (change them with
the options). The purge keeps `retention` days of each, so the steady state is rows/day
× retention × bytes/row (SQLite reuses freed pages: the file stops growing, it does not
shrink without VACUUM).

    python bench/storage.py --groups 2000 --messages 150 --persisted 30 --slots 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.calibration import py_loop_us  # noqa: E402
from bot.config.models import RetentionSettings  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.storage.models import JobRun, OutboxMessage, ProcessedMessage  # noqa: E402

SAMPLE = 100_000


def rows(table: str, n: int, now: datetime) -> list[dict[str, object]]:
    if table == "processed":
        return [{"account": "wechaty", "message_id": f"{uuid.uuid4().hex}@im.chatroom",
                 "at": now} for _ in range(n)]
    if table == "outbox":
        return [{"account": "wechaty", "group_id": f"{i % 2000}@chatroom", "to_id": None,
                 "text": "🧧 抢到 12 积分！（第 2/3 个，来自 某某）", "mentions": ["wxid_abcdefgh"],
                 "kind": "reply", "image_path": None, "priority": 1, "status": "sent",
                 "attempts": 0, "created_at": now, "sent_at": now,
                 "client_id": uuid.uuid4().hex, "platform_id": str(10**18 + i)}
                for i in range(n)]
    return [{"job": "timed_posts.post.09:00 早安", "group_id": f"{i % 2000}@chatroom",
             "slot_at": now + timedelta(minutes=i), "fired_at": now, "outcome": "fired"}
            for i in range(n)]


async def bytes_per_row(directory: Path) -> dict[str, float]:
    path = directory / "size.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    sizes: dict[str, float] = {}
    now = datetime(2026, 11, 23, tzinfo=UTC)
    models = {"processed": ProcessedMessage, "outbox": OutboxMessage, "job_runs": JobRun}
    for name, model in models.items():
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size
        async with db.transaction() as session:
            await session.execute(model.__table__.insert(), rows(name, SAMPLE, now))
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes[name] = (path.stat().st_size - before) / SAMPLE
    await db.close()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=150, help="per group per day")
    parser.add_argument("--persisted", type=int, default=30,
                        help="replies and posts written to the outbox, per group per day")
    parser.add_argument("--slots", type=int, default=10, help="timed slots per group per day")
    args = parser.parse_args()
    sizes = asyncio.run(bytes_per_row(Path(tempfile.mkdtemp(prefix="qunbot-storage-"))))
    retention = RetentionSettings()
    per_day = {"processed": args.groups * args.messages, "outbox": args.groups * args.persisted,
               "job_runs": args.groups * args.slots}
    keep = {"processed": retention.processed_ids, "outbox": retention.sent_messages,
            "job_runs": retention.job_runs}
    mb = 1024 * 1024
    growth = {k: per_day[k] * sizes[k] / mb for k in per_day}
    steady = {k: growth[k] * (keep[k].total_seconds() / 86400 + 1) for k in per_day}
    print(json.dumps({
        "bench": "qunbot_storage", "groups": args.groups,
        "rows_per_day": per_day,
        "bytes_per_row": {k: round(v, 1) for k, v in sizes.items()},
        "growth_mb_per_day_unpurged": {k: round(v, 2) for k, v in growth.items()}
        | {"total": round(sum(growth.values()), 2)},
        "retention_days": {k: v.total_seconds() / 86400 for k, v in keep.items()},
        "steady_state_mb_with_purge": {k: round(v, 1) for k, v in steady.items()}
        | {"total": round(sum(steady.values()), 1)},
        "py_loop_us": py_loop_us(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
