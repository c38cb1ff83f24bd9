#!/usr/bin/env python3
"""The morning rush (issue 16.4): 08:00–09:10 for many groups, on a simulated clock.

Every group (default 2,000) has the 08:00 timed post, a one-question quiz at 08:45 and the
09:00 briefing; 30% of its 200 members check in within ten minutes of the briefing (09:00–
09:10, so check-ins arrive while the briefings are planned and queued), members answer the
quiz and chatter all morning. The real config loader, dispatcher, plugins, storage (SQLite,
WAL) and outbox run — the outbox paces sends by the configured budget (20 a minute, bursts
of 5, 1–3 s between groups, 3,000 a day) on the simulated clock, so its backlog is what one
account would really have. After 09:10 the clock runs on until the outbox is empty (at
most --drain-hours).

    python bench/rush.py                 # 2,000 groups, with and without coalescing
    python bench/rush.py --short         # 20 groups: seconds (CI)
    python bench/rush.py --groups 500 --coalesce on

One JSON line per mode. Wall-clock figures (latency, fan-out, calibration) depend on the
machine — compare within one run; simulated-time figures (backlog, waits, sends) do not.
  reply_queued_ms     p50/p99/max wall time from a message in to its reply queued
  during_fanout_ms    the same, for messages handled while the 09:00 briefings are planned,
                      counted from when the fan-out's turn before it began (a message
                      arriving then waits for that turn: its worst case)
  checkin_after_fanout_ms  check-ins handled after it, to compare (during are check-ins too)
  fanout_turn_ms      while the 09:00 fan-out runs: how long each of its turns held the loop
                      (what a message arriving meanwhile waits before it is handled)
  fanout_s            wall time to plan and queue each fan-out (08:00 posts, 09:00 briefings;
                      the 09:00 one includes the messages handled between its turns)
  fanout_own_s        the 09:00 fan-out's own share: the sum of its turns
  fanout_sql          SQL statements and transactions of each fan-out (machine-independent)
  backlog             messages waiting in the outbox, every 10 simulated minutes to 11:00,
                      then hourly
  last_post_at        when the last timed post / briefing / quiz post went out (simulated)
  posts               per fan-out: posts sent, those still queued at the end (`unsent`),
                      when the last one went out (its delay after the slot), and the earliest
                      the budget allows it (`floor_at`: every post of the morning at the rate
                      and within the daily cap, nothing else sent); `late_s` is how much
                      later than that it went
  sends_per_group     messages the platform received per group (median, max)
  checkin_wait_s      member's check-in → its reply delivered (simulated): p50, p99, max
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import timeit
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = "2026-11-23"  # a Monday the shipped briefing file has items for
START = datetime.fromisoformat(f"{DAY} 07:59").replace(tzinfo=SHANGHAI)
END = datetime.fromisoformat(f"{DAY} 09:10").replace(tzinfo=SHANGHAI)
MEMBERS = 200
CHECKIN_SHARE = 0.3
QUIZ_ANSWERS = 10  # per group, 08:45–08:46
CHATTER = 20  # per group, all morning
CHATTER_TEXTS = ["早上好", "今天天气不错", "哈哈哈", "有人看了昨天的分享吗", "收到", "好的👌",
                 "这本书真不错", "周末一起去图书馆吗"]
GUESSES = ["A", "B", "C", "不知道", "李白", "杜甫", "三", "春天"]


def calibration() -> float:
    """µs for sum(range(1000)): the interpreter's speed on this machine, this minute."""
    return round(min(timeit.repeat("sum(range(1000))", number=20000, repeat=5)) / 20000 * 1e6, 2)


