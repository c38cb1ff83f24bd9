"""Routes each event to the plugins a group enabled, in phases: guard → command → passive.

Also the core's promises to members: duplicates and the bot's own echoes are dropped,
roles are enforced, command floods are slowed, and a failing plugin is isolated.

What reaches which phase (issue 11, real WeChat traffic):
- Commands and passives (Q&A, quiz answers, the idiom chain…) see only words a person
  typed: a text message, or the reply part of a quote (never the quoted text). Stickers,
  images, links, files and the like are counted as activity and seen by guards only.
- WeChat's own notices, pats and recalls are not members' chat: counted for no one (a pat
  counts for the patter), never shown to guards, never answered.
- @所有人 is not a mention of the bot or of anyone: the message reaches plugins with no
  mentions. A 群公告 (announcement) reaches guards and activity, never commands or passives.
- A message is handled as of when it was sent (`ctx.now`); one delivered later than
  `limits.late_grace` (a backlog after a reconnect) only counts as activity on the day it
  was sent: no guard, command or passive runs on it.
- While the account is logged out, events wait (a bounded queue) and are handled when it
  is back, each as of when it was sent: a command older than the grace is then not run.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
import unicodedata
from array import array
from collections import deque
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.context import Context, EventContext
from bot.events import (
    NOTICE_KINDS,
    BotRemoved,
    Event,
    GroupRenamed,
    IncomingMessage,
    LoginChanged,
    MemberJoined,
    MemberLeft,
    MessageKind,
)
from bot.groups import CommandBinding, EnabledPlugin, GroupSetup
from bot.i18n import Texts, has_cjk
from bot.input import command_forms
from bot.once import AlreadyHandled, MessageUnit, ProcessedIds
from bot.plugin import Plugin, Role
from bot.text import excerpt

if TYPE_CHECKING:
    from bot.runtime import Services

log = logging.getLogger("bot.dispatch")

CORE_TEXTS = Texts(
    zh={
        "apology": "抱歉，「{title}」出了点问题，已经记下来了，请稍后再试。",
        "forbidden": "「{word}」只有{role}可以用哦。",
        "forbidden.bot_wide": "「{word}」只有 bot.yaml 里登记的{role}可以用哦"
                              "（微信群自己的群主、管理员不算）。",
        "slow_down": "发得太快啦，请 {seconds} 秒后再试。",
        "unknown": "没有「{word}」这个命令。{hint}发送 /help 查看本群可用的命令。",
        "did_you_mean": "你是不是想用 {suggestion}？",
        "not_enabled": "「{word}」是「{title}」的命令，本群还没有开启。本群群主或运营可以在 "
                       "bot.yaml 里本群的 plugins 下加上 {plugin}，再发送 /reload 开启它。",
        "role.1": "管理员",
        "role.2": "群主",
        "role.3": "运营",
    },
    en={
        "apology": "Sorry, “{title}” ran into a problem. It has been logged; please try later.",
        "forbidden": "Only {role} can use “{word}”.",
        "forbidden.bot_wide": "Only {role} listed in bot.yaml can use “{word}” (the room's own "
                              "owner and admins don't count).",
        "slow_down": "Too fast! Please try again in {seconds} s.",
        "unknown": "There is no command “{word}”. {hint}Send /help for this group's commands.",
        "did_you_mean": "Did you mean {suggestion}? ",
        "not_enabled": "“{word}” belongs to “{title}”, which is not enabled in this group. "
                       "The group's owner or an operator can enable it: add {plugin} under "
                       "this group's plugins in bot.yaml, then send /reload.",
        "role.1": "admins",
        "role.2": "the owner",
        "role.3": "operators",
    },
)

_FIRST_WORD = re.compile(r"\s+")
HELD_EVENTS = 2_000  # kept while logged out; the oldest go first (they would be too late)
OVERHEARD_PER_ROOM = 100  # messages kept per room another process serves (issue 18)
# A command word with the marks members add after it ("抢！！", "打卡~~"); a longer first
# word is chatter, and stripping 100 KB of punctuation from it would be wasted work.
_LONGEST_HEAD = 64


class CommandRate:
    """At most N commands per member per minute; the first refusal says so, then silence.

    Bounded (issue 14, point 7): members idle for a minute are forgotten every `SWEEP`
    checks, so memory follows the members active in the last minute, not all ever seen.
    """

    SWEEP = 10_000

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        # Per member ("group\x1fmember"), the times of their commands in the last minute,
        # as packed doubles (epoch seconds). Thousands of members are active at once:
        # strings and bytes are nothing the cyclic collector walks, so this map never is;
        # with tuples (or lists) of datetimes it was 50,000 entries re-walked by young
        # collections, 4-6 ms each, every time a full one had untracked it (issue 16.4).
        self._recent: dict[str, bytes] = {}
        self._warned: set[str] = set()
        self._checks = 0

    def __len__(self) -> int:
        return len(self._recent)

    def _sweep(self, now: float) -> None:
        idle = [k for k, packed in self._recent.items()
                if not packed or now - array("d", packed)[-1] >= 60]
        for member in idle:
            del self._recent[member]
            self._warned.discard(member)

    def check(self, key: tuple[str, str], now: datetime) -> tuple[bool, bool, int]:
        """(allowed, warn now, seconds to wait)."""
        stamp = now.timestamp()
        self._checks += 1
        if self._checks % self.SWEEP == 0:
            self._sweep(stamp)
        member = "\x1f".join(key)
        times = array("d", self._recent.get(member, b""))
        while times and stamp - times[0] >= 60:
            times.pop(0)  # at most `per_minute` times: cheap
        if len(times) < self.per_minute:
            times.append(stamp)
            self._recent[member] = times.tobytes()
            self._warned.discard(member)
            return True, False, 0
        self._recent[member] = times.tobytes()
        wait = int(times[0] + 60 - stamp) + 1
        first = member not in self._warned
        self._warned.add(member)
        return False, first, wait


def split_command(
    text: str, group: GroupSetup, prefixes: tuple[str, ...]
) -> tuple[CommandBinding | None, str, str]:
    """(binding or None, the command word as typed, the rest) for a message's text."""
    parts = _FIRST_WORD.split(text.strip(), maxsplit=1)
    head, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    binding = _lookup(head, group, prefixes)
    if binding is None and len(head) <= _LONGEST_HEAD and (
            bare := _without_trailing_marks(head)) not in ("", head):
        binding = _lookup(bare, group, prefixes)  # "抢！", "打卡~", "抢红包🧧"
    if binding is None:  # "打卡：今天读了10页", "#打卡", "【打卡】今天…"
        for word, after in command_forms(text):
            found = _lookup(word, group, prefixes) or _lookup(
                _without_trailing_marks(word) or word, group, prefixes)
            if found is not None:
                return found, word, after
    return binding, head, rest


