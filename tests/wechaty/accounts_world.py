"""Two accounts, each at its own fake gateway, running as real bot processes on one
PostgreSQL database (issue 18): what tests/wechaty/test_accounts.py and bench/failover.py
share."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.testing import write_config
from tests.conftest import _pg_execute
from tests.wechaty.fake_puppet import FakePuppet, SentText

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


@asynccontextmanager
async def two_accounts(tmp_path: Path, admin: str, failover: float = FAILOVER
                       ) -> AsyncIterator[World]:
    """Two gateways (a: the shared room and one of its own; b: the same), an empty
    database, a bot.yaml listing both accounts; processes stopped and all gone after."""
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
        "leases": {"failover": f"{failover}s"},
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
