#!/usr/bin/env python3
# ruff: noqa: E501, ANN001, ANN201, RUF012, RUF046, SIM108  (the peer's script, kept as it was run)
"""NoneBot2 + OneBot v11 event-dispatch baseline (no network).

What it does
------------
1. Boots NoneBot2 with the ``~none`` driver (no HTTP/WS server, no client, no
   ports opened) and registers the OneBot v11 adapter.
2. Replaces the adapter's transport with an in-memory one: ``FakeAdapter``
   overrides ``Adapter._call_api`` (the single point where the real adapter
   would write to a WebSocket / HTTP connection) so that every API call - and
   therefore every ``matcher.send/finish`` reply - is appended to a list and
   answered with a fake ``{"message_id": n}``. Everything above the transport
   (``Bot.send`` -> OneBot ``send`` handler -> ``Bot.send_msg`` ->
   ``Bot.call_api`` with its hook machinery) is the unmodified framework code.
3. Registers the workload matchers:
     * ``on_command("checkin")``  -> replies with one text message,
     * ``on_keyword(CHATTER_KEYWORDS)`` -> handler that does nothing,
     * optionally ``--dummy-matchers K`` extra plugin-like matchers that never
       match (a mix of on_command / on_keyword / on_regex / on_startswith),
   all at NoneBot's default priority (1), so every event is checked against
   every matcher, which is what happens for plugins that do not set priorities.
4. Generates N synthetic OneBot v11 group-message payloads (user_id over 1000
   users, group_id over 100 groups, 50% "/checkin", 50% chatter; fixed seed),
   turns each into a ``GroupMessageEvent`` exactly as the adapter does
   (``json.loads`` + ``Adapter.json_to_event``) *outside* the timed region,
   and times ``nonebot.message.handle_event(bot, event)``:
     * sequential: one event at a time, each awaited;
     * concurrent: ``asyncio.gather`` over batches of ``--batch`` (100) events;
       per-event latency is measured from the moment the batch is submitted
       to the moment that event's handling finished (so it includes queueing
       behind the other events of the batch).
   The JSON->Event parse cost is measured separately ("parse" section, over
   the first min(N, 5000) payloads).
5. Prints one JSON line with throughput, p50/p99 latency, reply counts and
   peak RSS (``resource.getrusage().ru_maxrss``) on stdout. NoneBot's own log
   output goes to stderr, filtered at ``--log-level`` (WARNING by default, so
   the per-event "SUCCESS" log line is generated but not written).

Run with the venv that has nonebot2 + nonebot-adapter-onebot installed, e.g.
    python3 -m venv /tmp/nbv && /tmp/nbv/bin/pip install -r bench/requirements-peer.txt
    /tmp/nbv/bin/python bench/peer_nonebot.py --n 20000
or through `python bench/dispatch.py --nonebot-python /tmp/nbv/bin/python` (both, one run).
Copied from the shared peer benchmark (shared/bench/nonebot_dispatch.py) unchanged but for
this paragraph and the calibration figure.
"""

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import resource
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

# --------------------------------------------------------------------------
# Workload definition (kept identical across runs: fixed seed, fixed texts)
# --------------------------------------------------------------------------
N_USERS = 1000
N_GROUPS = 100
BOT_SELF_ID = 10000
USER_ID_BASE = 2_000_000
GROUP_ID_BASE = 300_000
CHECKIN_TEXT = "/checkin"
# Every chatter line contains one of these keywords, so the keyword matcher
# fires (and its no-op handler runs) for every non-command message.
CHATTER_KEYWORDS = {"hello", "lol", "早上好", "哈哈"}
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


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=20000, help="events per variant (default 20000)")
    p.add_argument("--batch", type=int, default=100, help="gather batch size for the concurrent variant")
    p.add_argument("--warmup", type=int, default=500, help="untimed warm-up events before measuring")
    p.add_argument("--dummy-matchers", type=int, default=0,
                   help="extra never-matching matchers to register (dispatch scaling test)")
    p.add_argument("--mode", choices=("both", "seq", "conc"), default="both")
    p.add_argument("--entry", choices=("core", "bot"), default="core",
                   help="core: nonebot.message.handle_event(bot, event) (default); "
                        "bot: bot.handle_event(event), i.e. plus OneBot's own pre-processing "
                        "(message.reduce, reply/at/nickname checks) as the real adapter does")
    p.add_argument("--log-level", default="WARNING",
                   help="NoneBot log level (logs go to stderr). INFO/SUCCESS = production-like "
                        "per-event log line; redirect stderr to /dev/null to exclude terminal cost")
    p.add_argument("--inline-sync", action="store_true",
                   help="DIAGNOSTIC, not NoneBot's real behaviour: run sync dependencies inline "
                        "instead of in anyio's thread pool (the command rule's Command()/"
                        "CommandArg()/CommandWhitespace() params are sync -> 3 thread hops/event)")
    p.add_argument("--seed", type=int, default=12345)
    return p.parse_args()


