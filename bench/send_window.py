#!/usr/bin/env python3
"""The double-send window: how long a written message stays "sent on the platform, not yet
marked sent in the database" (a SIGKILL inside it sends that message again at start).

The real outbox loop (real clock, SQLite file, group commits every 0.1 s), an instant
transport, persisted replies arriving at random intervals; prints the window's p50, p99
and max in milliseconds, and the share of time a message is inside it.

    python bench/send_window.py --n 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.calibration import py_loop_us  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config.models import OutboxSettings  # noqa: E402
from bot.events import Outgoing, OutKind, Sent  # noqa: E402
from bot.outbox import Outbox, unpack  # noqa: E402
from bot.storage import Database  # noqa: E402


async def measure(n: int, gap_ms: float, database: str) -> dict[str, float]:
    db = Database(database)
    await db.migrate()
    outbox = Outbox(db, SystemClock(), OutboxSettings(per_minute=1e9, burst=10**9,
                                                       daily_cap=10**9, group_jitter=("0s", "0s")),
                    account="bench", timezone=ZoneInfo("Asia/Shanghai"))
    sent_at: dict[str, float] = {}
    marked_at: dict[str, float] = {}

    async def transport(message: Outgoing) -> Sent:
        sent_at[message.text] = time.perf_counter()
        return Sent(message_id=message.text)

    original = outbox._save

    async def save(unsaved: list[Any], finished: list[Any]) -> None:
        await original(unsaved, finished)
        now = time.perf_counter()
        for item, status, *_ in finished:
            if status == "sent":
                marked_at.setdefault(unpack(item[2]).text, now)  # (item: bot/outbox.py)

    outbox._save = save  # type: ignore[method-assign]
    outbox.attach(transport)
    runner = asyncio.create_task(outbox.run())
    rng = random.Random(1)
    for i in range(n):
        async with db.transaction() as session:  # a handler's transaction with its reply
            items = await outbox.stage(session, [Outgoing(text=f"r{i}", kind=OutKind.REPLY,
                                                          group_id=f"g{i % 50}")])
        outbox.enqueue(items)
        await asyncio.sleep(rng.expovariate(1000 / gap_ms))
    await asyncio.sleep(0.5)
    outbox.stop_running()
    await runner
    await outbox.flush()
    await db.close()
    windows = sorted((marked_at[k] - sent_at[k]) * 1000 for k in sent_at if k in marked_at)
    return {"messages": n, "mean_gap_ms": gap_ms, "marked": len(windows),
            "window_p50_ms": round(windows[len(windows) // 2], 1),
            "window_p99_ms": round(windows[int(len(windows) * 0.99)], 1),
            "window_max_ms": round(windows[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--gap-ms", type=float, default=10.0)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="qunbot-window-")) / "w.db"
    figures = asyncio.run(measure(args.n, args.gap_ms, f"sqlite+aiosqlite:///{path}"))
    print(json.dumps({**figures, "py_loop_us": py_loop_us()}))


if __name__ == "__main__":
    main()