def _lookup(word: str, group: GroupSetup, prefixes: tuple[str, ...]) -> CommandBinding | None:
    for prefix in prefixes:
        if word.startswith(prefix) and len(word) > len(prefix):
            name = word[len(prefix) :]
            # "/打卡" works as well as "/checkin" and "打卡"
            return group.slash.get(name.lower()) or group.keywords.get(name)
    return group.keywords.get(word)


def _without_trailing_marks(word: str) -> str:
    """The word without the punctuation and emoji members add after a command."""
    end = len(word)
    while end and (unicodedata.category(word[end - 1])[0] in "PSZ"
                   or word[end - 1] in "\ufe0f\u200d"):
        end -= 1
    return word[:end]


def _not_enabled(group: GroupSetup, word: str, plugin: Plugin[Any]) -> str:
    """Why a command of an installed plugin does nothing here, and who can change that
    (issue 13: "no such command" sent members hunting for a typo)."""
    language = group.language
    title = (plugin.title_en or plugin.title) if language == "en" else plugin.title
    return CORE_TEXTS.get(language, "not_enabled", word=word, title=title, plugin=plugin.name)


def _counts_as_activity(message: IncomingMessage) -> bool:
    """Every kind a member sends counts; WeChat's notices and recalls (of a message already
    counted) do not."""
    return message.kind not in (MessageKind.SYSTEM, MessageKind.RECALL)


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services
        # duplicates: bot/once.py, by the platform's message id (whichever account saw it)
        self.processed = ProcessedIds(services.message_scope or services.outbox.account)
        self.rate = CommandRate(services.config.config.limits.commands_per_minute)
        self._held: deque[Event] = deque(maxlen=HELD_EVENTS)  # while logged out
        self._overflow = 0  # the oldest held events pushed out
        self._installed: dict[str, Plugin[Any]] | None = None  # command word → plugin
        # Messages from rooms another process serves, kept for three failover times (the
        # holder may die a while after receiving them, and its lease lasts): if this
        # process takes the room over, what its last holder did not handle is handled here
        # (issue 18).
        self._overheard: dict[str, deque[tuple[float, IncomingMessage]]] = {}

    async def handle(self, event: Event) -> None:
        try:
            if isinstance(event, LoginChanged):
                await self._login_changed(event)
            elif not self.services.platform.logged_in:
                self._hold(event)
            else:
                await self._route(event)
        except Exception:
            log.exception("dispatch failed for %r", event)

    async def _route(self, event: Event) -> None:
        platform = self.services.platform
        if platform.removed and isinstance(event, IncomingMessage | MemberJoined):
            sent = event.time if isinstance(event, IncomingMessage) else event.at
            await platform.group_seen(event.group_id, sent)
        rooms = self.services.rooms
        room = getattr(event, "group_id", None)
        if isinstance(event, BotRemoved):
            rooms.left(event.group_id)
        elif room is not None:
            rooms.seen(room)
        if room is not None and not rooms.serves(room) and not isinstance(event, BotRemoved):
            if rooms.enabled and isinstance(event, IncomingMessage):
                self._overhear(room, event)
            return  # another account's process serves this room (issue 18)
        if isinstance(event, IncomingMessage):
            await self._message(event)
        elif isinstance(event, MemberJoined | MemberLeft):
            await self._member_event(event)
        elif isinstance(event, BotRemoved):
            await platform.bot_removed(event)
        elif isinstance(event, GroupRenamed):
            platform.renamed(event)

    def _overhear(self, room: str, message: IncomingMessage) -> None:
        kept = self._overheard.setdefault(room, deque(maxlen=OVERHEARD_PER_ROOM))
        now = time.monotonic()
        kept.append((now, message))
        window = self._overheard_for()
        while kept and kept[0][0] < now - window:
            kept.popleft()

    def _overheard_for(self) -> float:
        return 3 * self.services.config.config.leases.failover.total_seconds()

    async def took_over(self, rooms: set[str]) -> None:
        """This process serves `rooms` now: handle what was heard there during the last
        three failover times and no process handled (the platform's message id is shared
        by the accounts, bot/once.py). Joins and leaves heard meanwhile are not replayed:
        they carry no id to tell whether the last holder welcomed them."""
        recent = time.monotonic() - self._overheard_for()
        heard = [m for room in rooms for at, m in self._overheard.pop(room, ()) if at >= recent]
        if not heard:
            return
        async with self.services.db.transaction() as session:
            done = await self.processed.handled(session, [m.id for m in heard])
        missed = [m for m in heard if m.id not in done]
        if missed:
            log.info("handling %d message(s) no process handled before taking over %s",
                     len(missed), ", ".join(sorted(rooms))[:200])
        for message in missed:
            await self.handle(message)

    def _hold(self, event: Event) -> None:
        if len(self._held) == HELD_EVENTS:
            self._overflow += 1
        self._held.append(event)

    async def _login_changed(self, event: LoginChanged) -> None:
        """Logged out: pause; back: resume, then handle what came meanwhile."""
        await self.services.platform.login_changed(event)
        if event.logged_in and self._overflow:
            log.warning("%d event(s) from while logged out were dropped (over %d held)",
                        self._overflow, HELD_EVENTS)
            self._overflow = 0
        while event.logged_in and self._held:
            held = self._held.popleft()
            try:
                await self._route(held)
            except Exception:
                log.exception("dispatch failed for %r", held)

    async def _message(self, message: IncomingMessage) -> None:
        if message.from_self or self.processed.seen_before(message.id):
            return
        unit = self.processed.unit(message.id, self.services.clock.now())
        try:
            await self._handle_message(message, unit)
        except AlreadyHandled:  # a replay the memory had forgotten: the database refused it
            log.info("message %s was handled before; ignored", message.id)
        finally:
            unit.finish()
        if unit.changed_state and self.services.outbox.has_unsaved:
            await self.services.outbox.flush()  # what reports the new state, written now

    async def _handle_message(self, message: IncomingMessage, unit: MessageUnit) -> None:
        if message.mentions_all:  # padlocal lists every member (the bot too) for @所有人
            message = message.model_copy(update={"mentions_bot": False, "mention_ids": ()})
        group = self.services.config.setup_for(message.group_id)
        sent = self._sent_time(message)
        on_time = self.services.clock.now() - sent <= self.services.config.config.limits.late_grace
        typed = message.typed_text
        binding, word, args = (split_command(typed, group, self.services.config.prefixes)
                               if typed.strip() else (None, "", ""))
        if _counts_as_activity(message):
            day = sent.astimezone(group.timezone).date()  # the day it was sent, late or not
            self.services.activity.record(message, day, command=binding is not None)
        if not on_time or message.kind in NOTICE_KINDS:
            return
        role = await self.services.roles.role_of(group, message.sender_id)
        for enabled, guard in group.guards():
            ctx = self._context(enabled, group, message, role, is_command=binding is not None,
                                unit=unit)
            if await self._call(enabled, guard(ctx), ctx):
                return
        if message.announcement or not typed.strip():  # a 群公告, a sticker…: never answered
            return
        if binding is not None:
            await self._command(binding, group, message, role, word, args, unit)
            return
        for enabled, passive in group.passives():
            ctx = self._context(enabled, group, message, role, unit=unit)
            if await self._call(enabled, passive(ctx), ctx):
                return
        if len(word) > 1 and word[:1] in self.services.config.prefixes and group.configured:
            await self._unknown(group, message, role, word, unit)

    def _sent_time(self, message: IncomingMessage) -> datetime:
        """When the member sent it (never later than now: platform clocks drift)."""
        return min(message.time, self.services.clock.now())

    async def _command(
        self,
        binding: CommandBinding,
        group: GroupSetup,
        message: IncomingMessage,
        role: Role,
        word: str,
        args: str,
        unit: MessageUnit,
    ) -> None:
        if binding.command.bot_wide:  # the room's own owner/admins are no one to the bot
            role = await self.services.roles.role_of(group, message.sender_id, platform=False)
        ctx = self._context(binding.enabled, group, message, role, word, args, is_command=True,
                            unit=unit)
        if role < binding.command.role:
            role_name = CORE_TEXTS.get(group.language, f"role.{int(binding.command.role)}")
            key = "forbidden.bot_wide" if binding.command.bot_wide else "forbidden"
            await ctx.reply(
                CORE_TEXTS.get(group.language, key, word=excerpt(word), role=role_name))
            return
        if role < Role.OPERATOR:
            allowed, warn, wait = self.rate.check((group.id, message.sender_id), ctx.now)
            if not allowed:
                if warn:
                    await ctx.reply(CORE_TEXTS.get(group.language, "slow_down", seconds=wait))
                return
        await self._call(binding.enabled, binding.command.handler(ctx), ctx, apologize=True)

    async def _unknown(
        self, group: GroupSetup, message: IncomingMessage, role: Role, word: str,
        unit: MessageUnit,
    ) -> None:
        builtin = group.plugins[0]
        ctx = self._context(builtin, group, message, role, word, unit=unit)
        elsewhere = self._installed_command(word)
        if elsewhere is not None:  # "/打卡" where check-in is off: say who can turn it on
            await ctx.reply(_not_enabled(group, excerpt(word), elsewhere))
            return
        names = ["/" + name for name in group.slash]
        if group.language == "en":  # suggest English words only (/addpoints, not /加分)
            names = ["/" + w for w in (*group.slash, *group.keywords) if not has_cjk(w)]
        close = difflib.get_close_matches(
            "/" + word.lstrip("".join(ctx.services.config.prefixes)), names, n=1, cutoff=0.6
        )
        hint = CORE_TEXTS.get(group.language, "did_you_mean", suggestion=close[0]) if close else ""
        await ctx.reply(CORE_TEXTS.get(group.language, "unknown", word=excerpt(word), hint=hint))

    def _installed_command(self, word: str) -> Plugin[Any] | None:
        """The installed plugin (not enabled in this group) whose command `word` names."""
        bare = word.lstrip("".join(self.services.config.prefixes))
        bare = _without_trailing_marks(bare) or bare
        installed = self._commands_installed()
        return installed.get(bare.lower()) or installed.get(bare)

    def _commands_installed(self) -> dict[str, Plugin[Any]]:
        """Every installed plugin's command words (names and aliases), built once."""
        if self._installed is None:
            self._installed = {}
            for plugin in self.services.runtime.plugins:
                for command in plugin.commands:
                    for name in (command.name.lower(), *command.aliases):
                        self._installed.setdefault(name, plugin)
        return self._installed

    async def _member_event(self, event: MemberJoined | MemberLeft) -> None:
        await self.services.activity.record_member(event, self.services.clock.now())
        group = self.services.config.setup_for(event.group_id)
        handlers = (
            group.join_handlers() if isinstance(event, MemberJoined) else group.leave_handlers()
        )
        for enabled, handler in handlers:
            ctx = EventContext(
                enabled.plugin,
                group,
                enabled.settings,
                self.services.clock.now(),
                self.services,
                event=event,
            )
            await self._call(enabled, handler(ctx), ctx)

    def _context(
        self,
        enabled: EnabledPlugin,
        group: GroupSetup,
        message: IncomingMessage,
        role: Role,
        word: str = "",
        args: str = "",
        *,
        is_command: bool = False,
        unit: MessageUnit | None = None,
    ) -> Context[Any]:
        return Context(
            enabled.plugin,
            group,
            enabled.settings,
            self._sent_time(message),  # a late message is handled as of when it was sent
            self.services,
            message=message,
            role=role,
            args=args,
            command_word=word,
            is_command=is_command,
            unit=unit,
        )

    async def _call(
        self,
        enabled: EnabledPlugin,
        call: Awaitable[Any],
        ctx: Context[Any] | EventContext[Any],
        *,
        apologize: bool = False,
    ) -> Any:
        """Run one plugin's handler; its failure is logged (and, for commands, apologized
        for), never spread to the other plugins."""
        try:
            return await call
        except AlreadyHandled:
            raise  # not the plugin's failure: the whole message stops here
        except Exception:
            event = ctx.message if isinstance(ctx, Context) else ctx.event
            log.exception(
                "plugin %s failed (group %s, from %s: %r)",
                enabled.plugin.name,
                getattr(event, "group_id", "?"),
                getattr(event, "sender_id", "?"),
                getattr(event, "text", "")[:200],
            )
            if apologize and isinstance(ctx, Context):
                title = (
                    enabled.plugin.title_en if ctx.group.language == "en" else enabled.plugin.title
                )
                await ctx.reply(
                    CORE_TEXTS.get(
                        ctx.group.language, "apology", title=title or enabled.plugin.title
                    )
                )
            return None
