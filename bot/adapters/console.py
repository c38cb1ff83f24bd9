"""The console adapter: a group chat simulated in the terminal, or played from a transcript.

Transcript format (one step a line; `#` starts a comment):

    @group 读书会              current group, by id or name
    @group wx-room-9f3a        a room id missing from bot.yaml plays as an unlisted room
    @config onboarding.yaml    the owner edits bot.yaml: from here on it reads as this file
                               (relative to bot.yaml's folder; `/reload` picks it up)
    @at 2026-11-23 08:59       set the simulated clock (group timezone); nothing fires
    @advance 1d                move the clock on by s/m/h/d; every job due on the way fires
    @join carol / @leave carol
    @join carol by alice       carol joins, invited by alice (the platform names the inviter)
    alice: 打卡 今天读完第三章    a message (a comment after it needs two spaces before `#`)
    bob: @小助手 怎么退群?        @-mentions the bot by its display name
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, TextIO

from bot.adapters.base import EventSink
from bot.adapters.simulated import Delivery, SimulatedAdapter, SimulatedChat
from bot.clock import parse_duration
from bot.events import Event


class TimeControl(Protocol):
    async def advance_to(self, target: datetime) -> None: ...
    async def jump_to(self, target: datetime) -> None: ...
    async def settle(self) -> None: ...


class ScriptError(Exception):
    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Step:
    line: int
    action: str  # group | at | advance | join | leave | config | say
    subject: str = ""  # group key, member, or speaker
    text: str = ""
    when: datetime | None = None  # naive local time, for `at`
    delta: timedelta | None = None


_SAY = re.compile(r"^([^\s:：@#][^\s:：]*)\s*[:：]\s?(.*)$")
_MESSAGE_COMMENT = re.compile(r"\s{2,}#\s.*$")
_DIRECTIVE_COMMENT = re.compile(r"\s+#.*$")
# What a WeChat room id looks like ("12345678@chatroom", "wx-room-9f3a"): an unknown key of
# this shape is a room the config does not list; any other unknown key is a typo.
_ROOM_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_@.\-]*$")
_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


def parse_script(text: str, path: str, is_group: Callable[[str], bool]) -> list[Step]:
    """Parse a whole transcript first, so a bad line stops it before anything runs."""
    steps = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        try:
            steps.append(_parse_line(number, line, is_group))
        except ValueError as exc:
            raise ScriptError(path, number, f"{exc}: {raw.strip()!r}") from None
    return steps


def _parse_line(number: int, line: str, is_group: Callable[[str], bool]) -> Step:
    if line.startswith("@"):
        return _parse_directive(number, _DIRECTIVE_COMMENT.sub("", line), is_group)
    match = _SAY.match(_MESSAGE_COMMENT.sub("", line))
    if not match or not match.group(2).strip():
        raise ValueError("expected `member: message`, `@directive ...` or `# comment`")
    return Step(number, "say", match.group(1), text=match.group(2).strip())


def _parse_directive(number: int, line: str, is_group: Callable[[str], bool]) -> Step:
    name, _, argument = line[1:].partition(" ")
    argument = argument.strip()
    if name not in ("group", "at", "advance", "join", "leave", "config"):
        raise ValueError(
            f"unknown directive @{name} (use @group @at @advance @join @leave @config)")
    if not argument:
        raise ValueError(f"@{name} needs an argument")
    if name == "group" and not is_group(argument) and not _ROOM_ID.match(argument):
        raise ValueError(f"no group {argument!r} in the config (a room the config does not "
                         "list is named by its id, e.g. 12345678@chatroom)")
    if name == "at":
        return Step(number, "at", when=_parse_time(argument))
    if name == "advance":
        return Step(number, "advance", delta=parse_duration(argument))
    if name == "join":  # `@join carol by alice`: the platform says who invited carol
        member, _, inviter = argument.partition(" by ")
        return Step(number, name, member.strip(), text=inviter.strip())
    return Step(number, name, argument)


def _parse_time(text: str) -> datetime:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError("invalid time (use YYYY-MM-DD HH:MM)")


def first_time(steps: list[Step]) -> datetime | None:
    return next((s.when for s in steps if s.action == "at"), None)


class ConsoleAdapter(SimulatedAdapter):
    """Plays a transcript, or reads what the user types; prints what the bot sends."""

    def __init__(
        self,
        chat: SimulatedChat,
        *,
        out: TextIO = sys.stdout,
        jsonl: bool = False,
        steps: list[Step] | None = None,
        group: str | None = None,
        speaker: str = "alice",
    ) -> None:
        super().__init__(chat, self._show)
        self.out, self.jsonl, self.steps = out, jsonl, steps
        self.group = group or next(iter(chat.groups), None)
        self.speaker = speaker
        self.time: TimeControl | None = None  # bound by the runtime before run()
        # `@config FILE`: the owner's edit of bot.yaml (bound by whoever builds the runtime)
        self.edit_config: Callable[[str], None] | None = None

    def _show(self, delivery: Delivery) -> None:
        try:
            print(
                delivery.as_json() if self.jsonl else delivery.render(self.chat.bot_name),
                file=self.out,
                flush=True,
            )
        except BrokenPipeError:  # `bot run --script x | head`: the reader left; stay quiet
            self.out = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the adapter

    async def run(self, sink: EventSink) -> None:
        assert self.time is not None, "bind the runtime's time control first"
        if self.steps is not None:
            for step in self.steps:
                await self._play(step, sink)
            return
        await self._interactive(sink)

    async def _deliver(self, event: Event, sink: EventSink) -> None:
        assert self.time is not None
        await sink(event)
        await self.time.settle()

    def _local(self, naive: datetime) -> datetime:
        group = self.chat.groups.get(self.group or "")
        return naive.replace(tzinfo=group.timezone if group else self.chat.timezone)

    async def _play(self, step: Step, sink: EventSink) -> None:
        assert self.time is not None
        if step.action == "group":
            found = self.chat.find_group(step.subject)
            if found is None:  # a room the config does not list: the bot is in it all the same
                found = self.chat.add_group(step.subject, step.subject, self.chat.timezone)
            self.group = found.id
        elif step.action == "config":
            if self.edit_config is None:
                raise ScriptError("script", step.line, "@config: this run cannot edit bot.yaml")
            self.edit_config(step.subject)
        elif step.action == "at":
            assert step.when is not None
            await self.time.jump_to(self._local(step.when))
        elif step.action == "advance":
            assert step.delta is not None
            await self.time.advance_to(self.chat.clock.now() + step.delta)
        elif self.group is None:
            raise ScriptError("script", step.line, "no group: add `@group NAME` first")
        elif step.action == "join":
            await self._deliver(self.chat.join(self.group, step.subject,
                                               inviter_id=step.text or None), sink)
        elif step.action == "leave":
            await self._deliver(self.chat.leave(self.group, step.subject), sink)
        else:
            await self._deliver(self.chat.message(self.group, step.subject, step.text), sink)

    # -- interactive --------------------------------------------------------------------

    HELP = (
        "模拟群聊：直接输入即以当前成员身份发言（或 `名字: 消息`）。\n"
        "  /as 名字      切换发言人        /group 群名或id  切换群\n"
        "  /advance 1h   拨快时钟（s/m/h/d，期间的定时任务会执行）\n"
        "  /at 2026-11-23 09:00  设置时钟   /join 名字  /leave 名字   /quit 退出"
    )

    async def _interactive(self, sink: EventSink) -> None:
        print(self.HELP, file=self.out, flush=True)
        reader = await _stdin_reader()
        ticker = asyncio.create_task(self._tick())
        try:
            while True:
                self._prompt()
                raw = await reader.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", errors="replace").strip()
                if line in ("/quit", "/exit"):
                    return
                if line:
                    await self._typed(line, sink)
        finally:
            ticker.cancel()

    def _prompt(self) -> None:
        group = self.chat.groups.get(self.group or "")
        print(
            f"[{group.name if group else '-'}] {self.speaker}> ", end="", file=self.out, flush=True
        )

    async def _tick(self) -> None:
        """Real time passes in the simulation too: due jobs fire while you wait."""
        assert self.time is not None
        while True:
            await asyncio.sleep(1)
            await self.time.advance_to(self.chat.clock.now())

    async def _typed(self, line: str, sink: EventSink) -> None:
        command, _, argument = line.partition(" ")
        meta = {
            "/as": "as",
            "/group": "group",
            "/advance": "advance",
            "/at": "at",
            "/join": "join",
            "/leave": "leave",
            "/config": "config",
        }
        try:
            if command == "/as" and argument.strip():
                self.speaker = argument.strip()
            elif command in meta and argument.strip():
                await self._play(
                    _parse_directive(
                        0,
                        f"@{meta[command]} {argument}",
                        lambda k: self.chat.find_group(k) is not None,
                    ),
                    sink,
                )
            else:
                match = _SAY.match(line)
                speaker, text = (
                    (match.group(1), match.group(2))
                    if match and self._known(match.group(1))
                    else (self.speaker, line)
                )
                if self.group is None:
                    print("没有群：先用 /group 选择一个群", file=self.out)
                    return
                await self._deliver(self.chat.message(self.group, speaker, text), sink)
        except (ValueError, ScriptError) as exc:
            print(f"无效的输入：{exc}", file=self.out, flush=True)

    def _known(self, member: str) -> bool:
        group = self.chat.groups.get(self.group or "")
        return group is not None and member in group.members


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def read_script(path: Path) -> str:
    return path.read_text(encoding="utf-8")
