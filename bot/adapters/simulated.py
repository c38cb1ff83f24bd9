"""A group chat held in memory: the console adapter and the test harness are built on it."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.adapters.base import EventSink, SendError
from bot.clock import Clock
from bot.events import (
    BotRemoved,
    Capabilities,
    Content,
    GroupInfo,
    GroupRenamed,
    IncomingMessage,
    LoginChanged,
    MemberJoined,
    MemberLeft,
    MessageKind,
    Outgoing,
    Sent,
)
from bot.text import with_mentions

_MENTION = re.compile(r"@([^\s@\u2005]+)[\s\u2005]*")
# A room holds at most 500 members, so no real message mentions more: an 80 KB run of
# `@所有人` is read as mentions that far and as text after (bounded work per message).
MOST_MENTIONS = 500
MENTION_ALL = "所有人"


@dataclass
class SimGroup:
    id: str
    name: str
    timezone: ZoneInfo
    members: dict[str, str] = field(default_factory=dict)  # id → display name
    # The room's owner and admins as the platform reports them (not from bot.yaml).
    owner_id: str | None = None
    admin_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One message the bot sent, as the simulated platform received it."""

    text: str
    kind: str
    at: datetime  # local time of the group (or of the bot, for direct messages)
    group_id: str | None = None
    group_name: str | None = None
    to: str | None = None
    mentions: tuple[str, ...] = ()
    image_path: str | None = None
    mention_at: tuple[int, ...] = ()  # a coalesced reply: each line's own mention

    def as_json(self) -> str:
        record = {
            "group": self.group_id,
            "group_name": self.group_name,
            "text": self.text,
            "mentions": list(self.mentions),
            "at": self.at.isoformat(),
            "kind": self.kind,
            "to": self.to,
        }
        if self.image_path:
            record["image"] = self.image_path
        return json.dumps(record, ensure_ascii=False)

    def render(self, bot_name: str) -> str:
        """How a member would see it: mentions first, as WeChat shows them."""
        text = with_mentions(self.text, [f"@{m} " for m in self.mentions], self.mention_at)
        where = self.group_name if self.group_id else f"私信→{self.to}"
        image = f"\n[图片] {self.image_path}" if self.image_path else ""
        return f"[{where}] {bot_name}: {text}{image}"