def write_config(directory: Path, groups: int, coalesce: bool) -> Path:
    import yaml

    (directory / "config").symlink_to(ROOT / "config")  # the shipped content files
    plugins = {
        "points": {},
        "checkin": {"reminder_at": None, "praise_at": None},
        "quiz": {"banks": ["quiz"], "daily": [{"at": "08:45", "questions": 1}]},
        "timed_posts": {"posts": [{"at": "08:00", "text": "早上好，{group}！今天是 {date}。"}]},
        "briefing": {"at": "09:00", "files": ["briefing/reading-club.yaml"], "items": 10},
        "activity": {},
    }
    config = {
        "bot": {"timezone": "Asia/Shanghai"},
        "database": {"url": f"sqlite+aiosqlite:///{directory / 'rush.db'}"},
        "outbox": {"coalesce": coalesce},  # otherwise the shipped defaults: 20/min, burst 5
        # (a copy each: one shared dict would be dumped as thousands of YAML aliases)
        "groups": {f"g{g:04d}": {"name": f"读书会{g}", "plugins": json.loads(json.dumps(plugins))}
                   for g in range(groups)},
    }
    path = directory / "bot.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def plan(groups: int, seed: int) -> tuple[tuple[datetime, str, str, str], ...]:
    """(when, group, member, text) for the whole morning, in time order."""
    rng = random.Random(seed)
    at = START + timedelta(minutes=1)  # 08:00
    events = []
    for g in range(groups):
        group = f"g{g:04d}"
        for m in rng.sample(range(MEMBERS), int(MEMBERS * CHECKIN_SHARE)):
            when = at + timedelta(minutes=60, seconds=rng.uniform(0, 600))
            events.append((when, group, f"u{m}", "打卡"))
        for _ in range(QUIZ_ANSWERS):
            when = at + timedelta(minutes=45, seconds=rng.uniform(1, 60))
            events.append((when, group, f"u{rng.randrange(MEMBERS)}", rng.choice(GUESSES)))
        for _ in range(CHATTER):
            when = at + timedelta(seconds=rng.uniform(0, 70 * 60))
            events.append((when, group, f"u{rng.randrange(MEMBERS)}", rng.choice(CHATTER_TEXTS)))
    events.sort(key=lambda e: e[0])
    return tuple(events)


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> dict[str, float]:
    return {"p50": round(pct(values, 0.5) * scale, digits),
            "p99": round(pct(values, 0.99) * scale, digits),
            "max": round(max(values, default=0.0) * scale, digits)}


