#!/usr/bin/env python3
"""Failover benchmark (issue 18): two real bot processes, two fake gateways, one PostgreSQL;
the process serving the shared room is SIGKILLed, a member speaks at once, and the clock
runs until the other account holds the room and until it answered; then the killed one is
started again and the next kill hits the other. Also times one lease renewal round for a
process in many rooms. Prints one JSON line each.

    python bench/failover.py --pg postgresql+asyncpg://postgres@127.0.0.1/postgres \\
        --failover 60 --kills 3 --rooms 5000

Needs Python 3.11/3.12 (python-wechaty), like tests/wechaty.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from bench.calibration import line  # noqa: E402
from bot.config.models import LeaseSettings  # noqa: E402
from bot.leases import RoomLeases  # noqa: E402
from bot.storage import Database  # noqa: E402
from tests.conftest import _pg_execute  # noqa: E402
from tests.wechaty.accounts_world import SHARED, two_accounts  # noqa: E402
from tests.wechaty.live import wait_until  # noqa: E402


async def failover(admin: str, seconds: float, kills: int) -> dict[str, object]:
    held, answered = [], []
    directory = Path(tempfile.mkdtemp(prefix="qunbot-failover-"))
    async with two_accounts(directory, admin, failover=seconds) as world:
        processes = {"a": await world.start("a")}
        await world.wait_held(SHARED, "a", timeout=seconds * 2)
        processes["b"] = await world.start("b")
        for _ in range(kills):
            serving = await world.holder(SHARED)
            other = "b" if serving == "a" else "a"
            processes[serving].send_signal(signal.SIGKILL)
            await processes[serving].wait()
            killed = time.monotonic()
            before = len(world.sent(SHARED, "可用的命令"))
            world.say(SHARED, "wxid_carol", "/help")
            await world.wait_held(SHARED, other, timeout=seconds * 3)
            held.append(time.monotonic() - killed)
            await wait_until(lambda n=before: len(world.sent(SHARED, "可用的命令")) > n,
                             timeout=seconds * 3)
            answered.append(time.monotonic() - killed)
            processes[serving] = await world.start(serving)
    return {"bench": "failover", "failover_setting_s": seconds, "kills": kills,
            "room_taken_s": _spread(held), "gap_message_answered_s": _spread(answered)}


async def renewal(admin: str, rooms: int) -> dict[str, object]:
    """One process in `rooms` rooms: its first round (takes them all) and a renewal."""
    name = f"qunbot_bench_{uuid.uuid4().hex[:12]}"
    await _pg_execute(admin, f'CREATE DATABASE "{name}"')
    db = Database(make_url(admin).set(database=name).render_as_string(hide_password=False))
    try:
        await db.migrate()

        async def nothing(_: object) -> None:
            return None

        leases = RoomLeases(db, "main", lambda _room: ["main", "backup"], LeaseSettings(),
                            on_gained=nothing, on_lost=nothing, ready=lambda: True)
        leases.present = {f"room{n}@chatroom" for n in range(rooms)}
        started = time.perf_counter()
        await leases.tick()
        first = time.perf_counter() - started
        rounds = []
        for _ in range(5):
            started = time.perf_counter()
            await leases.tick()
            rounds.append(time.perf_counter() - started)
        assert len(leases.held) == rooms + 1
    finally:
        await db.close()
        await _pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"bench": "lease_round", "rooms": rooms, "first_round_ms": round(first * 1000, 1),
            "renewal_round_ms": _spread([r * 1000 for r in rounds])}


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2),
            "max": round(max(values), 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", required=True, help="a PostgreSQL admin URL")
    parser.add_argument("--failover", type=float, default=60.0, help="leases.failover, s")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--rooms", type=int, default=5000, help="rooms for the round timing")
    args = parser.parse_args()
    print(line(), flush=True)
    print(json.dumps(await renewal(args.pg, args.rooms)), flush=True)
    if args.kills:
        print(json.dumps(await failover(args.pg, args.failover, args.kills)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