# --------------------------------------------------------------------------
# Synthetic OneBot v11 payloads
# --------------------------------------------------------------------------
def make_plan(n: int, seed: int) -> list[tuple[int, int, str]]:
    """Deterministic list of (group_index, user_index, text) for n events."""
    rng = random.Random(seed)
    plan = []
    for _ in range(n):
        g = rng.randrange(N_GROUPS)
        u = rng.randrange(N_USERS)
        text = CHECKIN_TEXT if rng.random() < 0.5 else rng.choice(CHATTER_TEXTS)
        plan.append((g, u, text))
    return plan


def make_payload(seq: int, g: int, u: int, text: str) -> str:
    """A OneBot v11 group message event, as JSON text, like go-cqhttp/NapCat/Lagrange send it."""
    user_id = USER_ID_BASE + u
    return json.dumps({
        "time": 1_700_000_000 + seq,
        "self_id": BOT_SELF_ID,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": seq + 1,
        "group_id": GROUP_ID_BASE + g,
        "user_id": user_id,
        "anonymous": None,
        "message": [{"type": "text", "data": {"text": text}}],
        "raw_message": text,
        "font": 0,
        "sender": {"user_id": user_id, "nickname": f"user{u}", "card": "", "role": "member"},
    }, ensure_ascii=False)


# --------------------------------------------------------------------------
# NoneBot boot: driver, fake transport, bot, matchers
# --------------------------------------------------------------------------
def boot_nonebot(log_level: str):
    import nonebot
    import nonebot.log as nb_log
    from nonebot.log import default_filter, default_format, logger

    # Move NoneBot's default loguru sink from stdout to stderr so that stdout
    # carries only the final JSON result line (same level/filter/format).
    logger.remove(nb_log.logger_id)
    nb_log.logger_id = logger.add(sys.stderr, level=0, diagnose=False,
                                  filter=default_filter, format=default_format)

    # `~none` driver: no server, no client -> nothing listens, nothing connects.
    # Explicit kwargs win over any .env / environment variables.
    nonebot.init(
        driver="~none",
        log_level=log_level,
        command_start={"/"},
        command_sep={"."},
        nickname=set(),
    )

    from nonebot.adapters.onebot.v11 import Adapter as OneBotV11Adapter
    from nonebot.adapters.onebot.v11 import Bot

    class FakeAdapter(OneBotV11Adapter):
        """OneBot v11 adapter whose transport is a Python list.

        ``_call_api`` is the only method of the real adapter that touches the
        network (WebSocket send / HTTP POST). Everything that calls it - the
        reply path ``Bot.send`` -> ``send_msg`` -> ``Bot.call_api`` (+ hooks)
        - runs unchanged.
        """

        sent: list[tuple[str, dict[str, Any]]] = []

        async def _call_api(self, bot: Bot, api: str, **data: Any) -> Any:
            self.sent.append((api, data))
            return {"message_id": len(self.sent)}

    driver = nonebot.get_driver()
    driver.register_adapter(FakeAdapter)  # get_name() is still "OneBot V11"
    adapter = nonebot.get_adapter(FakeAdapter)
    bot = Bot(adapter, self_id=str(BOT_SELF_ID))
    return nonebot, driver, adapter, bot


