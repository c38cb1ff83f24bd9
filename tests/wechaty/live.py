"""What the whole-bot tests through python-wechaty's client share: the room, a way to wait
for the gateway, and a running bot over the fake gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.adapters.wechaty import WechatyAdapter
from bot.app import BUILTINS
from bot.app import PLUGINS as ALL
from bot.clock import SystemClock
from bot.context import Context, EventContext
from bot.plugin import Plugin, Router
from bot.runtime import BotRuntime
from bot.testing import write_config
from tests.wechaty.fake_puppet import FakePuppet

ROOM = "room1@chatroom"


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for the gateway to see something (network, not simulated time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the gateway")
        await asyncio.sleep(0.01)


def test_plugin() -> Plugin[Any]:
    router = Router()

    @router.on_join
    async def welcome(ctx: EventContext[Any]) -> None:
        await ctx.post(f"欢迎 {ctx.member_name} 加入！")

    @router.on_leave
    async def farewell(ctx: EventContext[Any]) -> None:
        await ctx.post(f"{ctx.member_name} 离开了群聊")

    @router.command("tell_op", "告诉运营")
    async def tell_operator(ctx: Context[Any]) -> None:
        await ctx.dm("wxid_op", f"{ctx.sender_name} 说：{ctx.args}")

    @router.command("chart_op", "图表给运营")
    async def chart_to_operator(ctx: Context[Any]) -> None:  # as the digest sends its chart
        await ctx.dm("wxid_op", "附图", image_path=ctx.args)

    return Plugin(name="wechaty_test", title="测试", routers=[router])


async def start_live_bot(tmp_path: Path, fake: FakePuppet, plugins: dict[str, Any] | None = None,
               **outbox: Any) -> BotRuntime:
    config = {
        "bot": {"name": "小助手"},
        "adapter": "wechaty",
        "wechaty": {"endpoint": fake.endpoint, "token": "secret"},
        "operators": [{"id": "wxid_op"}],
        "groups": {ROOM: {"name": "读书会", "plugins": {
            "checkin": None, "wechaty_test": None, **(plugins or {})}}},
    }
    if outbox:
        config["outbox"] = {"group_jitter": ["0s", "0s"], "daily_cap": 1000, **outbox}
    from bot.config import load_config

    every_plugin = (*ALL, test_plugin())
    loaded = load_config(write_config(tmp_path, config), every_plugin, BUILTINS)
    adapter = WechatyAdapter(
        endpoint=fake.endpoint, token="secret", data_dir=tmp_path, reconnect_delays=(0.05,)
    )
    runtime = BotRuntime(
        loaded,
        every_plugin,
        BUILTINS,
        adapter,
        SystemClock(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    )
    await runtime.start()
    await adapter.ready(10)
    return runtime


