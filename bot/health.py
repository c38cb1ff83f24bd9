"""`GET /healthz` on a local port, for Docker's HEALTHCHECK, systemd and monitors.

Answers 200 with the bot's state while it is working, 503 when it is not: the adapter
stopped, or the WeChat account is logged out. Off unless `health: {enabled: true}`.
A few lines of asyncio rather than a web framework: one route, no dependencies.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

log = logging.getLogger("bot.health")


@dataclass(frozen=True)
class Health:
    adapter: str
    running: bool  # the adapter's task is alive
    logged_in: bool | None  # None: the platform has no login (the console)
    last_event_at: datetime | None
    outbox_pending: int
    outbox_held: bool
    last_job_at: datetime | None
    # Several accounts (issue 18): this process's account and the rooms it serves now
    # (None: it serves every room).
    account: str | None = None
    rooms_served: int | None = None

    @property
    def working(self) -> bool:
        return self.running and self.logged_in is not False and not self.outbox_held

    def as_json(self) -> bytes:
        fields = {k: v.isoformat() if isinstance(v, datetime) else v
                  for k, v in asdict(self).items()}
        return json.dumps({"status": "ok" if self.working else "down", **fields}).encode()


class HealthServer:
    def __init__(self, read: Callable[[], Health], host: str, port: int) -> None:
        self.read, self.host, self.port = read, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._answer, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health endpoint on http://%s:%d/healthz", self.host, self.port)
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            method, path, *_ = [*request.decode("latin-1").split(), "", ""]
            if method in ("GET", "HEAD") and path.split("?")[0] == "/healthz":
                health = self.read()
                status = "200 OK" if health.working else "503 Service Unavailable"
                body = health.as_json()
            else:
                status, body = "404 Not Found", b'{"error": "not found"}'
            head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
            writer.write(head.encode() + (b"" if method == "HEAD" else body))
            await writer.drain()
        except (TimeoutError, ConnectionError, UnicodeDecodeError):
            pass
        finally:
            writer.close()
