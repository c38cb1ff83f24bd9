"""WeChat groups through a puppet-service gateway (python-wechaty's puppet-service client).

One WeChat session for the life of the gateway (issue 11): connecting, reconnecting and
closing never send `Stop` (session.py). The adapter reads the gateway's event stream
itself: every event keeps the connection alive, error events of both shapes are logged and
skipped, and a stream that stays silent (no event, no heartbeat, no answer to our own
`Ding`) for `stall_after` seconds is dropped and opened again — the account stays logged
in. Every platform call has a timeout. Events are handled in arrival order by one worker,
so a slow lookup never stops the stream from being read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.adapters.base import AdapterError, EventSink, SendError
from bot.adapters.wechaty import compat, payloads
from bot.adapters.wechaty import state as recorded
from bot.events import (
    BotRemoved,
    Capabilities,
    Event,
    GroupInfo,
    GroupRenamed,
    IncomingMessage,
    LoginChanged,
    MemberJoined,
    MemberLeft,
    MessageKind,
    Notice,
    Outgoing,
    Sent,
)
from bot.text import with_mentions

log = logging.getLogger("bot.adapters.wechaty")

RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
MEMBER_CACHE_SECONDS = 600.0  # group nicknames change rarely; a rename shows within this
NOTICE_KINDS = (MessageKind.SYSTEM, MessageKind.PAT, MessageKind.RECALL)

# EventType numbers of wechaty-grpc (puppet.proto)
HEARTBEAT, MESSAGE, DONG, ERROR = 1, 2, 3, 16
FRIENDSHIP, ROOM_INVITE, ROOM_JOIN, ROOM_LEAVE, ROOM_TOPIC = 17, 18, 19, 20, 21
SCAN, READY, RESET, LOGIN, LOGOUT, DIRTY = 22, 23, 24, 25, 26, 27
_QUIET_EVENTS = {FRIENDSHIP, ROOM_INVITE, READY, RESET}
_SCAN_STATUS = {0: "unknown", 1: "cancelled", 2: "waiting", 3: "scanned", 4: "confirmed",
                5: "expired"}


class _Stalled(Exception):
    pass


class WechatyAdapter:
    name = "wechaty"
    capabilities = Capabilities(remove_member=True, send_image=True, direct_message=True)

    def __init__(self, *, endpoint: str, token: str, data_dir: Path, port: int | None = None,
                 reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
                 probe_timeout: float = 3.0, call_timeout: float = 10.0,
                 probe_every: float = 30.0, stall_after: float = 90.0) -> None:
        if not endpoint:
            raise AdapterError("the wechaty adapter needs an endpoint (host:port)")
        if not token:
            raise AdapterError("the wechaty adapter needs a non-empty token")
        del port  # the SDK's plugin web server is no longer started
        self.endpoint, self.token, self.data_dir = endpoint, token, Path(data_dir)
        self.reconnect_delays, self.probe_timeout = reconnect_delays, probe_timeout
        self.call_timeout, self.probe_every, self.stall_after = (
            call_timeout, probe_every, stall_after)
        self._session: Any = None
        self._sink: EventSink | None = None
        self._closing = False
        self._queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        self._last_seen = 0.0
        self.logged_in = asyncio.Event()  # connected, and the account is logged in
        self.connections = 0
        self.self_id: str | None = None
        self._self_name = ""
        self._account_online: bool | None = None  # what LoginChanged last said
        self._rooms: dict[str, Any] = {}
        self._members: dict[tuple[str, str], tuple[float, Any]] = {}
        self._left_rooms: set[str] = set()
        self._logged_once: set[str] = set()
        self._login_count = 0  # LOGIN events seen (a reconnect that sees one was healthy)
        self._background: set[asyncio.Task[None]] = set()
        self._state = recorded.AdapterState.new(endpoint)

    # -- lifecycle ------------------------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        compat.apply(self.data_dir / "wechaty-cache")
        compat.check()
        await self._probe()
        self._sink = sink
        self._write_state()
        worker = asyncio.create_task(self._work(), name="wechaty-events")
        failures = 0
        try:
            while not self._closing:
                seen_login = await self._connect_once()
                if self._closing:
                    break
                failures = 0 if seen_login else failures + 1
                delay = self.reconnect_delays[min(failures, len(self.reconnect_delays) - 1)]
                log.warning("wechaty: connection to %s lost; reconnecting in %.1f s (the "
                            "WeChat session stays logged in)", self.endpoint, delay)
                await asyncio.sleep(delay)
        finally:
            for task in (worker, *self._background):
                task.cancel()
            await asyncio.gather(worker, *self._background, return_exceptions=True)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _connect_once(self) -> bool:
        """One connection, until the stream ends, breaks or stalls. True if it logged in."""
        from bot.adapters.wechaty.session import Session

        session = Session(self.endpoint, self.token, self.call_timeout)
        self._session = session
        self.connections += 1
        self._rooms.clear()
        self._members.clear()
        self._last_seen = time.monotonic()
        logins_before = self._login_count
        tasks = [asyncio.create_task(self._read(session), name="wechaty-stream"),
                 asyncio.create_task(self._watch(session), name="wechaty-watchdog")]
        starter = asyncio.create_task(self._start(session), name="wechaty-start")
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if (exc := task.exception()) is not None and not self._closing:
                    log.warning("wechaty: %s", _describe(exc))
        finally:
            for task in (*tasks, starter):
                task.cancel()
            await asyncio.gather(*tasks, starter, return_exceptions=True)
            self.logged_in.clear()
            self._session = None
            await session.close()
        return self._login_count > logins_before

    async def _start(self, session: Any) -> None:
        try:
            await session.start()
        except Exception as exc:  # the stream tells whether the puppet came up anyway
            log.warning("wechaty: the gateway's Start failed: %s", _describe(exc))

    async def close(self) -> None:
        """Closes the channel; the gateway's puppet stays logged in (no `Stop`)."""
        self._closing = True
        session = self._session
        if session is not None:
            await session.close()
        self._state.stopped = True
        self._write_state()

    async def ready(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.logged_in.wait(), timeout)
        except TimeoutError:
            raise AdapterError(f"no login from the gateway at {self.endpoint} within "
                               f"{timeout:.0f} s") from None

    async def _probe(self) -> None:
        await probe_endpoint(self.endpoint, self.probe_timeout)

    # -- the stream -----------------------------------------------------------------------

    async def _read(self, session: Any) -> None:
        async for response in session.events():
            self._last_seen = time.monotonic()
            kind = int(response.type)
            try:
                payload = json.loads(response.payload or "{}")
            except ValueError:
                self._once(f"json-{kind}", "wechaty: event %s with a payload that is not JSON: "
                           "skipped", kind)
                continue
            if not isinstance(payload, dict):
                payload = {"data": payload}
            self._on_event(kind, payload)
        log.warning("wechaty: the gateway closed the event stream")

    def _on_event(self, kind: int, payload: dict[str, Any]) -> None:
        if kind in (HEARTBEAT, DONG):
            return  # liveness only (_last_seen); the SDK listens for "heart-beat" and misses it
        if kind == ERROR:
            # wechaty-puppet 1.x sends {"gerror": …}; older puppets {"data": …}
            detail = payload.get("gerror") or payload.get("data") or payload
            log.warning("wechaty: the gateway reports an error (connection kept): %s", detail)
            return
        if kind == DIRTY:
            self._forget(str(payload.get("payloadId", "")))
            return
        if kind == LOGIN:
            self._login_count += 1
        if kind in (MESSAGE, ROOM_JOIN, ROOM_LEAVE, ROOM_TOPIC, LOGIN, LOGOUT, SCAN):
            self._queue.put_nowait((kind, payload))
        elif kind in _QUIET_EVENTS:
            log.debug("wechaty: event %s %s", kind, payload)
        else:
            self._once(f"event-{kind}", "wechaty: unknown event type %s from the gateway: "
                       "skipped (logged once)", kind)

    async def _watch(self, session: Any) -> None:
        """Raise _Stalled when the stream stays silent; probe with `Ding` before that."""
        tick = max(0.01, min(self.probe_every, self.stall_after) / 4)
        probe: asyncio.Task[Any] | None = None
        while True:
            await asyncio.sleep(tick)
            idle = time.monotonic() - self._last_seen
            if idle >= self.stall_after:
                if probe is not None:
                    probe.cancel()
                raise _Stalled(f"nothing from the gateway for {idle:.0f} s (not even a "
                               "heartbeat or an answer to Ding); reconnecting without a relogin")
            if idle >= self.probe_every and (probe is None or probe.done()):
                # The gateway's puppet answers Ding with a `dong` event on the stream.
                probe = asyncio.create_task(self._ding(session))

    async def _ding(self, session: Any) -> None:
        with contextlib.suppress(Exception):
            await session.call("Ding", session.stub.ding(data="qunbot"))

    async def _work(self) -> None:
        while True:
            kind, payload = await self._queue.get()
            try:
                await self._handle(kind, payload)
            except Exception:
                log.exception("wechaty: could not handle event %s %s", kind, payload)

    async def _handle(self, kind: int, payload: dict[str, Any]) -> None:
        if kind == MESSAGE:
            await self._message(str(payload.get("messageId", "")))
        elif kind == LOGIN:
            await self._login(str(payload.get("contactId", "")))
        elif kind == LOGOUT:
            await self._logout(str(payload.get("data") or ""))
        elif kind == SCAN:
            await self._scan(payload)
        elif kind == ROOM_JOIN:
            await self._room_join(payload)
        elif kind == ROOM_LEAVE:
            await self._room_leave(payload)
        elif kind == ROOM_TOPIC:
            await self._room_topic(payload)

    # -- login state ----------------------------------------------------------------------

    async def _login(self, account_id: str) -> None:
        same = account_id == self.self_id and self._account_online
        self.self_id = account_id
        self._self_name = await self._contact_name(account_id) or self._self_name
        self.logged_in.set()
        if same:
            log.info("wechaty: reconnected to the gateway; same WeChat session (%s)", account_id)
        else:
            log.warning("wechaty: logged in to WeChat as %s (%s)", self._self_name or "?",
                        account_id)
            await self._login_changed(True, account_id=account_id)
        self._state.logged_in, self._state.account_id = True, account_id
        self._write_state()
        self._spawn(self._record_rooms())

    async def _logout(self, reason: str) -> None:
        self.logged_in.clear()
        log.warning("wechaty: the WeChat account was LOGGED OUT (%s). The bot holds its "
                    "messages until it is logged in again; a QR code to scan will follow.",
                    reason or "no reason given")
        await self._login_changed(False, reason=reason or "logged out")

    async def _scan(self, payload: dict[str, Any]) -> None:
        status = _SCAN_STATUS.get(payload.get("status"), "unknown")  # type: ignore[arg-type]
        url = str(payload.get("qrcode") or "")
        if url and status in ("waiting", "unknown"):
            self.logged_in.clear()
            log.warning("wechaty: WeChat login needed. Scan this QR code with the bot "
                        "account's WeChat (Me → scan, or 扫一扫) and confirm on the phone:\n"
                        "%s\n%s", url, terminal_qr(url))
            await self._login_changed(False, reason="waiting for a QR scan")
        elif status == "scanned":
            log.warning("wechaty: QR code scanned; confirm the login on the phone")
        elif status in ("expired", "cancelled"):
            log.warning("wechaty: the QR code %s; the gateway will send a new one", status)
        else:
            log.info("wechaty: scan status %s", status)

    async def _login_changed(self, logged_in: bool, *, account_id: str | None = None,
                             reason: str = "") -> None:
        if self._account_online is logged_in:
            return
        self._account_online = logged_in
        if not logged_in:
            self._state.logged_in = False
            self._write_state()
        await self._deliver(LoginChanged(logged_in=logged_in, at=datetime.now(UTC),
                                         account_id=account_id or self.self_id, reason=reason))

    # -- messages -------------------------------------------------------------------------

    async def _message(self, message_id: str) -> None:
        session = self._session
        if session is None or not message_id:
            return
        payload = await session.call("MessagePayload", session.puppet.message_payload(message_id))
        room_id = payload.room_id
        if not room_id or self._sink is None:
            return  # only group messages reach the plugins
        raw = payloads.RawMessage(
            type=int(payload.type), text=payload.text or "",
            mention_ids=tuple(payload.mention_ids or ()), timestamp=int(payload.timestamp or 0),
            filename=payload.filename or "")
        parsed = payloads.parse(raw)
        if not parsed.known_type:
            self._once(f"type-{raw.type}", "wechaty: unknown message type %s: delivered as "
                       "'unknown' without text (logged once)", raw.type)
        await self._deliver(await self._incoming(message_id, room_id, payload.from_id, raw,
                                                 parsed))

    async def _incoming(self, message_id: str, room_id: str, talker: str,
                        raw: payloads.RawMessage, parsed: payloads.Parsed) -> IncomingMessage:
        members: tuple[str, ...] = ()
        if raw.mention_ids:
            room = await self._room(room_id)
            members = tuple(room.member_ids) if room is not None else ()
        found = payloads.mentions(raw.mention_ids, parsed.text, members)
        mentions_bot = bool(self.self_id) and self.self_id in found.ids
        text = parsed.text
        if text and (mentions_bot or found.mentions_all):
            names = await self._bot_names(room_id) if mentions_bot else []
            text = payloads.strip_mentions(text, names, at_all=found.mentions_all)
        notice = parsed.kind in NOTICE_KINDS
        sender = talker
        if notice and isinstance(parsed.content, Notice) and parsed.content.actor_id:
            sender = parsed.content.actor_id  # padlocal names the patted one as the talker
        return IncomingMessage(
            id=message_id, group_id=room_id, sender_id=sender,
            sender_name=await self._member_name(room_id, sender) if sender else "",
            text=text, at=datetime.now(UTC), mentions_bot=mentions_bot,
            mention_ids=found.ids, kind=parsed.kind, content=parsed.content,
            sent_at=payloads.sent_at(raw.timestamp), mentions_all=found.mentions_all,
            announcement=found.announcement,
            # WeChat's own notices come "from" the bot's account; they are not its echoes
            from_self=not notice and talker == self.self_id)

    # -- room events ------------------------------------------------------------------------

    async def _room_join(self, payload: dict[str, Any]) -> None:
        room_id = str(payload.get("roomId", ""))
        invitees = [str(i) for i in payload.get("inviteeIdList") or ()]
        self._rooms.pop(room_id, None)
        at = payloads.sent_at(payload.get("timestamp")) or datetime.now(UTC)
        for member in invitees:
            self._members.pop((room_id, member), None)
            if member == self.self_id:
                self._left_rooms.discard(room_id)
                log.warning("wechaty: the bot was added to room %s", room_id)
                self._spawn(self._record_rooms())
                continue
            await self._deliver(MemberJoined(
                group_id=room_id, member_id=member,
                member_name=await self._member_name(room_id, member), at=at,
                inviter_id=str(payload.get("inviterId") or "") or None))

    async def _room_leave(self, payload: dict[str, Any]) -> None:
        room_id = str(payload.get("roomId", ""))
        removees = [str(i) for i in payload.get("removeeIdList") or ()]
        remover = str(payload.get("removerId") or "") or None
        at = payloads.sent_at(payload.get("timestamp")) or datetime.now(UTC)
        for member in removees:
            if member == self.self_id:
                self._left_rooms.add(room_id)
                self._forget(room_id)
                log.warning("wechaty: the bot is no longer in room %s (removed by %s)",
                            room_id, remover or "?")
                self._state.rooms = [r for r in self._state.rooms if r.id != room_id]
                self._write_state()
                await self._deliver(BotRemoved(group_id=room_id, at=at, remover_id=remover))
                continue
            name = await self._member_name(room_id, member)
            self._members.pop((room_id, member), None)
            await self._deliver(MemberLeft(group_id=room_id, member_id=member,
                                           member_name=name if name != member else "",
                                           at=at, remover_id=remover))
        self._rooms.pop(room_id, None)

    async def _room_topic(self, payload: dict[str, Any]) -> None:
        room_id, topic = str(payload.get("roomId", "")), str(payload.get("newTopic") or "")
        self._rooms.pop(room_id, None)  # the next lookup shows the new name
        for record in self._state.rooms:
            if record.id == room_id:
                record.name = topic
        self._write_state()
        at = payloads.sent_at(payload.get("timestamp")) or datetime.now(UTC)
        await self._deliver(GroupRenamed(group_id=room_id, name=topic, at=at))

    async def _deliver(self, event: Event) -> None:
        if self._sink is None:
            return
        try:
            await self._sink(event)
        except Exception:  # the core logs its own; never let it stop the event worker
            log.exception("wechaty: could not handle %r", event)

    # -- payload lookups (cached; every call with a timeout) ---------------------------------

    async def _room(self, room_id: str) -> Any:
        if room_id in self._rooms:
            return self._rooms[room_id]
        session = self._session
        if session is None:
            return None
        try:
            room = await session.call("RoomPayload", session.stub.room_payload(id=room_id))
        except Exception as exc:
            log.warning("wechaty: room %s: %s", room_id, _describe(exc))
            return None
        self._rooms[room_id] = room
        return room

    async def _member(self, room_id: str, member_id: str) -> Any:
        key = (room_id, member_id)
        cached = self._members.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        session = self._session
        if session is None:
            return cached[1] if cached else None
        try:
            member = await session.call("RoomMemberPayload", session.stub.room_member_payload(
                id=room_id, member_id=member_id))
        except Exception as exc:
            log.debug("wechaty: member %s of %s: %s", member_id, room_id, _describe(exc))
            return cached[1] if cached else None
        self._members[key] = (time.monotonic() + MEMBER_CACHE_SECONDS, member)
        return member

    async def _member_name(self, room_id: str, member_id: str) -> str:
        """The group nickname (群昵称) when there is one, else the WeChat name."""
        member = await self._member(room_id, member_id)
        if member is not None and (member.room_alias or member.name):
            return str(member.room_alias or member.name)
        return await self._contact_name(member_id) or member_id

    async def _contact_name(self, contact_id: str) -> str:
        session = self._session
        if session is None or not contact_id:
            return ""
        try:
            contact = await session.call("ContactPayload",
                                         session.stub.contact_payload(id=contact_id))
        except Exception as exc:
            log.debug("wechaty: contact %s: %s", contact_id, _describe(exc))
            return ""
        return str(contact.name or "")

    async def _bot_names(self, room_id: str) -> list[str]:
        """How members write the bot's mention: its group nickname or its WeChat name."""
        names = [self._self_name]
        if self.self_id:
            member = await self._member(room_id, self.self_id)
            if member is not None:
                names += [member.room_alias, member.name]
        return [n for n in names if n]

    def _forget(self, payload_id: str) -> None:
        self._rooms.pop(payload_id, None)
        for key in [k for k in self._members if payload_id in k]:
            del self._members[key]

    # -- actions --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Connected to the gateway and logged in: calls can be made."""
        return self._session is not None and self.logged_in.is_set()

    def _ready_session(self) -> Any:
        if self._session is None:
            raise SendError("not connected to the WeChat gateway")
        if not self.logged_in.is_set():
            raise SendError("the WeChat account is logged out")
        return self._session

    async def send(self, message: Outgoing) -> Sent:
        session = self._ready_session()
        target = message.group_id or message.to
        if not target:
            raise SendError("a message needs a group or a person", permanent=True)
        if message.group_id in self._left_rooms:
            raise SendError(f"the bot is no longer in group {message.group_id}", permanent=True)
        try:
            text = message.text
            if message.group_id and message.mentions:
                names = [await self._member_name(message.group_id, m) for m in message.mentions]
                text = with_mentions(text, [f"@{n}{payloads.MENTION_END}" for n in names],
                                     message.mention_at)
            sent_id = await session.call("MessageSendText", session.puppet.message_send_text(
                target, text, list(message.mentions) if message.group_id else None))
            if message.image_path:
                from wechaty_puppet import FileBox

                box = FileBox.from_file(message.image_path)
                await session.call("MessageSendFile",
                                   session.puppet.message_send_file(target, box))
        except SendError:
            raise
        except Exception as exc:
            raise SendError(f"wechaty send failed: {_describe(exc)}") from exc
        return Sent(message_id=sent_id or None)

    async def group_info(self, group_id: str) -> GroupInfo | None:
        room = await self._room(group_id)
        if room is None:
            return None
        return GroupInfo(id=group_id, name=room.topic or group_id, owner_id=room.owner_id or None,
                         admin_ids=tuple(room.admin_ids or ()),
                         member_count=len(room.member_ids or ()),
                         member_ids=tuple(m for m in room.member_ids if m != self.self_id)
                         if room.member_ids else None)  # an unloaded list is not an empty room

    async def list_groups(self) -> list[GroupInfo]:
        session = self._ready_session()
        response = await session.call("RoomList", session.stub.room_list())
        infos = [await self.group_info(room_id) for room_id in response.ids]
        return [info for info in infos if info is not None]

    async def group_ids(self) -> list[str]:
        """The ids of every room the account is in (one call: the leases ask often)."""
        session = self._ready_session()
        response = await session.call("RoomList", session.stub.room_list())
        return list(response.ids)

    async def remove_member(self, group_id: str, member_id: str) -> None:
        session = self._ready_session()
        await session.call("RoomDel", session.stub.room_del(id=group_id, contact_id=member_id))

    # -- the state file for `bot groups` ----------------------------------------------------

    async def _record_rooms(self) -> None:
        try:
            groups = await self.list_groups()
        except Exception as exc:
            log.warning("wechaty: could not list the account's rooms: %s", _describe(exc))
            return
        self._state.rooms = [recorded.RoomRecord(g.id, g.name, g.member_count) for g in groups]
        self._write_state()

    def _write_state(self) -> None:
        try:
            recorded.write(self.data_dir, self._state)
        except OSError as exc:
            self._once("state", "wechaty: cannot write %s: %s", recorded.path_in(self.data_dir),
                       exc)

    def _once(self, key: str, message: str, *args: object) -> None:
        if key not in self._logged_once:
            self._logged_once.add(key)
            log.warning(message, *args)


