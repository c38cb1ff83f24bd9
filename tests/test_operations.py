"""Operations: JSON logs a machine can read, quiet libraries, and /healthz for supervisors."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime

from bot.adapters.simulated import SimulatedAdapter
from bot.app import BUILTINS, PLUGINS, simulated_chat
from bot.clock import ManualClock
from bot.config import load_config
from bot.runtime import BotRuntime
from bot.testing import write_config


def _in_a_fresh_process(code: str) -> str:
    """What a fresh process (as `bot run` starts) writes to stderr after running `code`."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    return result.stderr


def test_third_party_chatter_is_quiet_by_default() -> None:
    stderr = _in_a_fresh_process(
        "import logging; from bot.logs import configure; configure(logging.INFO, 'json');"
        "logging.getLogger('apscheduler.scheduler').info('added job');"
        "logging.getLogger('apscheduler.scheduler').warning('job missed');"
        "logging.getLogger('bot.runtime').info('started');"
        "configure(logging.DEBUG, quiet_libraries=False);"
        "logging.getLogger('alembic.runtime').info('upgrading')")
    lines = stderr.splitlines()
    assert json.loads(lines[0])["message"] == "job missed"  # its INFO is quiet, not its WARNING
    assert json.loads(lines[1])["message"] == "started"
    assert lines[2].endswith("alembic.runtime: upgrading")  # --verbose: everything, as text
    assert len(lines) == 3  # the second call replaced the first handler


def test_a_program_that_set_up_logging_keeps_it() -> None:
    stderr = _in_a_fresh_process(
        "import logging, sys; logging.basicConfig(format='theirs %(message)s');"
        "from bot.logs import configure; configure(logging.INFO, 'json');"
        "logging.getLogger('x').warning('hello')")
    assert stderr.strip() == "theirs hello"


async def _get(port: int, path: str = "/healthz") -> tuple[int, dict[str, object]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def test_healthz_reports_state_and_fails_when_the_adapter_stops(tmp_path) -> None:
    config = {"bot": {"name": "小助手"}, "health": {"enabled": True, "port": 0},
              "groups": {"g1": {"name": "读书会", "plugins": {"checkin": None}}}}
    loaded = load_config(write_config(tmp_path, config), PLUGINS, BUILTINS)
    clock = ManualClock(datetime.fromisoformat("2026-11-23T08:00:00+08:00"))
    adapter = SimulatedAdapter(simulated_chat(loaded, clock))
    runtime = BotRuntime(loaded, PLUGINS, BUILTINS, adapter, clock, rng=random.Random(1),
                         database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await runtime.start()
    try:
        assert runtime._health is not None
        port = runtime._health.port
        status, body = await _get(port)
        assert status == 200 and body["status"] == "ok"
        assert body["adapter"] == "console" and body["running"] is True
        assert body["outbox_pending"] == 0 and body["outbox_held"] is False
        assert body["last_job_at"] is not None
        runtime.outbox.hold()  # what a logged-out account does
        assert (await _get(port))[0] == 503
        runtime.outbox.release()
        await adapter.close()
        await asyncio.sleep(0)  # the adapter's task ends
        status, body = await _get(port)
        assert status == 503 and body["running"] is False and body["status"] == "down"
        assert (await _get(port, "/other"))[0] == 404
    finally:
        await runtime.stop()


def test_health_is_off_unless_enabled(tmp_path) -> None:
    loaded = load_config(write_config(tmp_path, {"groups": {}}), PLUGINS, BUILTINS)
    assert loaded.config.health.enabled is False and loaded.config.health.host == "127.0.0.1"


def test_bot_health_asks_the_endpoint_and_passes_when_it_is_off(tmp_path) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    off = write_config(tmp_path, {"groups": {}})
    result = CliRunner().invoke(app, ["health", "-c", str(off)])
    assert result.exit_code == 0 and "off" in result.output
    on = write_config(tmp_path, {"groups": {}, "health": {"enabled": True, "port": 9}})
    result = CliRunner().invoke(app, ["health", "-c", str(on)])
    assert result.exit_code == 1 and "no answer" in result.output