def patch_inline_sync() -> None:
    """Diagnostic: make NoneBot call sync dependencies/handlers in the event loop.

    Stock NoneBot wraps every *sync* dependency in ``anyio.to_thread.run_sync``;
    the built-in command rule depends on three sync params, so each event pays
    three thread round-trips. This patch isolates that cost.
    """
    import nonebot.dependencies as nb_deps
    import nonebot.internal.params as nb_params

    def run_inline(call):
        async def _wrapper(*args, **kwargs):
            return call(*args, **kwargs)
        return _wrapper

    nb_deps.run_sync = run_inline
    nb_params.run_sync = run_inline


def register_matchers(n_dummy: int) -> None:
    from nonebot import on_command, on_keyword, on_regex, on_startswith
    from nonebot.adapters.onebot.v11 import GroupMessageEvent

    # The workload: "/checkin" replies with one text message.
    checkin = on_command("checkin")

    @checkin.handle()
    async def _handle_checkin(event: GroupMessageEvent) -> None:
        await checkin.finish(f"签到成功 / checked in: user {event.user_id} @ group {event.group_id}")

    # Chatter: matched by keyword, handler does nothing (no reply).
    chatter = on_keyword(CHATTER_KEYWORDS)

    @chatter.handle()
    async def _handle_chatter() -> None:
        return None

    # Plugin-like matchers that never match our traffic (dispatch scaling).
    for i in range(n_dummy):
        kind = i % 4
        if kind == 0:
            m = on_command(f"zzcmd{i}", aliases={f"zzalias{i}"})
        elif kind == 1:
            m = on_keyword({f"zzkw{i}", f"zzkw{i}b"})
        elif kind == 2:
            m = on_regex(rf"^zzre{i}\s+(\d+)$")
        else:
            m = on_startswith(f"zzpre{i}")

        @m.handle()
        async def _dummy(event: GroupMessageEvent, _m=m) -> None:  # never runs
            await _m.finish("unreachable")


