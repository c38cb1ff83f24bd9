"""A crash harness (issue 14, point 9): the real bot process, killed with SIGKILL at random
points, restarted on the same database, checked after it all.

Each run is `python -m bot run --script … --jsonl --database …`: the console adapter plays
a transcript of grants, red packets, grabs, balance queries and timed posts in two groups.
A restarted run plays the transcript from the top again, with the same platform message
ids — so every restart also replays every message the killed run had already handled (what
a gateway does with what it had not acknowledged). A reference run on a fresh database
says what one uninterrupted run sends; the killed runs together must send the same.

Used by tests/test_crash_harness.py (a short version) and bench/crash.py (the figures).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = [f"m{i}" for i in range(6)]
GROUPS = {"g1": "读书会", "g2": "跑步群"}


def config(directory: Path) -> Path:
    groups = {
        gid: {"name": name, "owner": "boss", "admins": ["boss"],
              "plugins": {"points": {}, "redpacket": {"expires_after": "24h"},
                          "timed_posts": {"posts": [{"cron": "*/20 * * * *",
                                                     "text": f"{name} 报时"}]}}}
        for gid, name in GROUPS.items()
    }
    data = {"outbox": {"per_minute": 1_000_000, "burst": 1_000_000, "daily_cap": 10**9,
                       "group_jitter": ["0s", "0s"]},
            "limits": {"commands_per_minute": 1000},
            "scheduler": {"grace": "1d"}, "groups": groups}
    path = directory / "bot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def script(rounds: int, seed: int = 1) -> str:
    """Grants, then rounds of: a packet, grabs, a balance query, 20 minutes (a timed post)."""
    rng = random.Random(seed)
    lines = ["@at 2026-11-23 08:05"]
    for gid in GROUPS:
        lines.append(f"@group {gid}")
        lines += [f"boss: /加分 @{m} 100 起始" for m in MEMBERS]
    for _ in range(rounds):
        for gid in GROUPS:
            lines.append(f"@group {gid}")
            sender, *grabbers = rng.sample(MEMBERS, 4)
            lines.append(f"{sender}: 发红包 12 3")
            lines += [f"{m}: 抢" for m in grabbers]
            lines.append(f"{rng.choice(MEMBERS)}: /积分")
        lines.append("@advance 20m")
    return "\n".join(lines) + "\n"


def key(message: dict[str, Any]) -> tuple[str, ...]:
    """What identifies a sent message across runs (random amounts and who was luckiest
    vary with the restarts; the message itself must not)."""
    text = re.sub(r"\d+", "#", message["text"])
    text = re.sub(r"m#", "m?", text)
    return (message["group"] or "", message["kind"], text.splitlines()[0][:24],
            ",".join(sorted(message["mentions"])) if message["kind"] == "post" else "")


@dataclass
class Run:
    sent: list[dict[str, Any]]
    killed: bool
    seconds: float
    first: float = 0.0  # seconds to the first message out


def play(cfg: Path, transcript: Path, database: str, kill_after: float | None,
         kill_at_line: int = 1) -> Run:
    """One run; with `kill_after`, SIGKILLed that many seconds after its `kill_at_line`-th
    message out (a negative value: that long after the start, i.e. during start-up)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(cfg), "--script", str(transcript),
         "--jsonl", "--database", database],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    first, first_at = threading.Event(), []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if not first_at:
                first_at.append(time.monotonic())
            if len(lines) >= kill_at_line:
                first.set()
        first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    killed = False
    if kill_after is not None:
        if kill_after >= 0:
            first.wait(120)
        time.sleep(abs(kill_after))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed = True
    process.wait(timeout=600)
    reader.join(60)
    err = process.stderr.read() if process.stderr else ""
    if not killed and process.returncode != 0:
        raise RuntimeError(f"bot run failed ({process.returncode}):\n{err[-3000:]}")
    sent = [json.loads(line) for line in lines if line.endswith("\n")]  # not a line cut short
    first_out = first_at[0] - started if first_at else 0.0
    return Run(sent, killed, time.monotonic() - started, first_out)


