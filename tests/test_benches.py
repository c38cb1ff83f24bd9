"""Every benchmark the README quotes still runs (issue 16 point 6): each script with its
short flags (small N) exits 0 and prints its figure lines and the machine's calibration.
No timing is asserted here — the figures are the README's, printed by the scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WECHATY_PYTHON

ROOT = Path(__file__).resolve().parents[1]

# script, short arguments, what its output must hold
BENCHES = [
    ("calibrate.py", [], ['"py_loop_us"', '"to_thread_us"']),
    ("dispatch.py", ["--n", "200", "--warmup", "20"],
     ['"msgs_per_s"', '"p99_ms"', '"peak_rss_mb"', '"replies_ok": true', '"py_loop_us"']),
    # The README's scaling figure: every shipped plugin and 200 extra commands.
    ("dispatch.py", ["--n", "100", "--warmup", "10", "--all-plugins", "--dummy-commands", "200"],
     ['"msgs_per_s"', '"commands"', '"replies_ok": true', '"py_loop_us"']),
    ("startup.py", ["--rounds", "1", "--short", "--groups", "3"],
     ["calibration:", "first reply (/help, a restart", "top imports by package",
      "reload (unchanged shipped tree)", "idle RSS (3 groups"]),
    ("memory.py", ["--groups", "20", "--members", "300", "--marks", "300", "600"],
     ['"rss_mb_after_messages"', '"600"', '"py_loop_us"']),
    ("fuzz.py", ["--n", "40", "--slowest", "2"], ["calibration:", "messages 40  clock wall  p50"]),
    ("digest.py", ["--groups", "3", "--members", "5", "--days", "9"],
     ['"seconds"', '"peak_rss_mb"', '"py_loop_us"']),
    ("storage.py", ["--groups", "10"], ['"growth_mb_per_day_unpurged"', '"py_loop_us"']),
    ("send_window.py", ["--n", "40"], ['"window_p99_ms"', '"py_loop_us"']),
    ("qa_eval.py", [], ['"precision"', '"recall"', '"py_loop_us"']),
    ("moderation_eval.py", ["--split", "tuning"], ["calibration:", "evasion lines caught"]),
    ("rush.py", ["--groups", "3", "--coalesce", "both", "--drain-hours", "4"],
     ['"sends_per_group"', '"backlog"', '"py_loop_us"']),
    ("crash.py", ["--kills", "1", "--rounds", "3"], ["calibration:", '"database": "sqlite"']),
    ("web_overview.py", ["--groups", "5", "--members", "5", "--days", "3", "--requests", "2"],
     ['"median_ms"', '"py_loop_us"']),
]
PG_URL = os.environ.get("QUNBOT_TEST_PG_URL")
# Those that need the PostgreSQL server (.ci/run points QUNBOT_TEST_PG_URL at it).
PG_BENCHES = [
    ("failover.py", ["--failover", "2", "--kills", "1", "--rooms", "50"],
     ["calibration:", '"renewal_round_ms"', '"room_taken_s"']),
    ("dispatch.py", ["--n", "100", "--warmup", "10"], ['"database": "postgresql"', '"py_loop_us"']),
]


def run_bench(python: str, script: str, arguments: list[str]) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([python, str(ROOT / "bench" / script), *arguments], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("script", "arguments", "figures"), BENCHES,
                         ids=[" ".join([s, *a])[:60] for s, a, _ in BENCHES])
def test_bench_runs_in_short_mode(script: str, arguments: list[str], figures: list[str]) -> None:
    out = run_bench(sys.executable, script, arguments)
    missing = [f for f in figures if f not in out]
    assert not missing, f"{script} printed no {missing}:\n{out[-2000:]}"


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("script", "arguments", "figures"), PG_BENCHES,
                         ids=[" ".join([s, *a])[:60] for s, a, _ in PG_BENCHES])
def test_postgresql_bench_runs_in_short_mode(script: str, arguments: list[str],
                                             figures: list[str]) -> None:
    if not PG_URL:
        pytest.skip("set QUNBOT_TEST_PG_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/postgres)")
    if script == "failover.py" and not WECHATY_PYTHON:
        pytest.skip("failover.py runs the wechaty fake gateway: Python <= 3.12, as tests/wechaty")
    out = run_bench(sys.executable, script, [*arguments, "--pg", PG_URL])
    missing = [f for f in figures if f not in out]
    assert not missing, f"{script} printed no {missing}:\n{out[-2000:]}"


def peer_python() -> str | None:
    """A python with nonebot2 (bench/requirements-peer.txt): QUNBOT_PEER_PYTHON, or /tmp/nbv."""
    for candidate in (os.environ.get("QUNBOT_PEER_PYTHON"), "/tmp/nbv/bin/python"):
        if candidate and shutil.which(candidate) and subprocess.run(
                [candidate, "-c", "import nonebot"], capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.mark.timeout(900)
def test_peer_benchmark_runs_beside_ours() -> None:
    python = peer_python()
    if python is None:
        pytest.skip("no NoneBot2 venv: python3 -m venv /tmp/nbv && /tmp/nbv/bin/pip install "
                    "-r bench/requirements-peer.txt (or set QUNBOT_PEER_PYTHON)")
    out = run_bench(sys.executable, "dispatch.py",
                    ["--n", "100", "--warmup", "10", "--nonebot-python", python])
    for figure in ('"bench": "qunbot_dispatch"', '"bench": "nonebot_dispatch"',
                   '"ratio_qunbot_over_nonebot"', '"py_loop_us"'):
        assert figure in out, out[-2000:]