# --------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------
def pct(sorted_vals: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(round(q * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def cur_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def summarize(latencies: list[float], timed_s: float, wall_s: float, n: int) -> dict[str, Any]:
    lat = sorted(latencies)
    return {
        "events": n,
        "msgs_per_s": round(n / timed_s, 1),
        "msgs_per_s_wall": round(n / wall_s, 1),  # incl. untimed event construction
        "p50_ms": round(pct(lat, 0.50) * 1e3, 4),
        "p99_ms": round(pct(lat, 0.99) * 1e3, 4),
        "max_ms": round(lat[-1] * 1e3, 4),
        "mean_ms": round(sum(lat) / len(lat) * 1e3, 4),
    }


# --------------------------------------------------------------------------
# Benchmark phases
# --------------------------------------------------------------------------
async def run_benchmark(args, adapter, bot) -> dict[str, Any]:
    from nonebot.message import handle_event

    AdapterCls = type(adapter)
    if args.entry == "core":
        dispatch = lambda ev: handle_event(bot, ev)  # noqa: E731
    else:
        dispatch = bot.handle_event

    def build(seq: int, item: tuple[int, int, str]):
        # Same path as the real adapter: bytes/str from the wire -> dict -> Event
        return AdapterCls.json_to_event(json.loads(make_payload(seq, *item)))

    plan = make_plan(args.n, args.seed)
    expected_replies = sum(1 for _, _, t in plan if t == CHECKIN_TEXT)
    out: dict[str, Any] = {}

    # -- parse cost (JSON text -> GroupMessageEvent), reported separately ----
    payloads = [make_payload(i, *it) for i, it in enumerate(plan[: min(args.n, 5000)])]
    t0 = time.perf_counter()
    for raw in payloads:
        AdapterCls.json_to_event(json.loads(raw))
    dt = time.perf_counter() - t0
    out["parse"] = {"events": len(payloads), "events_per_s": round(len(payloads) / dt, 1)}
    del payloads

    # -- warm-up (imports, caches, pydantic/anyio first-call paths) ----------
    warm_plan = make_plan(args.warmup, args.seed + 1)
    for i, item in enumerate(warm_plan):
        await dispatch(build(i, item))
    adapter.sent.clear()
    gc.collect()

    # -- sequential: await each event ----------------------------------------
    if args.mode in ("both", "seq"):
        lats: list[float] = []
        timed = 0.0
        w0 = time.perf_counter()
        for i, item in enumerate(plan):
            ev = build(i, item)
            t0 = time.perf_counter()
            await dispatch(ev)
            dt = time.perf_counter() - t0
            lats.append(dt)
            timed += dt
        wall = time.perf_counter() - w0
        res = summarize(lats, timed, wall, len(plan))
        res["replies"] = len(adapter.sent)
        res["replies_ok"] = len(adapter.sent) == expected_replies
        res["max_rss_mb"] = round(max_rss_mb(), 1)
        res["cur_rss_mb"] = round(cur_rss_mb(), 1)
        out["sequential"] = res
        adapter.sent.clear()
        gc.collect()

    # -- concurrent: asyncio.gather over batches -----------------------------
    if args.mode in ("both", "conc"):
        lats = [0.0] * len(plan)
        timed = 0.0

        async def one(idx: int, ev, t_submit: float) -> None:
            await dispatch(ev)
            lats[idx] = time.perf_counter() - t_submit

        w0 = time.perf_counter()
        for start in range(0, len(plan), args.batch):
            chunk = plan[start:start + args.batch]
            evs = [build(start + j, item) for j, item in enumerate(chunk)]
            t0 = time.perf_counter()
            await asyncio.gather(*(one(start + j, ev, t0) for j, ev in enumerate(evs)))
            timed += time.perf_counter() - t0
        wall = time.perf_counter() - w0
        res = summarize(lats, timed, wall, len(plan))
        res["batch"] = args.batch
        res["replies"] = len(adapter.sent)
        res["replies_ok"] = len(adapter.sent) == expected_replies
        res["max_rss_mb"] = round(max_rss_mb(), 1)
        res["cur_rss_mb"] = round(cur_rss_mb(), 1)
        out["concurrent"] = res
        adapter.sent.clear()

    out["expected_replies"] = expected_replies
    return out


def versions() -> dict[str, str]:
    v = {"python": platform.python_version()}
    for pkg in ("nonebot2", "nonebot-adapter-onebot", "pydantic", "pydantic-core",
                "anyio", "loguru", "pygtrie"):
        try:
            v[pkg] = version(pkg)
        except PackageNotFoundError:
            v[pkg] = "missing"
    return v


def main() -> None:
    args = parse_args()
    nonebot, driver, adapter, bot = boot_nonebot(args.log_level)
    register_matchers(args.dummy_matchers)
    if args.inline_sync:
        patch_inline_sync()
    from nonebot.matcher import matchers

    rss_boot = max_rss_mb()
    result: dict[str, Any] = {}

    async def runner() -> None:
        driver._bot_connect(bot)  # what the adapter does when a OneBot client connects
        try:
            result.update(await run_benchmark(args, adapter, bot))
        finally:
            driver._bot_disconnect(bot)
            driver.exit()  # let the none driver run its shutdown hooks and return

    async def on_startup() -> None:
        # Start the benchmark inside the driver's lifespan task group (the
        # group NoneBot itself uses for background work) and return, so the
        # driver finishes starting up normally.
        driver.task_group.start_soon(runner)

    driver.on_startup(on_startup)
    nonebot.run()  # none driver: anyio.run(...) until driver.exit()

    print(json.dumps({
        "bench": "nonebot_dispatch",
        "versions": versions(),
        "platform": f"{platform.system()} {platform.machine()} cpus={os.cpu_count()}",
        "driver": driver.type,
        "entry": args.entry,
        "log_level": args.log_level,
        "inline_sync": args.inline_sync,
        "n": args.n,
        "warmup": args.warmup,
        "matchers": sum(len(v) for v in matchers.values()),
        "dummy_matchers": args.dummy_matchers,
        "rss_after_boot_mb": round(rss_boot, 1),
        **result,
        "peak_rss_mb": round(max_rss_mb(), 1),
        # The machine's speed, as bench/calibration.py measures it beside qunbot's figures.
        "py_loop_us": round(min(__import__("timeit").repeat(
            "sum(range(1000))", number=5000, repeat=5)) / 5000 * 1e6, 2),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
