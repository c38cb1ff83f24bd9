"""What a handler or job is handed: one typed context with everything it may use."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic

from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Capabilities, IncomingMessage, MemberJoined, MemberLeft, Outgoing, OutKind
from bot.groups import GroupSetup
from bot.plugin import Plugin, Role, S

if TYPE_CHECKING:
    from bot.once import Unit
    from bot.outbox import Outbox
    from bot.runtime import Services


@dataclass
class _Base(Generic[S]):
    plugin: Plugin[S]
    group: GroupSetup
    settings: S
    now: datetime
    services: Services
    # What this context does once (a message's claim, a timed slot's completion): entered
    # in its first transaction. Shared by every context made for the same message or slot.
    unit: Unit | None = field(default=None, kw_only=True)
    _session: AsyncSession | None = field(default=None, init=False)
    _staged: list[Outgoing] | None = field(default=None, init=False)

    @property
    def local_now(self) -> datetime:
        """`now` in the group's timezone: what "today" means for this group."""
        return self.now.astimezone(self.group.timezone)

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        return logging.LoggerAdapter(
            logging.getLogger(f"plugins.{self.plugin.name}"), {"group": self.group.id}
        )

    @property
    def state(self) -> dict[str, Any]:
        """This plugin's in-memory state for this bot (lost on restart; keep durable
        facts in the database)."""
        return self.services.plugin_state.setdefault(self.plugin.name, {})

    @property
    def outbox(self) -> Outbox:
        return self.services.outbox

    @property
    def capabilities(self) -> Capabilities:
        return self.services.capabilities

    def t(self, key: str, **values: object) -> str:
        """This plugin's text `key` in the group's language."""
        return self.plugin.texts.get(self.group.language, key, **values)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A database transaction; nested calls share the outer one (commit at its end).

        Replies, posts, notices and DMs queued inside it are written to the outbox in the
        same transaction (a transactional outbox): the state and what reports it are kept
        or lost together, and go out only once committed.
        """
        if self._session is not None:
            yield self._session
            return
        shared = self.services.db.shared()
        if shared is not None:  # a fan-out chunk's (bot/scheduler.py): written at its commit
            session = await shared.enter()
            self._session, self._staged = session, shared.staged
            try:
                if self.unit is not None:
                    await self.unit.enter(session)
                yield session
            finally:
                self._session = self._staged = None
            return
        staged: list[Outgoing] = []
        async with self.services.db.transaction() as session:
            self._session, self._staged = session, staged
            try:
                if self.unit is not None:
                    await self.unit.enter(session)
                yield session
                items = await self.outbox.stage(session, staged)
            finally:
                self._session = self._staged = None
        self.outbox.enqueue(items)
        if self.unit is not None:
            self.unit.committed()

    def _put(self, outgoing: Outgoing) -> None:
        if self._staged is not None:
            self._staged.append(outgoing)  # written with the transaction, sent after it
        elif self.unit is not None and self.unit.keep(outgoing):
            pass  # a timed slot's posts: written when the slot is marked done
        else:
            self.outbox.put(outgoing)  # persisted by the next group commit (bot/outbox.py)

    def _queue(self, text: str, kind: OutKind, mentions: tuple[str, ...] = (),
               coalesce: str | None = None, image_path: str | None = None) -> None:
        self._put(Outgoing(text=text, kind=kind, group_id=self.group.id, mentions=mentions,
                           coalesce=coalesce, image_path=image_path))

    async def say(self, text: str, mentions: tuple[str, ...] = (),
                  image_path: str | None = None) -> None:
        """Say something in the group that members are waiting for (a game's question or
        result): sent with replies, ahead of posts, answering no one message."""
        self._queue(text, OutKind.REPLY, mentions, image_path=image_path)

    async def post(self, text: str, mentions: tuple[str, ...] = ()) -> None:
        """Post to the group (timed or bulk content: lowest send priority)."""
        self._queue(text, OutKind.POST, mentions)

    async def notice(self, text: str, mentions: tuple[str, ...] = ()) -> None:
        """A moderation notice: sent before replies and posts."""
        self._queue(text, OutKind.NOTICE, mentions)

    async def dm(self, to: str, text: str, image_path: str | None = None) -> None:
        self._put(Outgoing(text=text, kind=OutKind.DM, to=to, image_path=image_path))


@dataclass
class Context(_Base[S]):
    """A message handler's context: the message, who sent it and with what role."""

    message: IncomingMessage = field(kw_only=True)
    role: Role = field(kw_only=True, default=Role.MEMBER)
    args: str = field(kw_only=True, default="")
    command_word: str = field(kw_only=True, default="")
    # The message is a command of this group (guards see it too): using the bot is never
    # an offence, so moderation's flood and repeat rules skip it.
    is_command: bool = field(kw_only=True, default=False)

    @property
    def sender_id(self) -> str:
        return self.message.sender_id

    @property
    def sender_name(self) -> str:
        return self.message.sender_name

    async def reply(self, text: str, *, mention: bool = True, also: tuple[str, ...] = (),
                    coalesce: str | None = None) -> None:
        """Answer the sender in the group, @-mentioning them unless mention=False.

        `coalesce` names a kind of short, routine reply ("checkin", "grab"): when the send
        budget holds several of one kind back in a group, they go out as one message, each
        on its own line with its own mention (bot/outbox.py). Leave it out for anything a
        member must see on its own.
        """
        # Each member once: an admin granting themselves points is @-mentioned once.
        mentions = tuple(dict.fromkeys(((self.sender_id,) if mention else ()) + also))
        self._queue(text, OutKind.REPLY, mentions, coalesce)


@dataclass
class JobContext(_Base[S]):
    """A scheduled job's context: the slot it runs for and the schedule's payload."""

    slot: datetime = field(kw_only=True)
    payload: Any = field(kw_only=True, default=None)
    late: bool = field(kw_only=True, default=False)  # caught up after downtime


@dataclass
class EventContext(_Base[S]):
    """A member joined or left the group."""

    event: MemberJoined | MemberLeft = field(kw_only=True)

    @property
    def member_id(self) -> str:
        return self.event.member_id

    @property
    def member_name(self) -> str:
        return self.event.member_name
