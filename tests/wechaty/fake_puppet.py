"""A fake puppet-service gateway on 127.0.0.1 that behaves like the real one.

wechaty-grpc generates only the client stub, so the server is a grpclib "servable": an
object whose __mapping__() maps route paths to handlers. Every route the stub knows is
answered (unknown ones with an empty response); the ones a bot uses behave like the
gateway in wechaty/puppet-service src/server/puppet-implementation.ts and
event-stream-manager.ts over a padlocal puppet:

- one event stream at a time (a second `Event` call fails with ALREADY_EXISTS); a new
  stream starts with a heartbeat, then `login` if the puppet is logged in, or the pending
  `scan`;
- `Start` starts the puppet and logs in (or asks for a QR scan); a second `Start` while
  started does nothing (state-switch in wechaty/puppet src/mixins/service-mixin.ts);
- `Stop` ends the event stream and the puppet's session: logged out, and the next
  `Start` logs in again. `logins` counts them, so a test sees any relogin;
- `Logout` emits `logout`, then a new QR code (puppet-padlocal src/puppet-padlocal.ts);
- `Ding` is answered with a `dong` event on the stream;
- it can stall (send nothing, keep TCP open) and leave chosen routes unanswered.
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

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server, Stream
from wechaty_grpc import wechaty as stubs
from wechaty_grpc.wechaty import puppet as pb

from tests.wechaty import fixtures as fx

TEXT_TYPE = 7  # the TypeScript puppet's numbering (shared/WECHATY.md)
_ROUTE = re.compile(r'"/wechaty\.Puppet/(\w+)"')
E = pb.EventType
_END = None  # put on a stream's queue: the gateway ends the stream


@dataclass
class FakeRoom:
    topic: str
    owner: str
    members: list[str]
    admins: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # 群昵称 per member


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
        self.calls: list[str] = []  # every route called, in order
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self.port = 0
        # the gateway's puppet
        self.started = False
        self.logged_in = False
        self.needs_scan = False  # Start asks for a QR scan instead of logging in
        self.logins = 0
        self.streams = 0  # event streams opened: one per (re)connection
        self._stream: asyncio.Queue[pb.EventResponse | None] | None = None
        self._scan: dict[str, Any] | None = None
        self.stalled = False
        self.unanswered: set[str] = set()  # routes that never answer

    # -- the world ----------------------------------------------------------------------

    def add_contact(self, contact_id: str, name: str) -> None:
        self.contacts[contact_id] = name

    def add_room(self, room_id: str, topic: str, owner: str, members: list[str],
                 admins: list[str] | None = None) -> None:
        self.rooms[room_id] = FakeRoom(topic, owner, [self.self_id, *members], admins or [])

    def say_in_room(self, room_id: str, sender: str, text: str,
                    mentions: tuple[str, ...] = (), message_id: str | None = None,
                    timestamp: int | None = None) -> str:
        """A member posts; mentioning puts '@name\u2005' in front, as WeChat does."""
        prefix = "".join(f"@{self._display(room_id, m)}\u2005" for m in mentions)
        return self.post(room_id, sender, TEXT_TYPE, prefix + text, mentions, message_id,
                         timestamp)

    def post(self, room_id: str, sender: str, type_number: int, text: str,
             mentions: tuple[str, ...] = (), message_id: str | None = None,
             timestamp: int | None = None, filename: str = "") -> str:
        """Any message as padlocal would pass it on (see tests/wechaty/fixtures.py)."""
        message_id = message_id or f"msg-{next(self._ids)}"
        if fx.ALL_MEMBERS in mentions:  # padlocal's announcement@all expansion
            mentions = tuple(self.rooms[room_id].members)
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id, text=text, filename=filename,
            timestamp=int(time.time()) if timestamp is None else timestamp,
            type=type_number, from_id=sender, room_id=room_id, mention_ids=list(mentions))
        self.emit(E.EVENT_TYPE_MESSAGE, {"messageId": message_id})
        return message_id

    def post_fixture(self, room_id: str, fixture: fx.MessageFixture, **kwargs: Any) -> str:
        return self.post(room_id, fixture.sender, fixture.type, fixture.text,
                         fixture.mention_ids, filename=fixture.filename, **kwargs)

    def join_room(self, room_id: str, invitees: list[str], inviter: str) -> None:
        self.rooms[room_id].members.extend(invitees)
        self.emit(E.EVENT_TYPE_ROOM_JOIN, {
            "roomId": room_id, "inviteeIdList": invitees, "inviterId": inviter,
            "timestamp": int(time.time())})

    def leave_room(self, room_id: str, leavers: list[str], remover: str = "") -> None:
        for member in leavers:
            self.rooms[room_id].members.remove(member)
        self.emit(E.EVENT_TYPE_ROOM_LEAVE, {
            "roomId": room_id, "removeeIdList": leavers, "removerId": remover or leavers[0],
            "timestamp": int(time.time())})

    def rename_room(self, room_id: str, topic: str, changer: str) -> None:
        """puppet-padlocal src/padlocal/events/event-room-topic.ts"""
        old, self.rooms[room_id].topic = self.rooms[room_id].topic, topic
        self.emit(E.EVENT_TYPE_ROOM_TOPIC, {
            "changerId": changer, "newTopic": topic, "oldTopic": old, "roomId": room_id,
            "timestamp": int(time.time())})

    def set_alias(self, room_id: str, member: str, alias: str) -> None:
        self.rooms[room_id].aliases[member] = alias

    def _display(self, room_id: str, member: str) -> str:
        room = self.rooms.get(room_id)
        alias = room.aliases.get(member) if room else None
        return alias or self.contacts.get(member, member)

    # -- the account --------------------------------------------------------------------

    def _log_in(self) -> None:
        self.logged_in, self._scan = True, None
        self.logins += 1
        self.emit(E.EVENT_TYPE_LOGIN, {"contactId": self.self_id})

    def ask_for_scan(self, payload: dict[str, Any] | None = None) -> None:
        self.logged_in = False
        self._scan = payload or fx.SCAN_WAITING
        self.emit(E.EVENT_TYPE_SCAN, self._scan)

    def confirm_scan(self) -> None:
        self.emit(E.EVENT_TYPE_SCAN, {"status": 4})
        self._log_in()

    def log_out(self, payload: dict[str, Any] | None = None) -> None:
        """WeChat ended the session (kicked out, or logged out on the phone)."""
        self.logged_in = False
        self.emit(E.EVENT_TYPE_LOGOUT, payload or fx.LOGOUT_KICKOUT)

    def emit(self, kind: pb.EventType | int, payload: dict[str, Any] | str) -> None:
        if self._stream is None or self.stalled:
            return  # like the gateway: "this.eventStream is undefined", dropped
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self._stream.put_nowait(pb.EventResponse(type=kind, payload=text))

    def stall(self) -> None:
        """Send nothing more (no heartbeat, no dong), keep the TCP connection open."""
        self.stalled = True

    def resume(self) -> None:
        self.stalled = False

    def end_stream(self) -> None:
        if self._stream is not None:
            self._stream.put_nowait(_END)

    # -- the server ---------------------------------------------------------------------

    async def start(self, port: int = 0) -> int:
        self._server = _DroppableServer([self])
        await self._server.start("127.0.0.1", port)
        self.port = self._server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def stop(self) -> None:
        """The gateway process dies: sockets close, and its puppet's session with it."""
        if self._server is not None:
            self._server.close()
            self._server.drop_connections()
            await self._server.wait_closed()
            self._server = None
        self.started = self.logged_in = False
        self._stream = None

    def drop_connections(self) -> None:
        """The network between bot and gateway breaks; the gateway keeps running."""
        if self._server is not None:
            self._server.drop_connections()

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
            mapping[f"/wechaty.Puppet/{name}"] = Handler(
                self._observed(name, method), cardinality, request, response)
        return mapping

    def _observed(self, name: str, method: Any) -> Any:
        async def handler(stream: Stream[Any, Any]) -> None:
            self.calls.append(name)
            if name in self.unanswered:
                await asyncio.Event().wait()  # until the client gives up
            await method(stream)

        return handler

    # -- routes ---------------------------------------------------------------------------

    async def rpc_Event(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        if self._stream is not None:
            raise GRPCError(Status.ALREADY_EXISTS, "GrpcServerImpl.event() can not call twice.")
        queue: asyncio.Queue[pb.EventResponse | None] = asyncio.Queue()
        self._stream = queue
        self.streams += 1
        try:
            self.emit(E.EVENT_TYPE_HEARTBEAT, fx.STREAM_OPEN_HEARTBEAT)
            if self.logged_in:
                self.emit(E.EVENT_TYPE_LOGIN, {"contactId": self.self_id})
            elif self._scan is not None:
                self.emit(E.EVENT_TYPE_SCAN, self._scan)
            while (event := await queue.get()) is not _END:
                await stream.send_message(event)
        finally:
            if self._stream is queue:
                self._stream = None

    async def rpc_Start(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        if not self.started:
            self.started = True
            if self.needs_scan:
                self.ask_for_scan()
            else:
                self._log_in()
        await stream.send_message(pb.StartResponse())

    async def rpc_Stop(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        self.end_stream()  # eventStreamManager.stop(), then puppet.stop(): session over
        self.started = self.logged_in = False
        await stream.send_message(pb.StopResponse())

    async def rpc_Logout(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        if self.logged_in:
            self.log_out({"contactId": self.self_id, "data": "logout by self"})
            self.ask_for_scan()  # padlocal restarts its client: a new QR code
        await stream.send_message(pb.LogoutResponse())

    async def rpc_Ding(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        self.emit(E.EVENT_TYPE_DONG, {"data": "Everything is ok"})
        await stream.send_message(pb.DingResponse())

    async def rpc_ContactPayload(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        await stream.send_message(pb.ContactPayloadResponse(
            id=request.id, name=self.contacts.get(request.id, request.id), type=1, friend=True))

    async def rpc_MessagePayload(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        await stream.send_message(self.messages.get(request.id, pb.MessagePayloadResponse()))

    async def rpc_RoomPayload(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        room = self.rooms.get(request.id)
        if room is None:
            raise GRPCError(Status.UNKNOWN, f"room {request.id} not found")
        await stream.send_message(pb.RoomPayloadResponse(
            id=request.id, topic=room.topic, owner_id=room.owner, admin_ids=room.admins,
            member_ids=room.members))

    async def rpc_RoomMemberPayload(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        room = self.rooms.get(request.id)
        alias = room.aliases.get(request.member_id, "") if room else ""
        await stream.send_message(pb.RoomMemberPayloadResponse(
            id=request.member_id, name=self.contacts.get(request.member_id, ""),
            room_alias=alias))

    async def rpc_RoomMemberList(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        await stream.send_message(pb.RoomMemberListResponse(
            member_ids=self.rooms[request.id].members))

    async def rpc_RoomList(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        if not self.logged_in:
            raise GRPCError(Status.UNKNOWN, "not logged in")
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
        self.transports.clear()


def _empty(response: type[Any]) -> Any:
    async def answer(stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        await stream.send_message(response())

    return answer