async def probe_endpoint(endpoint: str, timeout: float = 3.0) -> None:
    """A clear error for an unreachable gateway (the SDK would stop the event loop)."""
    host, _, port = endpoint.rpartition(":")
    try:
        reader = asyncio.open_connection(host or "127.0.0.1", int(port))
        _, writer = await asyncio.wait_for(reader, timeout)
    except (OSError, ValueError, TimeoutError) as exc:
        raise AdapterError(
            f"cannot reach the puppet-service gateway at {endpoint} ({exc}); check "
            "wechaty.endpoint (host:port) and that the gateway is running") from None
    writer.close()


def terminal_qr(url: str) -> str:
    """The QR code as text, two modules per character (the `qrcode` package ships with
    python-wechaty); the URL above it works when a terminal cannot show it."""
    try:
        import qrcode
    except ImportError:
        return "(open the URL above in a browser to see the QR code)"
    code = qrcode.QRCode(border=2)
    code.add_data(url)
    code.make(fit=True)
    # Light modules are drawn, dark ones left blank: right on the usual dark terminal.
    matrix = [[not dark for dark in row] for row in code.get_matrix()]
    if len(matrix) % 2:
        matrix.append([True] * len(matrix[0]))
    blocks = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
    rows = ["".join(blocks[(top, bottom)] for top, bottom in zip(upper, lower, strict=True))
            for upper, lower in zip(matrix[::2], matrix[1::2], strict=True)]
    return "\n".join(rows)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
