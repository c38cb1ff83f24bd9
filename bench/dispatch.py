#!/usr/bin/env python3
"""Dispatch benchmark: the NoneBot2 peer workload (bench/peer_nonebot.py), qunbot's real stack.

N group messages (default 20,000) from 1,000 members in 100 groups, fixed seed 12345:
50% `/checkin` (a command that replies and persists state), 50% chatter. The real config
loader, dispatcher, plugins, ledger/check-in storage (SQLite by default, WAL) and outbox
run; only the platform is a null transport. Latency is from event in to reply queued.

    python bench/dispatch.py --n 20000                       # few commands (check-in only)
    python bench/dispatch.py --n 20000 --all-plugins --dummy-commands 200
    python bench/dispatch.py --nonebot-python /tmp/nbv/bin/python   # also run NoneBot, print ratios
    python bench/dispatch.py --n 200 --warmup 20                     # CI's short run

The peer is bench/peer_nonebot.py in a venv of its own (bench/requirements-peer.txt):
    python3 -m venv /tmp/nbv && /tmp/nbv/bin/pip install -r bench/requirements-peer.txt

Prints one JSON line (and, with --nonebot-python, NoneBot's line and a ratio line), each
with the machine's calibration (`py_loop_us`, bench/calibration.py).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.calibration import py_loop_us  # noqa: E402
from bot.adapters.base import EventSink  # noqa: E402
from bot.events import Capabilities, GroupInfo, IncomingMessage, Outgoing, Sent  # noqa: E402

N_USERS, N_GROUPS = 1000, 100
CHECKIN_TEXT = "/checkin"
CHATTER_TEXTS = [
    "hello everyone, what's up today?",
    "lol that is so funny",
    "早上好，今天天气不错",
    "哈哈哈哈哈",
    "anyone played the new game? lol",
    "hello? is the bot alive",
    "周末一起去吃饭吗 哈哈",
    "早上好呀各位",
]


def make_plan(n: int, seed: int) -> list[tuple[int, int, str]]:
    """The same (group, user, text) sequence as bench/peer_nonebot.py."""
    rng = random.Random(seed)
    plan = []
    for _ in range(n):
        g, u = rng.randrange(N_GROUPS), rng.randrange(N_USERS)
        plan.append((g, u, CHECKIN_TEXT if rng.random() < 0.5 else rng.choice(CHATTER_TEXTS)))
    return plan


class NullAdapter:
    """Counts sends; no platform at all."""

    name = "bench"
    capabilities = Capabilities()

    def __init__(self) -> None:
        self.sent = 0

    async def run(self, sink: EventSink) -> None:
        await asyncio.Event().wait()

    async def send(self, message: Outgoing) -> Sent:
        # Replies delivered: a coalesced message (bot/outbox.py) carries one per mention.
        self.sent += max(1, len(message.mentions))
        return Sent()

    async def close(self) -> None:
        return None

    async def ready(self, timeout: float) -> None:
        return None

    async def group_info(self, group_id: str) -> GroupInfo | None:
        return None

    async def list_groups(self) -> list[GroupInfo]:
        return []

    async def remove_member(self, group_id: str, member_id: str) -> None:
        return None


def bench_plugins(dummy_commands: int) -> tuple[list[Any], str]:
    """The shipped plugins, a `/checkin` provider, and K never-matching commands."""
    from bot import ledger
    from bot.app import PLUGINS as ALL
    from bot.context import Context
    from bot.plugin import Plugin, Router

    plugins = list(ALL)
    provider = "checkin"
    if not any(p.name == "checkin" for p in ALL):
        # Until the check-in plugin exists: a command that persists a ledger entry.
        router = Router()

        @router.command("checkin")
        async def checkin(ctx: Context[Any]) -> None:
            async with ctx.transaction() as session:
                total = await ledger.change(
                    session,
                    ctx.group.id,
                    ctx.sender_id,
                    1,
                    ledger.Change("bench", "bench", ctx.now),
                )
            await ctx.reply(f"签到成功，积分 {total}")

        plugins.append(Plugin(name="bench_checkin", title="bench", routers=[router]))
        provider = "bench_checkin"
    if dummy_commands:
        router = Router()
        for i in range(dummy_commands):
            router.command(f"zzcmd{i}", f"zzalias{i}")(_never)
        plugins.append(Plugin(name="bench_dummy", title="dummy", routers=[router]))
    return plugins, provider


async def _never(ctx: Any) -> None:
    raise AssertionError("never matches")


def write_config(directory: Path, plugin_names: list[str], database_url: str | None = None
                 ) -> Path:
    """Every named plugin in every group, with the shipped bot.yaml's settings and the
    repository's content files (quiz banks, FAQ, word lists) next to the config; SQLite
    beside it unless `database_url` names another database."""
    import yaml

    from tests.shipped import copy_content, shipped_plugins

    copy_content(directory)
    shipped = shipped_plugins()
    blocks = {name: shipped.get(name) for name in plugin_names}
    config = {
        "database": {"url": database_url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"},
        "outbox": {
            "per_minute": 1e9,
            "burst": 10**9,
            "daily_cap": 10**9,
            "group_jitter": ["0s", "0s"],
        },
        "limits": {"commands_per_minute": 10**6},
        "groups": {
            f"g{g}": {"name": f"群{g}", "plugins": blocks}
            for g in range(N_GROUPS)
        },
    }
    path = directory / "bot.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def pct(values: list[float], q: float) -> float:
    k = max(0, min(len(values) - 1, round(q * len(values) + 0.5) - 1))
    return values[k]


def summarize(latencies: list[float], timed: float, n: int) -> dict[str, Any]:
    lat = sorted(latencies)
    return {
        "events": n,
        "msgs_per_s": round(n / timed, 1),
        "p50_ms": round(pct(lat, 0.5) * 1e3, 4),
        "p99_ms": round(pct(lat, 0.99) * 1e3, 4),
        "max_ms": round(lat[-1] * 1e3, 4),
    }


def event(seq: int, g: int, u: int, text: str, variant: str) -> IncomingMessage:
    return IncomingMessage(
        id=f"{variant}-{seq}",
        group_id=f"g{g}",
        sender_id=f"u{u}",
        sender_name=f"user{u}",
        text=text,
        at=datetime.now(UTC),
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.app import BUILTINS
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.runtime import BotRuntime

    plugins, provider = bench_plugins(args.dummy_commands)
    names = [p.name for p in plugins] if args.all_plugins else [provider]
    directory = Path(tempfile.mkdtemp(prefix="qunbot-bench-"))
    loaded = load_config(write_config(directory, names, args.database_url), plugins, BUILTINS)
    adapter = NullAdapter()
    runtime = BotRuntime(loaded, plugins, BUILTINS, adapter, SystemClock())
    await runtime.start(run_adapter=False)
    handle = runtime.dispatcher.handle
    plan = make_plan(args.n, args.seed)
    expected = sum(1 for *_, t in plan if t == CHECKIN_TEXT)
    out: dict[str, Any] = {
        "checkin_provider": provider,
        "plugins_enabled": names,
        "commands": sum(len(p.commands) for p in plugins),
    }
    for i, item in enumerate(make_plan(args.warmup, args.seed + 1)):
        await handle(event(i, *item, "warm"))
    await _drain(runtime)
    gc.collect()

    for variant in ("sequential", "concurrent"):
        sent_before = adapter.sent
        # Events are built just before they are timed, not all 20,000 up front (that
        # alone held ~40 MB of the peak RSS).
        latencies = [0.0] * len(plan)
        timed = 0.0
        if variant == "sequential":
            for i, item in enumerate(plan):
                ev = event(i, *item, variant)
                t0 = time.perf_counter()
                await handle(ev)
                latencies[i] = time.perf_counter() - t0
                timed += latencies[i]
        else:

            async def one(i: int, ev: IncomingMessage, t0: float, out: list[float]) -> None:
                await handle(ev)
                out[i] = time.perf_counter() - t0

            for start in range(0, len(plan), args.batch):
                batch = [event(start + j, *item, variant)
                         for j, item in enumerate(plan[start : start + args.batch])]
                t0 = time.perf_counter()
                await asyncio.gather(*(one(start + j, ev, t0, latencies)
                                       for j, ev in enumerate(batch)))
                timed += time.perf_counter() - t0
        await _drain(runtime)
        result = summarize(latencies, timed, len(plan))
        result["replies"] = adapter.sent - sent_before
        result["replies_ok"] = result["replies"] == expected
        out[variant] = result
        gc.collect()
    await runtime.stop()
    out["expected_replies"] = expected
    return out


async def _drain(runtime: Any) -> None:
    """Wait (untimed) until the outbox has sent everything queued."""
    while runtime.outbox.pending:
        await asyncio.sleep(0.01)
    await runtime.outbox.flush()


def _on_postgresql(args: argparse.Namespace) -> dict[str, Any]:
    """The same run on PostgreSQL (how much one process of several accounts carries)."""
    import uuid

    from sqlalchemy.engine import make_url

    from tests.conftest import _pg_execute

    name = f"qunbot_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(args.pg, f'CREATE DATABASE "{name}"'))
    args.database_url = make_url(args.pg).set(database=name).render_as_string(
        hide_password=False)
    try:
        return {"database": "postgresql", **asyncio.run(run(args))}
    finally:
        asyncio.run(_pg_execute(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument(
        "--all-plugins", action="store_true", help="enable every shipped plugin in every group"
    )
    parser.add_argument(
        "--dummy-commands",
        type=int,
        default=0,
        help="extra never-matching commands (dispatch scaling)",
    )
    parser.add_argument(
        "--nonebot-python",
        help="a python with nonebot2 installed: run the peer benchmark too and print the ratios",
    )
    parser.add_argument(
        "--pg",
        help="a PostgreSQL admin URL: run on a fresh database of its own there (dropped after)",
    )
    args = parser.parse_args()
    args.database_url = None
    result = _on_postgresql(args) if args.pg else asyncio.run(run(args))
    line = {
        "bench": "qunbot_dispatch",
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()} cpus={os.cpu_count()}",
        "n": args.n,
        "dummy_commands": args.dummy_commands,
        **result,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_peak_rss_mb": 120,
        "py_loop_us": py_loop_us(),
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)
    if args.nonebot_python:
        peer = _run_nonebot(args)
        print(json.dumps(peer, ensure_ascii=False))
        print(
            json.dumps(
                {
                    "ratio_qunbot_over_nonebot": {
                        v: round(line[v]["msgs_per_s"] / peer[v]["msgs_per_s"], 2)
                        for v in ("sequential", "concurrent")
                    }
                }
            )
        )


def _run_nonebot(args: argparse.Namespace) -> dict[str, Any]:
    script = ROOT / "bench" / "peer_nonebot.py"
    command = [
        args.nonebot_python,
        str(script),
        "--n",
        str(args.n),
        "--seed",
        str(args.seed),
        "--dummy-matchers",
        str(args.dummy_commands),
        "--warmup",  # the same untimed warm-up as ours (with 200 matchers NoneBot2 runs
        str(args.warmup),  # ~14 msgs/s: its default 500 alone takes half a minute)
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
