"""One bot process for one account, as `bot run --account NAME` runs it, with two test
plugins beside the installed ones (issue 18's end-to-end tests start two of these).

    python -m tests.wechaty.account_process CONFIG ACCOUNT DATABASE_URL

It prints "running" once its account is logged in at the gateway, and exits 2 with the
instance guard's message when another process runs the account.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.app import BUILTINS, RunOptions, build, until_stopped
from bot.app import PLUGINS as ALL
from bot.config import load_config
from bot.context import JobContext
from bot.instance import InstanceBusy
from bot.plugin import Job, Plugin, Schedule
from tests.wechaty.live import test_plugin


class TickSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at: str = "00:00:00"  # HH:MM:SS in the group's timezone


async def tick(ctx: JobContext[Any]) -> None:
    await ctx.post(f"定时消息 {ctx.local_now:%H:%M:%S}")


def _at(settings: TickSettings) -> list[Schedule]:
    hour, minute, second = (int(part) for part in settings.at.split(":"))
    return [Schedule(key="daily", at=time(hour, minute, second))]


TICK = Plugin(name="tick_test", title="定时测试", settings=TickSettings,
              jobs=[Job("daily", tick, _at)])
PLUGINS = (*ALL, test_plugin(), TICK)


async def main(config_path: str, account: str, database_url: str) -> int:
    config = load_config(Path(config_path), PLUGINS, BUILTINS)
    runtime = build(config, RunOptions(account=account, database_url=database_url), PLUGINS)
    try:
        await runtime.start()
    except InstanceBusy as busy:
        print(busy, file=sys.stderr, flush=True)
        return 2
    try:
        await runtime.adapter.ready(20)
        print("running", flush=True)
        await until_stopped(runtime.wait())
    finally:
        await runtime.stop()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("grpclib", "wechaty", "wechaty_puppet", "wechaty_puppet_service",
                  "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("bot.leases").setLevel(logging.DEBUG)
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
