"""The test harness: the whole bot over a simulated group chat with a clock you move.

    chat = await FakeChat.start(tmp_path, CONFIG)
    replies = await chat.say("alice", "打卡 今天读完第三章")
    posts = await chat.advance("1d")      # every job due on the way fires, in order

Everything real runs — config loading, migrations, dispatcher, plugins, outbox, scheduler
and the database — only the platform and the clock are simulated.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot import ledger
from bot.adapters.simulated import Delivery, SimulatedAdapter, SimulatedChat
from bot.app import BUILTINS, PLUGINS, simulated_chat
from bot.clock import ManualClock, parse_duration
from bot.config import load_config
from bot.events import Content, Event, MessageKind
from bot.plugin import Plugin
from bot.runtime import BotRuntime

# Tests see every message at once unless they test the send budget itself.
UNLIMITED_OUTBOX = {
    "per_minute": 1_000_000, "burst": 1_000_000, "daily_cap": 10**9, "group_jitter": ["0s", "0s"]
}


def write_config(directory: Path, config: dict[str, Any] | str) -> Path:
    data = yaml.safe_load(config) if isinstance(config, str) else dict(config)
    data.setdefault("outbox", UNLIMITED_OUTBOX)
    path = directory / "bot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class FakeChat:
    def __init__(
        self,
        directory: Path,
        runtime: BotRuntime,
        chat: SimulatedChat,
        clock: ManualClock,
        database_url: str,
        plugins: Sequence[Plugin[Any]],
    ) -> None:
        self.directory, self.runtime, self.chat, self.clock = directory, runtime, chat, clock
        self.database_url, self.plugins = database_url, tuple(plugins)
        self.group = next(iter(chat.groups), "")

    @classmethod
    async def start(
        cls,
        directory: Path,
        config: dict[str, Any] | str | None = None,
        *,
        now: str | datetime = "2026-11-23 08:00",
        database_url: str | None = None,
        plugins: Sequence[Plugin[Any]] = PLUGINS,
    ) -> FakeChat:
        """Write the config (if given) into `directory` and start a bot over it."""
        path = write_config(directory, config) if config is not None else directory / "bot.yaml"
        loaded = load_config(path, plugins, BUILTINS)
        first = next(iter(loaded.groups.values()), None)
        timezone = first.timezone if first else None
        start = now if isinstance(now, datetime) else datetime.fromisoformat(now)
        if start.tzinfo is None and timezone is not None:
            start = start.replace(tzinfo=timezone)
        clock = ManualClock(start)
        return await cls._boot(
            directory,
            loaded,
            clock,
            database_url or f"sqlite+aiosqlite:///{directory / 'bot.db'}",
            plugins,
        )

    @classmethod
    async def _boot(
        cls,
        directory: Path,
        loaded: Any,
        clock: ManualClock,
        database_url: str,
        plugins: Sequence[Plugin[Any]],
        people: SimulatedChat | None = None,
    ) -> FakeChat:
        chat = simulated_chat(loaded, clock)
        if people is not None:  # a restart: the same people are still in the groups
            chat.groups = people.groups
            chat.continue_ids(people)  # the platform's message ids go on, they don't repeat
        adapter = SimulatedAdapter(chat)
        runtime = BotRuntime(
            loaded,
            plugins,
            BUILTINS,
            adapter,
            clock,
            database_url=database_url,
            rng=random.Random(7),
        )
        await runtime.start(run_adapter=False)
        return cls(directory, runtime, chat, clock, database_url, plugins)

    async def restart(
        self, after: str | timedelta = "0s", *, adapter: SimulatedAdapter | None = None
    ) -> FakeChat:
        """Stop this bot, let time pass while it is down, and start a new one on the same DB."""
        await self.stop()
        return await self._after_downtime(after)

    async def stop(self) -> None:
        await self.runtime.stop()

    async def crash(self, after: str | timedelta = "0s") -> FakeChat:
        """The process is killed: nothing is flushed, sent or stopped cleanly; a new bot
        starts on the same database (what a SIGKILL leaves behind)."""
        self.runtime.abandon()
        return await self._after_downtime(after)

    async def _after_downtime(self, after: str | timedelta) -> FakeChat:
        """Time passes while no bot runs; then a new one starts on the same database."""
        self.clock.set(self.clock.now() + _duration(after))
        loaded = load_config(self.runtime.config.path, self.plugins, BUILTINS)
        fresh = await self._boot(
            self.directory, loaded, self.clock, self.database_url, self.plugins, self.chat
        )
        fresh.group = self.group
        return fresh

    async def balance(self, member: str, *, group: str | None = None) -> int:
        """A member's points in the current (or named) group."""
        async with self.runtime.db.transaction() as session:
            return await ledger.balance(session, self._group(group), member)

    async def give(self, member: str, amount: int, *, group: str | None = None) -> None:
        """Grant points straight through the ledger (a test's starting balance)."""
        async with self.runtime.db.transaction() as session:
            await ledger.change(session, self._group(group), member, amount,
                                ledger.Change("test", "test", self.clock.now()))

    @property
    def sent(self) -> list[Delivery]:
        return self.chat.sent

    async def say(
        self,
        member: str,
        text: str = "",
        *,
        group: str | None = None,
        message_id: str | None = None,
        kind: MessageKind | str = MessageKind.TEXT,
        content: Content | None = None,
        ago: str | timedelta | None = None,
        announcement: bool = False,
    ) -> list[Delivery]:
        """`member` posts `text` (or a message of another `kind`: a sticker, a quote whose
        `content` holds the quoted part…); `ago` delivers it that long after it was sent
        ("36h": a backlog after a reconnect); "@所有人" in the text mentions everyone.
        Returns what the bot sent in response."""
        sent_at = None if ago is None else self.clock.now() - _duration(ago)
        event = self.chat.message(self._group(group), member, text, message_id=message_id,
                                  kind=kind, content=content, sent_at=sent_at,
                                  announcement=announcement)
        return await self.deliver(event)

    async def join(self, member: str, *, group: str | None = None,
                   inviter: str | None = None) -> list[Delivery]:
        """`member` joins; `inviter` is who the platform says invited them."""
        return await self.deliver(self.chat.join(self._group(group), member, inviter_id=inviter))

    async def leave(self, member: str, *, group: str | None = None) -> list[Delivery]:
        return await self.deliver(self.chat.leave(self._group(group), member))

    async def logout(self, reason: str = "") -> list[Delivery]:
        """The bot's WeChat account is logged out (sends fail until `login()`)."""
        return await self.deliver(self.chat.login_changed(False, reason))

    async def login(self) -> list[Delivery]:
        return await self.deliver(self.chat.login_changed(True))

    async def remove_bot(self, *, group: str | None = None) -> list[Delivery]:
        """The bot is removed from the group (a message from it later means it is back)."""
        return await self.deliver(self.chat.bot_removed(self._group(group)))

    async def rename(self, name: str, *, group: str | None = None) -> list[Delivery]:
        """The group is renamed on the platform."""
        return await self.deliver(self.chat.renamed(self._group(group), name))

    async def deliver(self, event: Event) -> list[Delivery]:
        """Hand the bot any event; returns what it sent in response."""
        return await self._sent_during(self._handle(event))

    async def _handle(self, event: Event) -> None:
        await self.runtime.dispatcher.handle(event)
        await self.runtime.settle()

    async def advance(self, delta: str | timedelta) -> list[Delivery]:
        """Move the clock on; every job due on the way fires. Returns what was sent."""
        step = _duration(delta)
        return await self._sent_during(self.runtime.advance_to(self.clock.now() + step))

    async def advance_to(self, local: str) -> list[Delivery]:
        """Move the clock on to a local time of the current group ("2026-11-24 09:00")."""
        target = datetime.fromisoformat(local)
        if target.tzinfo is None:
            target = target.replace(tzinfo=self.chat.groups[self.group].timezone)
        return await self._sent_during(self.runtime.advance_to(target))

    async def _sent_during(self, action: Awaitable[None]) -> list[Delivery]:
        before = len(self.chat.sent)
        await action
        return self.chat.sent[before:]

    def use_group(self, key: str) -> None:
        self.group = self._group(key)

    def _group(self, key: str | None) -> str:
        if key is None:
            return self.group
        found = self.chat.find_group(key)
        if found is None:
            raise KeyError(f"no group {key!r} in the test config")
        return found.id

    def write_config(self, config: dict[str, Any] | str) -> None:
        """Replace bot.yaml on disk (then `/reload` picks it up)."""
        write_config(self.directory, config)


def _duration(value: str | timedelta) -> timedelta:
    return parse_duration(value) if isinstance(value, str) else value


def texts(deliveries: Sequence[Delivery]) -> list[str]:
    return [d.text for d in deliveries]