class SimulatedChat:
    """Groups, members and the bot's sent messages; turns typed lines into events."""

    def __init__(self, bot_name: str, clock: Clock, timezone: ZoneInfo,
                 id_prefix: str = "sim") -> None:
        self.bot_name, self.clock, self.timezone = bot_name, clock, timezone
        self.groups: dict[str, SimGroup] = {}
        self.sent: list[Delivery] = []
        # Message ids are what the bot remembers as handled (bot/once.py): a new simulated
        # platform session takes a prefix of its own unless it means to replay.
        self.id_prefix = id_prefix
        self._ids = itertools.count(1)
        self.logged_in = True  # the bot's account: a logged-out one cannot send
        self.left: set[str] = set()  # groups the bot was removed from

    def continue_ids(self, before: SimulatedChat) -> None:
        """Go on numbering messages where `before` stopped (the same platform, restarted)."""
        self._ids, self.id_prefix = before._ids, before.id_prefix

    def add_group(
        self, group_id: str, name: str, timezone: ZoneInfo, members: dict[str, str] | None = None
    ) -> SimGroup:
        group = self.groups.setdefault(group_id, SimGroup(group_id, name, timezone))
        group.members.update(members or {})
        return group

    def find_group(self, key: str) -> SimGroup | None:
        return self.groups.get(key) or next(
            (g for g in self.groups.values() if g.name == key), None
        )

    def message(
        self,
        group_id: str,
        member_id: str,
        text: str,
        *,
        message_id: str | None = None,
        name: str | None = None,
        kind: MessageKind | str = MessageKind.TEXT,
        content: Content | None = None,
        sent_at: datetime | None = None,
        announcement: bool = False,
    ) -> IncomingMessage:
        group = self.groups[group_id]
        group.members.setdefault(member_id, name or member_id)
        self.left.discard(group_id)  # someone can only write to the bot if it is back
        mentions_bot, mention_ids, cleaned = self._mentions(text)
        mentions_all = MENTION_ALL in mention_ids
        if mentions_all:  # as padlocal does: every member of the room, the bot included
            mentions_bot, mention_ids = True, tuple(group.members)
        return IncomingMessage(
            id=message_id or f"{self.id_prefix}-{next(self._ids)}",
            group_id=group_id,
            sender_id=member_id,
            sender_name=group.members[member_id],
            text=cleaned,
            at=self.clock.now(),
            mentions_bot=mentions_bot,
            mention_ids=mention_ids,
            kind=MessageKind(kind),
            content=content,
            sent_at=sent_at,
            mentions_all=mentions_all,
            announcement=announcement,
        )

    def _mentions(self, text: str) -> tuple[bool, tuple[str, ...], str]:
        mentions_bot = False
        others: list[str] = []

        def strip_bot(match: re.Match[str]) -> str:
            nonlocal mentions_bot
            if match.group(1) == self.bot_name:
                mentions_bot = True
                return ""
            others.append(match.group(1))
            return match.group(0)

        cleaned = _MENTION.sub(strip_bot, text, count=MOST_MENTIONS).strip()
        return mentions_bot, tuple(dict.fromkeys(others)), cleaned

    def join(self, group_id: str, member_id: str, name: str | None = None,
             inviter_id: str | None = None) -> MemberJoined:
        self.groups[group_id].members[member_id] = name or member_id
        return MemberJoined(
            group_id=group_id,
            member_id=member_id,
            member_name=name or member_id,
            at=self.clock.now(),
            inviter_id=inviter_id,
        )

    def leave(self, group_id: str, member_id: str, remover_id: str | None = None) -> MemberLeft:
        name = self.groups[group_id].members.pop(member_id, member_id)
        return MemberLeft(
            group_id=group_id,
            member_id=member_id,
            member_name=name,
            at=self.clock.now(),
            remover_id=remover_id,
        )

    def login_changed(self, logged_in: bool, reason: str = "") -> LoginChanged:
        self.logged_in = logged_in
        return LoginChanged(logged_in=logged_in, at=self.clock.now(), reason=reason)

    def bot_removed(self, group_id: str, remover_id: str | None = None) -> BotRemoved:
        self.left.add(group_id)
        return BotRemoved(group_id=group_id, at=self.clock.now(), remover_id=remover_id)

    def renamed(self, group_id: str, name: str) -> GroupRenamed:
        self.groups[group_id].name = name
        return GroupRenamed(group_id=group_id, name=name, at=self.clock.now())

    def record(self, outgoing: Outgoing) -> Delivery:
        # As a real gateway does: a send fails (and would be retried) while logged out or
        # to a room the bot is not in.
        if not self.logged_in:
            raise SendError("the account is logged out")
        if outgoing.group_id in self.left:
            raise SendError(f"not a member of {outgoing.group_id}")
        group = self.groups.get(outgoing.group_id or "")
        timezone = group.timezone if group else self.timezone
        delivery = Delivery(
            text=outgoing.text,
            kind=outgoing.kind.value,
            at=self.clock.now().astimezone(timezone),
            group_id=outgoing.group_id,
            group_name=group.name if group else outgoing.group_id,
            to=outgoing.to,
            mentions=outgoing.mentions,
            image_path=outgoing.image_path,
            mention_at=outgoing.mention_at,
        )
        self.sent.append(delivery)
        return delivery


class SimulatedAdapter:
    """The Adapter protocol over a SimulatedChat; `on_send` shows each delivery."""

    name = "console"
    capabilities = Capabilities(remove_member=True, send_image=True, direct_message=True)

    def __init__(
        self, chat: SimulatedChat, on_send: Callable[[Delivery], None] = lambda _: None
    ) -> None:
        self.chat, self.on_send = chat, on_send
        self._closed = asyncio.Event()

    async def run(self, sink: EventSink) -> None:
        await self._closed.wait()

    async def send(self, message: Outgoing) -> Sent:
        self.on_send(self.chat.record(message))
        return Sent(message_id=f"bot-{len(self.chat.sent)}")

    async def close(self) -> None:
        self._closed.set()

    async def ready(self, timeout: float) -> None:
        return None  # always connected

    async def group_info(self, group_id: str) -> GroupInfo | None:
        group = self.chat.groups.get(group_id)
        if group is None:
            return None
        return GroupInfo(id=group.id, name=group.name, member_count=len(group.members),
                         owner_id=group.owner_id, admin_ids=group.admin_ids,
                         member_ids=tuple(group.members))

    async def list_groups(self) -> list[GroupInfo]:
        return [
            GroupInfo(id=g.id, name=g.name, member_count=len(g.members))
            for g in self.chat.groups.values()
        ]

    async def remove_member(self, group_id: str, member_id: str) -> None:
        self.chat.leave(group_id, member_id)
