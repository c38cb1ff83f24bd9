"""WeChat groups through python-wechaty 0.10.7 (a puppet-service gateway over gRPC).

The SDK swallows handler errors, sleeps a minute before reconnecting, and stops the event
loop on configuration errors (shared/WECHATY.md). So this adapter probes the endpoint
itself, runs its own client start (errors surface here), and supervises the connection:
when the gateway drops, a fresh client connects again after a short backoff. Message ids
already handled are dropped by the SDK's process-wide id set (and again by the core).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.adapters.base import AdapterError, EventSink, SendError
from bot.adapters.wechaty import compat
from bot.events import (
    Capabilities,
    GroupInfo,
    IncomingMessage,
    MemberJoined,
    MemberLeft,
    MessageKind,
    Outgoing,
    Sent,
)

log = logging.getLogger("bot.adapters.wechaty")

RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class WechatyAdapter:
    name = "wechaty"
    capabilities = Capabilities(remove_member=True, send_image=True, direct_message=True)

    def __init__(self, *, endpoint: str, token: str, data_dir: Path, port: int | None = None,
                 reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
                 probe_timeout: float = 3.0) -> None:
        if not endpoint:
            raise AdapterError("the wechaty adapter needs an endpoint (host:port)")
        if not token:
            raise AdapterError("the wechaty adapter needs a non-empty token")
        self.endpoint, self.token, self.data_dir = endpoint, token, Path(data_dir)
        self.port, self.reconnect_delays, self.probe_timeout = port, reconnect_delays, probe_timeout
        self._client: Any = None
        self._sink: EventSink | None = None
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.logged_in = asyncio.Event()
        self.connections = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        compat.apply(self.data_dir / "wechaty-cache")
        compat.check()
        _forget_process_state(message_ids=True)
        await self._probe()
        self._sink = sink
        failures = 0
        while not self._closing:
            await self._connect_once()
            if self._closing:
                break
            failures = 0 if self.logged_in.is_set() else failures + 1
            delay = self.reconnect_delays[min(failures, len(self.reconnect_delays) - 1)]
            log.warning("wechaty: connection to %s lost; reconnecting in %.1f s",
                        self.endpoint, delay)
            self.logged_in.clear()
            await asyncio.sleep(delay)

    async def _connect_once(self) -> None:
        from bot.adapters.wechaty.client import make_client

        _forget_process_state(message_ids=False)  # payload caches hold the old connection
        self._client = make_client(self, self.endpoint, self.token, self.port or _free_port())
        self.connections += 1
        self._task = asyncio.create_task(self._client.start())
        try:
            await self._task
        except asyncio.CancelledError:
            if not self._closing:
                raise
        except Exception as exc:  # the gateway went away, or the stream broke
            log.warning("wechaty: %s", exc or type(exc).__name__)
        finally:
            await self._stop_client()

    async def _stop_client(self) -> None:
        client, self._client = self._client, None
        if client is None or client._puppet is None:
            return
        try:
            await client.stop()
        except Exception:
            log.debug("wechaty: error while stopping the old client", exc_info=True)

    async def close(self) -> None:
        # Cancel the running start() first, then stop: the other order logs a network
        # error and sleeps 60 s (shared/WECHATY.md).
        self._closing = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._stop_client()

    async def ready(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.logged_in.wait(), timeout)
        except TimeoutError:
            raise AdapterError(f"no login from the gateway at {self.endpoint} within "
                               f"{timeout:.0f} s") from None

    async def _probe(self) -> None:
        host, _, port = self.endpoint.rpartition(":")
        try:
            reader = asyncio.open_connection(host or "127.0.0.1", int(port))
            _, writer = await asyncio.wait_for(reader, self.probe_timeout)
        except (OSError, ValueError, TimeoutError) as exc:
            raise AdapterError(
                f"cannot reach the puppet-service gateway at {self.endpoint} ({exc}); check "
                "wechaty.endpoint (host:port) and that the gateway is running") from None
        writer.close()

    # -- events from the SDK ----------------------------------------------------------------

    async def on_message(self, msg: Any) -> None:
        try:
            room = msg.room()
            if room is None or self._sink is None:
                return  # only group messages reach the plugins
            talker = msg.talker()
            mentions_bot = await msg.mention_self()
            text = await msg.mention_text() if mentions_bot else msg.text()
            event = IncomingMessage(
                id=msg.message_id, group_id=room.room_id, sender_id=talker.contact_id,
                sender_name=talker.name or talker.contact_id, text=text or "",
                at=datetime.now(UTC), mentions_bot=mentions_bot,
                mention_ids=tuple(msg.payload.mention_ids or ()), kind=_kind(msg.type()),
                from_self=msg.is_self())
            await self._sink(event)
        except Exception:  # the SDK would only log "internal error"
            log.exception("wechaty: could not handle message %s", getattr(msg, "message_id", "?"))

    async def on_room_join(self, room: Any, invitees: list[Any], inviter: Any) -> None:
        for contact in invitees:
            await self._deliver(MemberJoined(
                group_id=room.room_id, member_id=contact.contact_id,
                member_name=contact.name or contact.contact_id, at=datetime.now(UTC),
                inviter_id=getattr(inviter, "contact_id", None)))

    async def on_room_leave(self, room: Any, leavers: list[Any], remover: Any) -> None:
        for contact in leavers:
            await self._deliver(MemberLeft(
                group_id=room.room_id, member_id=contact.contact_id,
                member_name=contact.name or "", at=datetime.now(UTC),
                remover_id=getattr(remover, "contact_id", None)))

    async def _deliver(self, event: MemberJoined | MemberLeft) -> None:
        if self._sink is None:
            return
        try:
            await self._sink(event)
        except Exception:
            log.exception("wechaty: could not handle %r", event)

    # -- actions ----------------------------------------------------------------------------

    def _connected(self) -> Any:
        if self._client is None or not self.logged_in.is_set():
            raise SendError("not connected to the WeChat gateway")
        return self._client

    async def send(self, message: Outgoing) -> Sent:
        client = self._connected()
        try:
            if message.group_id:
                target = client.Room.load(message.group_id)
                sent = await target.say(message.text, mention_ids=list(message.mentions))
            else:
                target = client.Contact.load(message.to)
                await target.ready()
                sent = await target.say(message.text)
            if message.image_path:
                from wechaty import FileBox

                await target.say(FileBox.from_file(message.image_path))
        except SendError:
            raise
        except Exception as exc:
            raise SendError(f"wechaty send failed: {exc!r}") from exc
        return Sent(message_id=getattr(sent, "message_id", None))

    async def group_info(self, group_id: str) -> GroupInfo | None:
        if self._client is None:
            return None
        room = self._client.Room.load(group_id)
        await room.ready()
        payload = room.payload
        return GroupInfo(id=group_id, name=payload.topic or group_id,
                         owner_id=payload.owner_id or None,
                         admin_ids=tuple(payload.admin_ids or ()),
                         member_count=len(payload.member_ids or ()))

    async def list_groups(self) -> list[GroupInfo]:
        client = self._connected()
        ids = await client.puppet.room_list()
        return [info for room_id in ids if (info := await self.group_info(room_id))]

    async def remove_member(self, group_id: str, member_id: str) -> None:
        client = self._connected()
        room = client.Room.load(group_id)
        await room.delete(client.Contact.load(member_id))


def _kind(message_type: Any) -> MessageKind:
    name = getattr(message_type, "name", str(message_type))
    for suffix, kind in (("TEXT", MessageKind.TEXT), ("IMAGE", MessageKind.IMAGE),
                         ("EMOTICON", MessageKind.STICKER), ("URL", MessageKind.LINK),
                         ("CONTACT", MessageKind.CARD),
                         ("MINI_PROGRAM", MessageKind.MINI_PROGRAM)):
        if name.endswith(suffix):
            return kind
    return MessageKind.UNKNOWN


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _forget_process_state(*, message_ids: bool) -> None:
    """The SDK caches contacts, rooms and handled message ids process-wide."""
    from wechaty.user.contact import Contact
    from wechaty.user.message import Message
    from wechaty.user.room import Room
    from wechaty.utils.async_helper import SingleIdContainer

    for cls in (Contact, Room, Message):
        pool = getattr(cls, "_pool", None)
        if pool is not None:
            pool.clear()
    if message_ids:
        SingleIdContainer._instance = None
