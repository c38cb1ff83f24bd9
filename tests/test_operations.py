"""Operations: JSON logs a machine can read, quiet libraries, and /healthz for supervisors."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
from datetime import datetime

import pytest

from bot.adapters.simulated import SimulatedAdapter
from bot.app import BUILTINS, PLUGINS, simulated_chat
from bot.clock import ManualClock
from bot.config import load_config
from bot.logs import JsonFormatter, configure
from bot.runtime import BotRuntime
from bot.testing import write_config


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
    for name in ("apscheduler", "alembic"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_json_logs_carry_group_plugin_and_exception() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("plugins.checkin")
    logger.addHandler(handler)
    try:
        adapter = logging.LoggerAdapter(logger, {"group": "g1"})
        try:
            raise ValueError("坏了")
        except ValueError:
            adapter.exception("打卡 failed for %s", "alice")
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "error" and entry["logger"] == "plugins.checkin"
    assert entry["group"] == "g1" and entry["plugin"] == "checkin"
    assert entry["message"] == "打卡 failed for alice"
    assert "ValueError: 坏了" in entry["exception"] and entry["time"].endswith("+00:00")


def test_third_party_chatter_is_quiet_by_default(restore_logging) -> None:
    configure(logging.INFO)
    assert logging.getLogger("bot.runtime").isEnabledFor(logging.INFO)
    assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
    assert logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.WARNING)
    configure(logging.DEBUG, quiet_libraries=False)
    assert logging.getLogger("alembic.runtime").isEnabledFor(logging.INFO)


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
