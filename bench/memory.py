#!/usr/bin/env python3
"""Memory benchmark: RSS after 20,000 and after 200,000 messages across 2,000 groups and
100,000 members, through the real runtime (dispatcher, activity counters, outbox, SQLite).

Each member of the plan is new until all 100,000 have spoken, so per-member maps that
never forget show up as growth between the two points. 5% of messages are `/积分` (a
command: rate-limit keys, replies). Activity counters are flushed every 5,000 messages,
as the runtime does every 5 s.

    python bench/memory.py                 # prints one JSON line
    python bench/memory.py --groups 20 --members 500 --marks 500 1000   # CI's short run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.calibration import py_loop_us  # noqa: E402
from bench.dispatch import NullAdapter  # noqa: E402
from bot.events import IncomingMessage  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(args: argparse.Namespace) -> dict[str, object]:
    import yaml

    from bot.app import BUILTINS
    from bot.app import PLUGINS as ALL
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.runtime import BotRuntime

    directory = Path(tempfile.mkdtemp(prefix="qunbot-memory-"))
    config = {
        "database": {"url": f"sqlite+aiosqlite:///{directory / 'memory.db'}"},
        "outbox": {"per_minute": 1e9, "burst": 10**9, "daily_cap": 10**9,
                   "group_jitter": ["0s", "0s"]},
        "groups": {f"g{g}": {"name": f"群{g}", "plugins": {"points": {}}}
                   for g in range(args.groups)},
    }
    path = directory / "bot.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    loaded = load_config(path, ALL, BUILTINS)
    runtime = BotRuntime(loaded, ALL, BUILTINS, NullAdapter(), SystemClock())
    await runtime.start(run_adapter=False)
    rng = random.Random(3)
    marks, out = set(args.marks), {}
    for n in range(1, max(args.marks) + 1):
        member = n % args.members
        text = "/积分" if rng.random() < 0.05 else "今天读到第三章了，大家进度怎么样？"
        await runtime.dispatcher.handle(IncomingMessage(
            id=f"m{n}", group_id=f"g{rng.randrange(args.groups)}", sender_id=f"u{member}",
            sender_name=f"成员{member}", text=text, at=datetime.now(UTC)))
        if n % 5000 == 0:
            await runtime.activity.flush()
            while runtime.outbox.pending:
                await asyncio.sleep(0.01)
        if n in marks:
            gc.collect()
            out[str(n)] = round(rss_mb(), 1)
    await runtime.stop()
    return {"bench": "qunbot_memory", "groups": args.groups, "members": args.members,
            "rss_mb_after_messages": out,
            "rate_keys": len(runtime.dispatcher.rate),
            "recent_ids": len(runtime.dispatcher.processed.recent),
            "py_loop_us": py_loop_us()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--marks", type=int, nargs="+", default=[20_000, 200_000])
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), ensure_ascii=False))


if __name__ == "__main__":
    main()
