#!/usr/bin/env python3
"""Start-up and footprint: time from `bot run` to the first reply, the top imports, `/reload`
of an unchanged tree, and idle RSS with every plugin enabled in 100 groups.

    python bench/startup.py                 # 3 rounds of each, medians
    python bench/startup.py --rounds 1 --short

Every run is a fresh process with the shipped bot.yaml (every plugin on in some group):
- first reply: `bot run --script` of a one-line transcript (`/help`), and of
  examples/core.txt, from process start to the first reply printed, and to exit: on a
  database a previous start migrated (a restart) and on an empty one (the first start,
  which builds the schema from the models and stamps the migration heads — what a
  transcript alone does);
- top imports: the same `/help` run under `python -X importtime`, summed per top-level
  package (self time) and the slowest modules (cumulative);
- reload: `BotRuntime.reload()` of the unchanged shipped tree, in a started bot;
- idle RSS: a bot (null transport) with every shipped plugin enabled, with its shipped
  settings, in 100 groups, on a database migrated beforehand (as after any restart), once
  start and its background warm-up have finished.

Targets (issue 16 points 1 and 2): first reply under 1 s, reload under 200 ms, idle RSS
under 100 MB. Prints one line per figure and a calibration line.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.calibration import line as calibration_line  # noqa: E402

HELP_SCRIPT = "@group 读书会\nalice: /help\n"


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # As installed (pip and the container compile byte code): this shell's
    # PYTHONDONTWRITEBYTECODE would make every start compile the bot's sources again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


_SHIPPED: list[Path] = []


def shipped_config() -> Path:
    """The shipped bot.yaml beside a link to the repository's config/, in a folder of its
    own: what a transcript writes (the digest's charts under data/) stays out of the
    checkout."""
    if not _SHIPPED:
        folder = Path(tempfile.mkdtemp(prefix="qunbot-shipped-"))
        atexit.register(shutil.rmtree, folder, True)
        shutil.copyfile(ROOT / "bot.yaml", folder / "bot.yaml")
        (folder / "config").symlink_to(ROOT / "config", target_is_directory=True)
        _SHIPPED.append(folder / "bot.yaml")
    return _SHIPPED[0]


def first_reply(script: Path, extra: tuple[str, ...] = (), database: Path | None = None
                ) -> tuple[float, float, str, float]:
    """Seconds from spawning `bot run --script` to its first printed reply, and to its exit;
    its stderr (for -X importtime) and the CPU seconds it used (user + system: steadier than
    wall time on a machine busy with other work). Without `database` the script gets a new, empty
    one (its schema is built); with it, a copy of that migrated database (a restart)."""
    command = [sys.executable, *extra, "-m", "bot", "run", "-c", str(shipped_config()),
               "--script", str(script)]
    if database is not None:
        copy = database.with_name(f"run-{time.monotonic_ns()}.db")
        shutil.copyfile(database, copy)
        command += ["--database", f"sqlite+aiosqlite:///{copy}"]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                                   stderr=stderr, text=True, encoding="utf-8")
        assert process.stdout is not None
        first = None
        for text in process.stdout:
            if first is None and "] " in text:  # "[读书会] 小助手: …": a reply
                first = time.perf_counter() - started
        _, status, usage = os.wait4(process.pid, 0)
        total = time.perf_counter() - started
        code = process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        errors = stderr.read()
    if code != 0 or first is None:
        raise SystemExit(f"bot run --script {script} failed ({code}):\n{errors[-2000:]}")
    return first, total, errors, usage.ru_utime + usage.ru_stime


def top_imports(stderr: str, count: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(package, self ms summed) and (module, cumulative ms), slowest first."""
    by_package: dict[str, float] = defaultdict(float)
    modules: list[tuple[str, float]] = []
    for text in stderr.splitlines():
        if not text.startswith("import time:") or "self [us]" in text:
            continue
        own, cumulative, name = text[len("import time:"):].split("|")
        by_package[name.strip().split(".")[0]] += int(own) / 1000
        modules.append((name.rstrip(), int(cumulative) / 1000))
    packages = sorted(by_package.items(), key=lambda item: -item[1])[:count]
    slowest = sorted(modules, key=lambda item: -item[1])[:count]
    return packages, slowest


def every_plugin_config(directory: Path, groups: int) -> Path:
    """Every shipped plugin, with the shipped bot.yaml's settings, in `groups` groups."""
    import yaml

    from tests.shipped import copy_content, shipped_plugins

    copy_content(directory)
    blocks = shipped_plugins()
    config = {
        "database": {"url": f"sqlite+aiosqlite:///{directory / 'idle.db'}"},
        "groups": {f"g{g}": {"name": f"群{g}", "plugins": blocks} for g in range(groups)},
    }
    path = directory / "bot.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for text in status:
            if text.startswith("VmRSS:"):
                return int(text.split()[1]) / 1024
    return 0.0


async def reload_figure(reloads: int) -> dict[str, float]:
    """In this process: `/reload` of the shipped tree in a started bot (median)."""
    from bench.dispatch import NullAdapter
    from bot.app import BUILTINS, PLUGINS
    from bot.clock import ManualClock
    from bot.config import load_config
    from bot.runtime import BotRuntime

    with tempfile.TemporaryDirectory(prefix="qunbot-startup-") as folder:
        shipped = load_config(ROOT / "bot.yaml", PLUGINS, BUILTINS)
        runtime = BotRuntime(shipped, PLUGINS, BUILTINS, NullAdapter(), ManualClock(),
                             database_url=f"sqlite+aiosqlite:///{folder}/reload.db")
        await runtime.start(run_adapter=False)
        times = []
        for _ in range(reloads):
            started = time.perf_counter()
            issues = await runtime.reload()
            times.append(time.perf_counter() - started)
            assert not issues, issues
        await runtime.stop()
    return {"reload_ms": statistics.median(times) * 1000}


async def idle_figure(config: str) -> dict[str, float]:
    """In this process: the bot of `config` started (on a database a previous start
    migrated), its background warm-up done; its RSS."""
    from bench.dispatch import NullAdapter
    from bot.app import BUILTINS, PLUGINS
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.runtime import BotRuntime

    loaded = load_config(config, PLUGINS, BUILTINS)
    runtime = BotRuntime(loaded, PLUGINS, BUILTINS, NullAdapter(), SystemClock())
    await runtime.start(run_adapter=False)
    await next(t for t in runtime._tasks if t.get_name() == "warm-up")
    await asyncio.sleep(0.2)
    gc.collect()
    rss = rss_mb()
    await runtime.stop()
    return {"idle_rss_mb": rss}


def in_fresh_process(call: str) -> dict[str, float]:
    """One figure in a process of its own (this one has imported nothing)."""
    code = (f"import asyncio, json; from bench import startup; "
            f"print(json.dumps(asyncio.run(startup.{call})))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{call} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def idle_rss(groups: int) -> float:
    """Every plugin in `groups` groups, on a database migrated beforehand (as after any
    restart: a start that upgrades an older database also keeps Alembic's ~9 MB until the
    next one)."""
    with tempfile.TemporaryDirectory(prefix="qunbot-idle-") as folder:
        config = every_plugin_config(Path(folder), groups)
        subprocess.run([sys.executable, "-m", "bot", "db", "upgrade", "-c", str(config)],
                       cwd=ROOT, env=_env(), capture_output=True, check=True)
        return in_fresh_process(f"idle_figure({str(config)!r})")["idle_rss_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--groups", type=int, default=100, help="groups for the idle RSS")
    parser.add_argument("--top", type=int, default=12, help="import lines shown")
    parser.add_argument("--short", action="store_true", help="CI: skip examples/core.txt")
    args = parser.parse_args()
    print(calibration_line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="qunbot-startup-") as folder:
        help_script = Path(folder) / "help.txt"
        help_script.write_text(HELP_SCRIPT, encoding="utf-8")
        first_reply(help_script)  # writes the byte code a real install has
        template = Path(folder) / "template.db"
        subprocess.run([sys.executable, "-m", "bot", "db", "upgrade", "-c", str(shipped_config()),
                        "--database", f"sqlite+aiosqlite:///{template}"], cwd=ROOT, env=_env(),
                       capture_output=True, check=True)
        scripts = [("/help, a restart: database exists", help_script, template),
                   ("/help, first start: empty database", help_script, None)]
        if not args.short:
            scripts.append(("examples/core.txt, empty database", ROOT / "examples" / "core.txt",
                            None))
        for label, script, database in scripts:
            runs = [first_reply(script, database=database) for _ in range(args.rounds)]
            firsts = [r[0] for r in runs]
            print(f"first reply ({label}): median {statistics.median(firsts):.2f} s "
                  f"(runs {', '.join(f'{f:.2f}' for f in firsts)}; exit "
                  f"{statistics.median(r[1] for r in runs):.2f} s; CPU to exit "
                  f"{statistics.median(r[3] for r in runs):.2f} s)  target < 1 s", flush=True)
        _, _, stderr, _ = first_reply(help_script, ("-X", "importtime"), template)
    packages, slowest = top_imports(stderr, args.top)
    print("top imports by package (self ms, summed; under -X importtime): " + ", ".join(
        f"{name} {ms:.0f}" for name, ms in packages))
    print("slowest imports (cumulative ms): " + ", ".join(
        f"{name.strip()} {ms:.0f}" for name, ms in slowest))
    reloads = [in_fresh_process("reload_figure(5)")["reload_ms"] for _ in range(args.rounds)]
    print(f"reload (unchanged shipped tree): median {statistics.median(reloads):.0f} ms  "
          f"target < 200 ms", flush=True)
    idle = [idle_rss(args.groups) for _ in range(args.rounds)]
    print(f"idle RSS ({args.groups} groups, every plugin, warmed up): median "
          f"{statistics.median(idle):.1f} MB (runs {', '.join(f'{m:.1f}' for m in idle)})  "
          f"target < 100 MB")


if __name__ == "__main__":
    main()
