"""Fixtures for the tests through python-wechaty's client: a fake gateway, a running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.runtime import BotRuntime
from tests.wechaty.fake_puppet import FakePuppet
from tests.wechaty.live import ROOM, start_live_bot


@pytest.fixture
async def gateway() -> AsyncIterator[FakePuppet]:
    fake = FakePuppet()
    for contact, name in [
        ("wxid_alice", "Alice"),
        ("wxid_bob", "Bob"),
        ("wxid_op", "王运营"),
        ("wxid_carol", "Carol"),
    ]:
        fake.add_contact(contact, name)
    fake.add_room(
        ROOM, "读书会", owner="wxid_alice", members=["wxid_alice", "wxid_bob"], admins=["wxid_bob"]
    )
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def start_bot(tmp_path, gateway) -> AsyncIterator[Callable[..., Any]]:
    """start_bot(**outbox) → a running bot connected to the gateway; stopped afterwards."""
    started: list[BotRuntime] = []

    async def start(plugins: dict[str, Any] | None = None, **outbox: Any) -> BotRuntime:
        started.append(await start_live_bot(tmp_path, gateway, plugins, **outbox))
        return started[-1]

    yield start
    for runtime in started:
        await runtime.stop()