@dataclass
class Figures:
    kills: int = 0
    runs: int = 0
    grabs: int = 0
    replies: int = 0  # what one uninterrupted run sends
    slots: int = 0
    lost: int = 0
    doubled: int = 0
    slots_missed: int = 0
    slots_doubled: int = 0
    ledger_errors: list[str] = field(default_factory=list)
    cycles: int = 0  # fresh databases used (replies, slots and grabs add up over them)
    seconds: float = 0.0

    def line(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


async def ledger_problems(database: str, granted: int) -> tuple[list[str], int]:
    """The ledger's invariants, and the number of grabs."""
    from bot.ledger import PointsAccount, PointsEntry
    from bot.storage import Database
    from plugins.redpacket.models import RedPacket, RedPacketShare

    db = Database(database)
    problems = []
    try:
        async with db.transaction() as session:
            balances = dict(((g, m), b) for g, m, b in await session.execute(
                select(PointsAccount.group_id, PointsAccount.member_id, PointsAccount.balance)))
            entries = dict(((g, m), t) for g, m, t in await session.execute(
                select(PointsEntry.group_id, PointsEntry.member_id, func.sum(PointsEntry.amount))
                .group_by(PointsEntry.group_id, PointsEntry.member_id)))
            in_packets = {}
            for gid in GROUPS:
                total = await session.scalar(select(func.sum(RedPacket.total))
                                             .where(RedPacket.group_id == gid)) or 0
                taken = await session.scalar(
                    select(func.sum(RedPacketShare.amount))
                    .join(RedPacket, RedPacket.id == RedPacketShare.packet_id)
                    .where(RedPacket.group_id == gid, RedPacketShare.member_id.is_not(None))) or 0
                in_packets[gid] = total - taken
            grabs = await session.scalar(select(func.count()).select_from(RedPacketShare)
                                         .where(RedPacketShare.member_id.is_not(None))) or 0
    finally:
        await db.close()
    for account, balance in balances.items():
        if balance != entries.get(account, 0):
            problems.append(f"{account}: balance {balance} != entries {entries.get(account)}")
        if balance < 0:
            problems.append(f"{account}: negative balance {balance}")
    for gid in GROUPS:
        held = sum(b for (g, _), b in balances.items() if g == gid)
        if held + in_packets[gid] != granted:
            problems.append(f"{gid}: {held} held + {in_packets[gid]} in packets != {granted}")
    return problems, int(grabs)


def compare(reference: list[dict[str, Any]], runs: list[Run], figures: Figures) -> None:
    want = Counter(key(m) for m in reference)
    got = Counter(key(m) for run in runs for m in run.sent)
    figures.replies = sum(n for k, n in want.items() if k[1] != "post" or "报时" not in k[2])
    figures.slots = sum(n for k, n in want.items() if k[1] == "post" and "报时" in k[2])
    for k in want.keys() | got.keys():
        missing, extra = want[k] - got[k], got[k] - want[k]
        slot = k[1] == "post" and "报时" in k[2]
        if missing > 0:
            if slot:
                figures.slots_missed += missing
            else:
                figures.lost += missing
        if extra > 0:
            if slot:
                figures.slots_doubled += extra
            else:
                figures.doubled += extra


def crash_test(directory: Path, databases: Callable[[], str], *, kills: int, rounds: int,
               seed: int = 7) -> Figures:
    """A reference run, then cycles of killed runs and a final one, each cycle on a fresh
    database from `databases()` (a transcript is used up after a few kills: every restart
    replays it and goes on where the last run stopped); returns the summed figures."""
    directory.mkdir(parents=True, exist_ok=True)
    cfg = config(directory)
    transcript = directory / "crash.txt"
    transcript.write_text(script(rounds), encoding="utf-8")
    reference = play(cfg, transcript, databases(), None)
    rng = random.Random(seed)
    figures = Figures()
    started = time.monotonic()
    while figures.kills < kills:
        database, runs = databases(), []
        out_so_far, attempts = 0, 0
        # Kill after a random number of this run's new messages out (of what is left),
        # plus up to 50 ms — inside a handler, a commit, a send or a mark — and one time in
        # eight during start-up (migrations, taking back the outbox, catch-up).
        while figures.kills < kills and out_so_far < len(reference.sent) and attempts < 20:
            attempts += 1
            at_line = rng.randint(1, len(reference.sent) - out_so_far)
            delay = -rng.uniform(0.2, reference.first) if rng.random() < 0.125 else \
                rng.uniform(0.0, 0.05)
            run = play(cfg, transcript, database, delay, at_line)
            out_so_far += len(run.sent)
            runs.append(run)
            figures.kills += run.killed
        runs.append(play(cfg, transcript, database, None))
        figures.runs += len(runs)
        cycle = Figures()
        compare(reference.sent, runs, cycle)
        problems, grabs = asyncio.run(ledger_problems(database, 100 * len(MEMBERS)))
        figures.replies += cycle.replies
        figures.slots += cycle.slots
        figures.grabs += grabs
        figures.lost += cycle.lost
        figures.doubled += cycle.doubled
        figures.slots_missed += cycle.slots_missed
        figures.slots_doubled += cycle.slots_doubled
        figures.ledger_errors += problems
        figures.cycles += 1
    figures.seconds = round(time.monotonic() - started, 1)
    return figures
