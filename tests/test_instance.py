"""One process per database (issue 14, point 4), with real `bot run` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "bot.yaml"
    path.write_text(yaml.safe_dump({"groups": {"g": {"name": "读书会"}}}, allow_unicode=True),
                    encoding="utf-8")
    return path


def _start(config: Path, database_url: str) -> subprocess.Popen[str]:
    """An interactive console bot (it runs until its stdin closes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config), "--adapter", "console",
         "--database", database_url],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def _wait_running(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()  # the console prints its help once it runs
    assert "模拟群聊" in line, (line, process.stderr.read() if process.poll() is not None else "")


@pytest.mark.timeout(120)
async def test_a_second_process_on_the_same_database_refuses_naming_the_first(
        tmp_path, database_url):
    config = _config(tmp_path)
    first = _start(config, database_url)
    try:
        _wait_running(first)
        second = _start(config, database_url)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert f"pid {first.pid}" in err and "another qunbot process" in err
        assert "since " in err

        first.send_signal(signal.SIGKILL)  # a killed holder leaves a stale lock behind
        first.wait(timeout=10)
        third = _start(config, database_url)
        try:
            _wait_running(third)  # taken over
        finally:
            third.communicate(input="/quit\n", timeout=60)
        assert third.returncode == 0, third.stderr
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


@pytest.mark.timeout(120)
async def test_sigterm_stops_the_bot_cleanly_and_releases_the_database(tmp_path, database_url):
    config = _config(tmp_path)
    first = _start(config, database_url)
    _wait_running(first)
    time.sleep(0.2)
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    again = _start(config, database_url)
    _wait_running(again)
    again.send_signal(signal.SIGINT)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
