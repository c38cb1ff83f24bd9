"""Serving the console in the bot's own event loop, beside the adapter (`bot run`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import uvicorn

from bot.web.app import create_app

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

log = logging.getLogger("bot.web")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The bot handles SIGTERM/SIGINT itself (bot/app.py until_stopped) and stops us.
        yield


class WebConsole:
    def __init__(self, runtime: BotRuntime) -> None:
        settings = runtime.config.config.web
        config = uvicorn.Config(create_app(runtime), host=settings.host, port=settings.port,
                                lifespan="off", log_level="warning", access_log=False,
                                proxy_headers=True, server_header=False)
        self.server = _Server(config)
        self.runtime = runtime
        self.task: asyncio.Task[None] | None = None
        self.warming: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(), name="web-console")
        while not self.server.started and not self.task.done():
            await asyncio.sleep(0.01)
        if self.task.done():  # could not bind: say why and go on without it
            self.task.result()
        log.info("web console on http://%s:%s", self.server.config.host, self.port)
        self.warming = asyncio.create_task(self._warm(), name="web-console-warm-up")

    async def _warm(self) -> None:
        """The overview's finished days for every group, computed once before anyone asks
        (the first view of 2,000 groups would otherwise wait for them)."""
        from bot.web import queries

        app = self.server.config.app
        try:
            await queries.overview(self.runtime, list(self.runtime.config.groups.values()),
                                   app.state.console.closed_days)
        except Exception:  # only a warm-up: the page computes them when opened
            log.warning("could not warm the console's overview", exc_info=True)

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self.server.config.port)

    async def stop(self) -> None:
        if self.warming is not None:
            self.warming.cancel()
        if self.task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