def rss_mb() -> tuple[float, float]:
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return round(current, 1), round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Probe:
    """Times each job slot's fan-out (wall) and samples the backlog (simulated)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.fanout: dict[str, float] = defaultdict(float)
        self.backlog: list[tuple[str, int]] = []
        self.next_sample = START + timedelta(minutes=1)
        scheduler = runtime.scheduler
        # A fan-out goes through fire_many (slots due together); older code fired each slot.
        name = "fire_many" if hasattr(scheduler, "fire_many") else "fire"
        fire = getattr(scheduler, name)

        async def timed_fire(*args: Any) -> Any:
            t0 = time.perf_counter()
            due = args[0] if name == "fire_many" else [args]
            job, slot, *_ = due[0]
            label = f"{slot.astimezone(SHANGHAI):%H:%M} {job.key.split('.')[0]}"
            self.counting[asyncio.current_task()] = label
            try:
                return await fire(*args)
            finally:
                del self.counting[asyncio.current_task()]
                elapsed = time.perf_counter() - t0
                for job, slot, *_ in due:  # each job of the fan-out gets its share
                    local = slot.astimezone(SHANGHAI).strftime("%H:%M")
                    self.fanout[f"{local} {job.key.split('.')[0]}"] += elapsed / len(due)

        setattr(scheduler, name, timed_fire)
        # Statements and transactions each fan-out's own task sends (not the messages handled
        # between its chunks): counts, unlike wall time, do not depend on the machine.
        self.sql: dict[str, Counter[str]] = defaultdict(Counter)
        self.counting: dict[asyncio.Task[Any] | None, str] = {}
        engine = runtime.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", lambda *_: self._count("statements"))
        event.listen(engine, "begin", lambda *_: self._count("transactions"))

    def _count(self, what: str) -> None:
        label = self.counting.get(asyncio.current_task())
        if label is not None:
            self.sql[label][what] += 1

    def sample(self, now: datetime) -> None:
        while now >= self.next_sample:
            label = self.next_sample.astimezone(SHANGHAI).strftime("%d %H:%M")
            self.backlog.append((label, self.runtime.outbox.pending))
            # every 10 minutes through the morning, then hourly (a backlog can last days)
            morning = self.next_sample < START + timedelta(hours=3)
            self.next_sample += timedelta(minutes=10 if morning else 60)


async def run(groups: int, coalesce: bool, seed: int, drain_hours: float) -> dict[str, Any]:
    from bot.adapters.simulated import SimulatedAdapter
    from bot.app import BUILTINS, PLUGINS, simulated_chat
    from bot.clock import ManualClock
    from bot.config import load_config
    from bot.runtime import BotRuntime

    directory = Path(tempfile.mkdtemp(prefix="qunbot-rush-"))
    t0 = time.perf_counter()
    loaded = load_config(write_config(directory, groups, coalesce), PLUGINS, BUILTINS)
    clock = ManualClock(START)
    chat = simulated_chat(loaded, clock, "rush")
    runtime = BotRuntime(loaded, PLUGINS, BUILTINS, SimulatedAdapter(chat), clock,
                         database_url=loaded.config.database.url, rng=random.Random(seed))
    await runtime.start(run_adapter=False)
    # As a running bot (bot/runtime.py), which a simulated clock's runtime is not: the WAL
    # checkpointed from a thread (else 1% of commits checkpoint, with an fsync), the word
    # tables loaded and the start-up heap frozen out of the cyclic collector.
    await runtime.db.start_checkpoints()
    await runtime.warm_up_and_settle()
    started_s = time.perf_counter() - t0
    probe = Probe(runtime)
    # The bench's own records are kept where the cyclic collector does not walk them: a
    # tuple of plain tuples, arrays of floats, tuples of times. As lists (or deques) they
    # were 250,000 more references for every full collection of this process to visit by
    # 09:00, pauses the bot alone would not have.
    events = plan(groups, seed)
    latencies, during, after = array.array("d"), array.array("d"), array.array("d")
    # (group, member) → their check-ins' times
    checkins: dict[tuple[str, str], tuple[datetime, ...]] = {}
    fanout_at = START + timedelta(minutes=61)  # 09:00
    fanout: asyncio.Task[None] | None = None

    async def handle(group: str, member: str, text: str) -> None:
        message = chat.message(group, member, text)
        if text == "打卡":  # (during the fan-out the simulated clock stands at 09:00)
            checkins[(group, member)] = (*checkins.get((group, member), ()), clock.now())
        t = time.perf_counter()
        await runtime.dispatcher.handle(message)
        elapsed = time.perf_counter() - t
        latencies.append(elapsed)
        if fanout is not None and not fanout.done():
            during.append(elapsed + (turns[-1] if turns else 0.0))
        elif fanout is not None and text == "打卡":  # the same kind of message, after it
            after.append(elapsed)

    turns = array.array("d")

    async def turn() -> None:
        """Let the fan-out run until it yields: how long a message arriving meanwhile waits."""
        t = time.perf_counter()
        await asyncio.sleep(0)
        if fanout is not None and not fanout.done():
            turns.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    pending = 0  # the next of `events` to arrive
    second = START
    while second < END:
        # Jobs and timers fire once a simulated second (the scheduler scans every job).
        if second == fanout_at:
            # The 09:00 briefings are planned and queued while messages keep arriving; the
            # simulated clock stands at 09:00 until the fan-out is done.
            fanout = asyncio.create_task(runtime.advance_to(fanout_at))
            await turn()
            while pending < len(events) and not fanout.done():
                await handle(*events[pending][1:])
                pending += 1
                await turn()
            await fanout
        else:
            await runtime.advance_to(max(second, clock.now()))
        second += timedelta(seconds=1)
        while pending < len(events) and events[pending][0] < second:
            when, group, member, text = events[pending]
            pending += 1
            await pace_until(runtime, when, probe)
            if when > clock.now():
                clock.set(when)
            await handle(group, member, text)
        await pace_until(runtime, second, probe)
    await runtime.advance_to(END)
    morning_s = time.perf_counter() - t0
    # After 09:10: let simulated time run until the outbox is empty (the budget paces it).
    outbox = runtime.outbox
    await pace_until(runtime, END + timedelta(hours=drain_hours), probe)
    await outbox.flush()
    probe.sample(clock.now() + timedelta(minutes=10))
    result = summarize(chat.sent, checkins, runtime, loaded)
    current, peak = rss_mb()
    await runtime.stop()
    return {
        "coalesce": coalesce, "groups": groups, "messages_in": len(events),
        "start_s": round(started_s, 1), "morning_wall_s": round(morning_s, 1),
        "reply_queued_ms": spread(latencies, 1e3, 3),
        "during_fanout_ms": {**spread(during, 1e3, 3), "n": len(during)},
        "checkin_after_fanout_ms": {**spread(after, 1e3, 3), "n": len(after)},
        "fanout_turn_ms": {**spread(turns, 1e3, 3), "n": len(turns)},
        "fanout_s": {k: round(v, 2) for k, v in sorted(probe.fanout.items())
                     if k.startswith(("08:00", "08:45", "09:00"))},
        "fanout_own_s": round(sum(turns), 2),
        "fanout_sql": {k: dict(v) for k, v in sorted(probe.sql.items())
                       if k.startswith(("08:00", "08:45", "09:00"))},
        **result,
        "backlog": probe.backlog,
        "left_queued": outbox.pending,
        "rss_mb": current, "peak_rss_mb": peak,
    }


async def pace_until(runtime: Any, until: datetime, probe: Probe) -> None:
    """The sender between two messages: each send at the moment the budget allows it, the
    simulated clock moved on to it (jobs due meanwhile fire at the next second's advance)."""
    clock = runtime.clock
    while True:
        probe.sample(clock.now())
        delay = await runtime.outbox.step()
        if delay is None:
            return
        if delay == 0:
            continue
        # (a microsecond more: timedelta rounds, and the bucket must have refilled)
        due = clock.now() + timedelta(seconds=delay, microseconds=1)
        if due > until:
            return
        clock.set(due)


def summarize(sent: list[Any], checkins: dict[tuple[str, str], tuple[datetime, ...]],
              runtime: Any, loaded: Any) -> dict[str, Any]:
    per_group: dict[str, int] = defaultdict(int)
    waits: list[float] = []
    posts = [d for d in sent if d.kind == "post"]
    for delivery in sent:
        per_group[delivery.group_id or ""] += 1
        if delivery.kind != "reply":
            continue
        for member in delivery.mentions:
            queue = checkins.get((delivery.group_id, member))
            if queue and "打卡" in delivery.text:
                waits.append((delivery.at - queue[0]).total_seconds())
                checkins[(delivery.group_id, member)] = queue[1:]
    counts = sorted(per_group.values())
    last_post = max((d.at for d in posts), default=None)
    return {
        "sent": len(sent), "posts_sent": len(posts),
        "replies_coalesced": runtime.outbox.stats.coalesced,
        "sends_per_group": {"median": counts[len(counts) // 2] if counts else 0,
                            "max": counts[-1] if counts else 0},
        "checkin_wait_s": {**spread(waits, 1, 0), "answered": len(waits)},
        "last_post_at": last_post.strftime("%d %H:%M:%S") if last_post else None,
        "posts": post_delays(posts, loaded.config.outbox, len(loaded.groups)),
    }


def post_delays(posts: list[Any], budget: Any, groups: int) -> dict[str, dict[str, Any]]:
    """For each fan-out: its posts sent and still queued (`unsent`: the budget did not carry
    them within --drain-hours), when the last went out, and the earliest the budget allows
    the last of them (`budget_floor`)."""
    slots = {"08:00 timed": (START + timedelta(minutes=1), "早上好"),
             "09:00 briefing": (START + timedelta(minutes=61), "【每日早报】")}
    found: dict[str, list[datetime]] = defaultdict(list)
    for post in posts:
        label = next((k for k, (_, mark) in slots.items() if mark in post.text), "08:45 quiz")
        found[label].append(post.at)
    expected = {label: max(groups, len(found[label])) for label in slots}  # one a group
    slots["08:45 quiz"] = (START + timedelta(minutes=46), "")
    expected.update({label: len(at) for label, at in found.items() if label not in expected})
    order = sorted(expected, key=lambda label: slots[label][0])
    releases = [slots[label][0] for label in order for _ in range(expected[label])]
    floors = iter(budget_floor(releases, budget))
    result: dict[str, dict[str, Any]] = {}
    for label in order:
        floor = [next(floors) for _ in range(expected[label])][-1]
        entry: dict[str, Any] = {"n": len(found[label]),
                                 "unsent": expected[label] - len(found[label]),
                                 "floor_at": floor.astimezone(SHANGHAI).strftime("%d %H:%M:%S")}
        if found[label]:
            last = max(found[label])
            entry["last_at"] = last.astimezone(SHANGHAI).strftime("%d %H:%M:%S")
            entry["last_after_s"] = round((last - slots[label][0]).total_seconds())
            if not entry["unsent"]:
                entry["late_s"] = round((last - floor).total_seconds())
        result[label] = entry
    return result


def budget_floor(releases: list[datetime], budget: Any) -> list[datetime]:
    """The earliest each post can go out (released at its slot, in this order) under the
    token bucket, the least pause between groups and the daily cap of one account, if
    nothing else were sent."""
    rate, tokens, updated = budget.per_minute / 60, float(budget.burst), releases[0]
    day, count, out = releases[0].astimezone(SHANGHAI).date(), 0, []
    now, switch = releases[0], budget.group_jitter[0]
    for n, release in enumerate(releases):
        now = max(now + (switch if n else timedelta(0)), release)
        if now.astimezone(SHANGHAI).date() != day:
            day, count = now.astimezone(SHANGHAI).date(), 0
        if count >= budget.daily_cap:  # the rest of the day is spent: from midnight on
            day += timedelta(days=1)
            now, count = datetime.combine(day, datetime.min.time(), SHANGHAI), 0
        tokens = min(float(budget.burst), tokens + (now - updated).total_seconds() * rate)
        if tokens < 1:
            now += timedelta(seconds=(1 - tokens) / rate)
            tokens = 1.0
        updated, tokens, count = now, tokens - 1, count + 1
        out.append(now)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--short", action="store_true", help="20 groups (CI)")
    parser.add_argument("--coalesce", choices=["on", "off", "both"], default="both")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--drain-hours", type=float, default=48,
                        help="simulated hours after 09:10 to let the outbox empty")
    args = parser.parse_args()
    groups = 20 if args.short else args.groups
    if args.coalesce == "both":  # each mode in a process of its own: RSS is its own
        for mode in ("on", "off"):
            command = [sys.executable, __file__, "--groups", str(groups), "--coalesce", mode,
                       "--seed", str(args.seed), "--drain-hours", str(args.drain_hours)]
            subprocess.run(command, check=True)
        return
    calibrate = calibration()
    result = asyncio.run(run(groups, args.coalesce == "on", args.seed, args.drain_hours))
    line = {"bench": "qunbot_rush", "python": platform.python_version(),
            "cpus": os.cpu_count(), "py_loop_us": calibrate, **result,
            "py_loop_us_after": calibration()}
    print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
