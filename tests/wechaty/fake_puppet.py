"""A fake puppet-service gateway on 127.0.0.1: the real Wechaty client talks gRPC to it.

wechaty-grpc generates only the client stub, so the server is a grpclib "servable": an
object whose __mapping__() maps route paths to handlers. Every route the stub knows is
answered (unknown ones with an empty response); the ones a bot uses behave like WeChat.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from grpclib.const import Cardinality, Handler
from grpclib.server import Server, Stream
from wechaty_grpc import wechaty as stubs
from wechaty_grpc.wechaty import puppet as pb

TEXT_TYPE = 7  # the TypeScript puppet's numbering (shared/WECHATY.md)
_ROUTE = re.compile(r'"/wechaty\.Puppet/(\w+)"')


@dataclass
class FakeRoom:
    topic: str
    owner: str
    members: list[str]
    admins: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SentText:
    conversation_id: str
    text: str
    mentions: tuple[str, ...]
    at: float  # time.monotonic() when the server received it


class FakePuppet:
    def __init__(self, self_id: str = "wxid_bot", self_name: str = "小助手") -> None:
        self.self_id = self_id
        self.contacts: dict[str, str] = {self_id: self_name}
        self.rooms: dict[str, FakeRoom] = {}
        self.messages: dict[str, pb.MessagePayloadResponse] = {}
        self.sent: list[SentText] = []
        self.files: list[tuple[str, dict[str, Any]]] = []  # (conversation, FileBox JSON)
        self.removed: list[tuple[str, str]] = []
        self._events: asyncio.Queue[pb.EventResponse] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self.port = 0
        self.streams = 0  # event streams opened: one per (re)connection

    # -- the world ----------------------------------------------------------------------

    def add_contact(self, contact_id: str, name: str) -> None:
        self.contacts[contact_id] = name

    def add_room(self, room_id: str, topic: str, owner: str, members: list[str],
                 admins: list[str] | None = None) -> None:
        self.rooms[room_id] = FakeRoom(topic, owner, [self.self_id, *members], admins or [])

    def say_in_room(self, room_id: str, sender: str, text: str,
                    mentions: tuple[str, ...] = (), message_id: str | None = None) -> str:
        """A member posts; mentioning the bot puts '@name\u2005' in front, as WeChat does."""
        message_id = message_id or f"msg-{next(self._ids)}"
        prefix = "".join(f"@{self.contacts[m]}\u2005" for m in mentions)
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id, text=prefix + text, timestamp=int(time.time()), type=TEXT_TYPE,
            from_id=sender, room_id=room_id, mention_ids=list(mentions))
        self._push(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})
        return message_id

    def join_room(self, room_id: str, invitees: list[str], inviter: str) -> None:
        self.rooms[room_id].members.extend(invitees)
        self._push(pb.EventType.EVENT_TYPE_ROOM_JOIN, {
            "roomId": room_id, "inviteeIdList": invitees, "inviterId": inviter,
            "timestamp": int(time.time())})

    def leave_room(self, room_id: str, leavers: list[str], remover: str = "") -> None:
        for member in leavers:
            self.rooms[room_id].members.remove(member)
        self._push(pb.EventType.EVENT_TYPE_ROOM_LEAVE, {
            "roomId": room_id, "removeeIdList": leavers, "removerId": remover or leavers[0],
            "timestamp": int(time.time())})

    def _push(self, kind: pb.EventType, payload: dict[str, Any]) -> None:
        self._events.put_nowait(pb.EventResponse(type=kind, payload=json.dumps(payload)))

    # -- the server ---------------------------------------------------------------------

    async def start(self, port: int = 0) -> int:
        self._server = _DroppableServer([self])
        await self._server.start("127.0.0.1", port)
        self.port = self._server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def stop(self) -> None:
        """Drop the gateway: listening socket and open streams close."""
        if self._server is not None:
            self._server.close()
            self._server.drop_connections()  # like a crashed gateway: TCP goes away
            await self._server.wait_closed()
            self._server = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __mapping__(self) -> dict[str, Handler]:
        mapping: dict[str, Handler] = {}
        for name in _ROUTE.findall(inspect.getsource(stubs.PuppetStub)):
            request = getattr(pb, f"{name}Request", None)
            response = getattr(pb, f"{name}Response", None)
            if request is None or response is None:
                continue
            method = getattr(self, f"rpc_{name}", None) or _empty(response)
            cardinality = Cardinality.UNARY_STREAM if name == "Event" else Cardinality.UNARY_UNARY
            mapping[f"/wechaty.Puppet/{name}"] = Handler(method, cardinality, request, response)
        return mapping

    # -- routes ---------------------------------------------------------------------------

    async def rpc_Event(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        self.streams += 1
        await stream.send_message(pb.EventResponse(
            type=pb.EventType.EVENT_TYPE_LOGIN, payload=json.dumps({"contactId": self.self_id})))
        while True:
            await stream.send_message(await self._events.get())

    async def rpc_ContactPayload(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        await stream.send_message(pb.ContactPayloadResponse(
            id=request.id, name=self.contacts.get(request.id, request.id), type=1, friend=True))

    async def rpc_MessagePayload(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        await stream.send_message(self.messages.get(request.id, pb.MessagePayloadResponse()))

    async def rpc_RoomPayload(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        room = self.rooms[request.id]
        await stream.send_message(pb.RoomPayloadResponse(
            id=request.id, topic=room.topic, owner_id=room.owner, admin_ids=room.admins,
            member_ids=room.members))

    async def rpc_RoomMemberPayload(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        await stream.send_message(pb.RoomMemberPayloadResponse(
            id=request.member_id, name=self.contacts.get(request.member_id, "")))

    async def rpc_RoomMemberList(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        await stream.send_message(pb.RoomMemberListResponse(
            member_ids=self.rooms[request.id].members))

    async def rpc_RoomList(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        await stream.send_message(pb.RoomListResponse(ids=list(self.rooms)))

    async def rpc_ContactList(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        await stream.send_message(pb.ContactListResponse(ids=list(self.contacts)))

    async def rpc_RoomDel(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        self.removed.append((request.id, request.contact_id))
        await stream.send_message(pb.RoomDelResponse())

    async def rpc_MessageSendText(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        self.sent.append(SentText(request.conversation_id, request.text,
                                  tuple(request.mentonal_ids), time.monotonic()))
        message_id = f"sent-{next(self._ids)}"
        room = request.conversation_id if request.conversation_id in self.rooms else ""
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id, text=request.text, timestamp=int(time.time()), type=TEXT_TYPE,
            from_id=self.self_id, room_id=room,
            to_id="" if room else request.conversation_id)
        await stream.send_message(pb.MessageSendTextResponse(id=message_id))


    async def rpc_MessageSendFile(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        self.files.append((request.conversation_id, json.loads(request.filebox)))
        await stream.send_message(pb.MessageSendFileResponse(id=f"sent-{next(self._ids)}"))


class _DroppableServer(Server):
    """grpclib's close() keeps open connections; a crashed gateway would not."""

    def __init__(self, handlers: list[Any]) -> None:
        super().__init__(handlers)
        self.transports: list[Any] = []

    def _protocol_factory(self) -> Any:
        protocol = super()._protocol_factory()
        made = protocol.connection_made

        def remember(transport: Any) -> None:
            self.transports.append(transport)
            made(transport)

        protocol.connection_made = remember
        return protocol

    def drop_connections(self) -> None:
        for transport in self.transports:
            transport.close()


def _empty(response: type[Any]) -> Any:
    async def answer(stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        await stream.send_message(response())

    return answer
