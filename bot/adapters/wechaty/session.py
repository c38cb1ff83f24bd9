"""One gRPC channel to a puppet-service gateway, through python-wechaty's puppet-service client.

The client as shipped ends the WeChat session on every connect: its `start()` sends `Stop`
then `Start`, and on the gateway `Stop` ends the puppet's session and closes the event
stream (wechaty/puppet-service src/server/puppet-implementation.ts). Its `stop()` sends
`Stop` too, and its `message_payload()` indexes a 16-entry type table, so Post (16) and
System (18) raise "list index out of range". This subclass keeps the client's calls and
changes those three: connecting sends `Start` only (the gateway's puppet ignores a second
start), closing just closes the channel, and payloads keep the wire's type number for
bot/adapters/wechaty/payloads.py. Logging out is `logout()`, for `bot logout` alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from grpclib.client import Channel
from wechaty_grpc.wechaty import PuppetStub
from wechaty_grpc.wechaty import puppet as pb
from wechaty_puppet import PuppetOptions
from wechaty_puppet_service import PuppetService

T = TypeVar("T")

START_TIMEOUT = 20.0  # the gateway gives its puppet 15 s to start


class GatewayTimeout(Exception):
    """A gateway call got no answer in time."""


class SessionPuppet(PuppetService):  # type: ignore[misc]
    def __init__(self, endpoint: str, token: str) -> None:
        # A fresh PuppetOptions every time: the SDK's default instance is shared and mutated.
        super().__init__(PuppetOptions(end_point=endpoint, token=token))

    def _init_puppet(self) -> None:
        # The SDK's version pings with a blocking telnet and may ask an internet discovery
        # service; the adapter has already probed the endpoint.
        host, _, port = self.options.end_point.rpartition(":")
        self.channel = Channel(host=host or "127.0.0.1", port=int(port))
        self.channel._authority = self.options.token  # how puppet-service sends the token
        self._puppet_stub = PuppetStub(self.channel)

    async def start(self) -> None:
        """Only `Start`: never `Stop`, which would end the account's WeChat session."""
        if self._puppet_stub is None:
            self._init_puppet()
        await self.puppet_stub.start()

    async def stop(self) -> None:
        """Close the channel (the gateway sees the event stream end); no `Stop` RPC."""
        self._event_stream.remove_all_listeners()
        self._puppet_stub = None
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    async def message_payload(self, message_id: str) -> pb.MessagePayloadResponse:
        """The payload with its wire type number (the SDK's table stops at 15)."""
        return await self.puppet_stub.message_payload(id=message_id)

    def events(self) -> AsyncIterator[pb.EventResponse]:
        return self.puppet_stub.event()


class Session:
    """A channel plus a timeout on every unary call."""

    def __init__(self, endpoint: str, token: str, call_timeout: float) -> None:
        self.puppet = SessionPuppet(endpoint, token)
        self.puppet._init_puppet()
        self.call_timeout = call_timeout

    async def call(self, what: str, request: Awaitable[T], timeout: float | None = None) -> T:
        limit = timeout or self.call_timeout
        try:
            return await asyncio.wait_for(request, limit)
        except TimeoutError:
            raise GatewayTimeout(f"{what}: no answer from the gateway within {limit:g} s") from None

    async def start(self) -> None:
        await self.call("Start", self.puppet.start(), max(self.call_timeout, START_TIMEOUT))

    async def close(self) -> None:
        await self.puppet.stop()

    def events(self) -> AsyncIterator[pb.EventResponse]:
        return self.puppet.events()

    @property
    def stub(self) -> Any:
        return self.puppet.puppet_stub
