"""Issue 18 end to end: two bot processes (two WeChat accounts, each at its own fake
gateway) on one PostgreSQL database, with rooms both accounts are in and rooms only one is.

What members see: one answer per message in a shared room, one timed post per slot; when
the serving process is killed its rooms move to the other within the failover time and
every queued reply goes out once; a second process for an account is refused.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import make_url

from bot.testing import write_config
from tests.conftest import _pg_execute, pg_admin_url
from tests.wechaty.fake_puppet import FakePuppet, SentText
from tests.wechaty.live import wait_until

ROOT = Path(__file__).resolve().parents[2]
SHARED, ONLY_A, ONLY_B = "shared@chatroom", "only_a@chatroom", "only_b@chatroom"
MEMBERS = ["wxid_alice", "wxid_bob", "wxid_carol", "wxid_dan", "wxid_eve"]
FAILOVER = 2.0  # seconds (leases.failover); the default is 60
_ids = itertools.count(1)


@dataclass
class World:
    """Two gateways, the rooms on them, one database, one bot.yaml."""

    tmp_path: Path
    database_url: str
    gateways: dict[str, FakePuppet]
    config: dict[str, Any] = field(default_factory=dict)
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    def say(self, room: str, sender: str, text: str) -> str:
        """A member posts: every account in the room gets it, with the same message id."""
        message_id = f"m{next(_ids)}-{uuid.uuid4().hex[:6]}"
        for gateway in self.gateways.values():
            if room in gateway.rooms:
                gateway.say_in_room(room, sender, text, message_id=message_id)
        return message_id

    def sent(self, room: str, containing: str = "") -> list[tuple[str, SentText]]:
        """(account, message) for what both accounts sent to `room`."""
        return [(name, sent) for name, gateway in self.gateways.items() for sent in gateway.sent
                if sent.conversation_id == room and containing in sent.text]

    def write(self, **changes: Any) -> Path:
        config = {**self.config, **changes}
        return write_config(self.tmp_path, config)

    async def start(self, account: str, *, expect_running: bool = True
                    ) -> asyncio.subprocess.Process:
        log = open(self.tmp_path / f"{account}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.wechaty.account_process",
            str(self.tmp_path / "bot.yaml"), account, self.database_url,
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE, stderr=log)
        self.processes.append(process)
        if expect_running:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line.strip() == b"running", (line, self.log(account))
        return process

    def log(self, account: str) -> str:
        return "\n".join(path.read_text(errors="replace")[-4000:]
                         for path in sorted(self.tmp_path.glob(f"{account}-*.log")))

    async def holder(self, room: str) -> str | None:
        import asyncpg

        url = make_url(self.database_url)
        connection = await asyncpg.connect(user=url.username, password=url.password,
                                           host=url.host, port=url.port or 5432,
                                           database=url.database)
        try:
            return await connection.fetchval(
                "SELECT account FROM room_leases WHERE room_id = $1 AND expires_at > now()",
                room)
        finally:
            await connection.close()

    async def wait_held(self, room: str, account: str, timeout: float = 30) -> float:
        """Seconds until `account` holds `room`."""
        started = time.monotonic()
        while await self.holder(room) != account:
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{account} never took {room}:\n{self.log(account)}")
            await asyncio.sleep(0.05)
        return time.monotonic() - started


def _gateway(self_id: str, rooms: list[str]) -> FakePuppet:
    gateway = FakePuppet(self_id=self_id)
    for member in MEMBERS:
        gateway.add_contact(member, member.removeprefix("wxid_").title())
    for room in rooms:
        others = ["wxid_bot_b"] if room == SHARED and self_id == "wxid_bot_a" else (
            ["wxid_bot_a"] if room == SHARED else [])
        gateway.add_room(room, room.split("@")[0], owner="wxid_alice",
                         members=[*MEMBERS, *others])
    return gateway


@pytest.fixture
async def world(tmp_path) -> AsyncIterator[World]:
    admin = pg_admin_url()
    if admin is None:
        pytest.skip("set QUNBOT_TEST_PG_URL: several accounts need PostgreSQL")
    name = f"qunbot_test_{uuid.uuid4().hex[:12]}"
    await _pg_execute(admin, f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    gateways = {"a": _gateway("wxid_bot_a", [SHARED, ONLY_A]),
                "b": _gateway("wxid_bot_b", [SHARED, ONLY_B])}
    for gateway in gateways.values():
        await gateway.start()
    world = World(tmp_path, url, gateways)
    plugins = {"checkin": None, "wechaty_test": None}
    world.config = {
        "bot": {"name": "小助手"},
        "adapter": "wechaty",
        "accounts": [
            {"name": "a", "endpoint": gateways["a"].endpoint, "token": "secret"},
            {"name": "b", "endpoint": gateways["b"].endpoint, "token": "secret"},
        ],
        "leases": {"failover": f"{FAILOVER}s"},
        "operators": [{"id": "wxid_op"}],
        "outbox": {"group_jitter": ["0s", "0s"], "daily_cap": 1000, "per_minute": 600,
                   "burst": 50},
        "groups": {room: {"name": room.split("@")[0], "plugins": plugins}
                   for room in (SHARED, ONLY_A, ONLY_B)},
    }
    world.write()
    try:
        yield world
    finally:
        for process in world.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in world.processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        for gateway in gateways.values():
            await gateway.stop()
        await _pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _quiet(seconds: float = 0.5) -> None:
    await asyncio.sleep(seconds)  # room for a second answer to show up (network time)


@pytest.mark.timeout(120)
async def test_a_shared_room_gets_one_answer_and_one_timed_post(world):
    zone = ZoneInfo("Asia/Shanghai")
    slot = (datetime.now(zone) + timedelta(seconds=12)).replace(microsecond=0)
    groups = world.config["groups"]
    groups[SHARED]["plugins"] = {**groups[SHARED]["plugins"],
                                 "tick_test": {"at": slot.strftime("%H:%M:%S")}}
    world.write()
    await world.start("a")
    await world.start("b")
    await world.wait_held(SHARED, "a")  # listed first: a serves the shared room
    await world.wait_held(ONLY_B, "b")

    world.say(SHARED, "wxid_alice", "打卡")
    world.say(ONLY_A, "wxid_bob", "打卡")
    world.say(ONLY_B, "wxid_carol", "打卡")
    await wait_until(lambda: all(world.sent(r, "打卡成功") for r in (SHARED, ONLY_A, ONLY_B)))
    await _quiet()
    assert [name for name, _ in world.sent(SHARED, "打卡成功")] == ["a"]
    assert [name for name, _ in world.sent(ONLY_A, "打卡成功")] == ["a"]
    assert [name for name, _ in world.sent(ONLY_B, "打卡成功")] == ["b"]

    # The daily slot passes while both run: one post, from the room's account.
    await wait_until(lambda: world.sent(SHARED, "定时消息"), timeout=40)
    await _quiet(1.0)
    assert [name for name, _ in world.sent(SHARED, "定时消息")] == ["a"]


@pytest.mark.timeout(120)
async def test_killing_the_serving_process_moves_its_rooms_and_loses_nothing(world):
    # a sends one message every 10 s: replies queue up behind the first.
    world.config["accounts"][0]["outbox"] = {"per_minute": 6, "burst": 1}
    world.write()
    a = await world.start("a")
    await world.wait_held(SHARED, "a")
    await world.start("b")
    await world.wait_held(ONLY_B, "b")
    for member in MEMBERS:
        world.say(SHARED, member, "打卡")
    await wait_until(lambda: world.sent(SHARED, "打卡成功"))
    await _quiet(0.5)  # the other four are queued, and written (a's group commit)

    a.send_signal(signal.SIGKILL)
    await a.wait()
    killed = time.monotonic()
    taken = await world.wait_held(SHARED, "b")
    await wait_until(lambda: len(world.sent(SHARED, "打卡成功")) >= len(MEMBERS), timeout=30)
    await _quiet()
    replies = world.sent(SHARED, "打卡成功")
    assert sorted(sent.mentions for _, sent in replies) == [(m,) for m in sorted(MEMBERS)]
    assert [name for name, _ in replies] == ["a"] + ["b"] * (len(MEMBERS) - 1)
    assert taken <= FAILOVER + 1.0, taken  # within the failover time (and a scheduling margin)
    print(f"\nfailover: the shared room served by b {time.monotonic() - killed:.2f} s "
          f"after a was killed (leases.failover {FAILOVER} s)")

    # b answers in the shared room now; a restarted takes nothing back.
    await world.start("a")
    await world.wait_held(ONLY_A, "a")
    world.say(SHARED, "wxid_bob", "/help")
    world.say(ONLY_A, "wxid_bob", "/help")
    await wait_until(lambda: world.sent(SHARED, "可用的命令") and world.sent(ONLY_A, "可用的命令"))
    await _quiet()
    assert [name for name, _ in world.sent(SHARED, "可用的命令")] == ["b"]
    assert [name for name, _ in world.sent(ONLY_A, "可用的命令")] == ["a"]
    assert await world.holder(SHARED) == "b"


@pytest.mark.timeout(120)
async def test_a_second_process_for_the_same_account_is_refused(world):
    first = await world.start("a")
    second = await world.start("a", expect_running=False)
    assert await asyncio.wait_for(second.wait(), 60) == 2
    refusal = world.log("a")
    assert f"pid {first.pid}" in refusal and "another qunbot process" in refusal
    assert "account a" in refusal and "since " in refusal
    assert first.returncode is None  # the first runs on
