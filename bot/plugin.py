"""The plugin API: a plugin is one value assembled from explicit lists.

Nothing registers itself at import time: installed plugins are found through the
`qunbot.plugins` entry points (bot/registry.py), and a group's YAML says which it enables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.i18n import Texts

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config.loader import ContentProblem
    from bot.context import Context, EventContext, JobContext


class Role(IntEnum):
    """Who may run a command; each role may do what the roles below it may."""

    MEMBER = 0
    ADMIN = 1
    OWNER = 2
    OPERATOR = 3


class NoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


S = TypeVar("S", bound=BaseModel)

Handler = Callable[["Context[Any]"], Awaitable[None]]
# Guards and passive handlers return True when they consumed the message (stops the chain).
Filter = Callable[["Context[Any]"], Awaitable[bool]]
JobHandler = Callable[["JobContext[Any]"], Awaitable[None]]
# A job's fan-out hook (bot/scheduler.py): entered once with the contexts of every group
# whose slot a fan-out runs, before any of them runs; left when the fan-out is done.
FanOutHook = Callable[[Sequence["JobContext[Any]"]], "AbstractAsyncContextManager[None]"]
MemberHandler = Callable[["EventContext[Any]"], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str  # the slash form without its prefix: "checkin" answers "/checkin"
    handler: Handler
    aliases: tuple[str, ...] = ()  # keyword forms: "打卡", "签到"
    role: Role = Role.MEMBER
    help: str = ""
    help_en: str = ""
    # Acts on the whole bot (reload): only roles bot.yaml gives count, never the room's own.
    bot_wide: bool = False


@dataclass
class Router:
    """Collects a module's handlers; a plugin lists its routers explicitly."""

    commands: list[Command] = field(default_factory=list)
    guards: list[Filter] = field(default_factory=list)
    passives: list[Filter] = field(default_factory=list)
    join_handlers: list[MemberHandler] = field(default_factory=list)
    leave_handlers: list[MemberHandler] = field(default_factory=list)

    def command(
        self, name: str, *aliases: str, role: Role = Role.MEMBER, help: str = "", help_en: str = "",
        bot_wide: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands.append(Command(name, handler, aliases, role, help, help_en, bot_wide))
            return handler

        return register

    def guard(self, handler: Filter) -> Filter:
        """Sees every message before commands (moderation); True stops it there."""
        self.guards.append(handler)
        return handler

    def passive(self, handler: Filter) -> Filter:
        """Sees messages that were not commands (quiz answers, questions to the bot)."""
        self.passives.append(handler)
        return handler

    def on_join(self, handler: MemberHandler) -> MemberHandler:
        self.join_handlers.append(handler)
        return handler

    def on_leave(self, handler: MemberHandler) -> MemberHandler:
        self.leave_handlers.append(handler)
        return handler


@dataclass(frozen=True)
class Schedule:
    """When a job runs for one group: daily at a local time, a 5-field cron line, or once a
    day at a moment drawn within a window (`between`: start, end), the same moment for the
    same group, job and day however often it is asked (so a restart keeps it)."""

    key: str  # unique within the job for one group; part of the delivery ledger's slot key
    at: time | None = None
    cron: str | None = None
    weekdays: tuple[int, ...] = ()  # 0 = Monday; empty = every day (`at` and `between`)
    payload: Any = None
    between: tuple[time, time] | None = None
    # The bot's own bookkeeping (members see nothing): a slot skipped while the bot was down
    # is not reported to operators.
    background: bool = False

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.at, self.cron, self.between)) != 1:
            raise ValueError("a schedule needs exactly one of `at`, `cron` and `between`")
        if self.between is not None and not self.between[0] < self.between[1]:
            raise ValueError("`between` needs a start before its end, within one day")


@dataclass(frozen=True)
class Job(Generic[S]):
    name: str
    run: JobHandler
    when: Callable[[S], Iterable[Schedule]]
    # Reads for all of a fan-out's groups at once (a few statements, not a few per group).
    prepare: FanOutHook | None = None


# Problems as text (at the plugin's block), KeyProblem (at one key of it) or ConfigIssue
# (a content file's own problem, at its file and line).
ContentCheck = Callable[[Any, Path], "Sequence[ContentProblem]"]


@dataclass(frozen=True)
class DigestQuery:
    """What the operators' digest asks every plugin for: figures per group and local day."""

    group_ids: tuple[str, ...]
    days: tuple[date, ...]  # local dates, oldest first; the last one is the digest's day
    timezones: dict[str, ZoneInfo] = field(default_factory=dict)  # group id → its zone
    language: str = "zh"  # the digest's language: labels and notes are written in it

    def local_day(self, group_id: str, instant: datetime) -> date:
        """The group's local date of an instant (UTC for a group without a zone)."""
        return instant.astimezone(self.timezones.get(group_id, UTC)).date()

    def tally(self, rows: Iterable[Sequence[Any]]) -> dict[tuple[str, date], float]:
        """Rows of (group id, instant[, amount]) added up per group and local day asked for
        (an amount of 1 when a row has none)."""
        days, totals = set(self.days), {}
        for group, at, *amount in rows:
            if (day := self.local_day(group, at)) in days:
                totals[(group, day)] = totals.get((group, day), 0) + (amount[0] if amount else 1)
        return totals

    def span(self) -> tuple[datetime, datetime]:
        """Instants covering every group's days (a day of margin for the time zones)."""
        first = datetime.combine(min(self.days) - timedelta(days=1), time(), tzinfo=UTC)
        return first, datetime.combine(max(self.days) + timedelta(days=2), time(), tzinfo=UTC)


@dataclass(frozen=True)
class Metric:
    key: str  # "checkin.count"
    label: str  # what operators read: "打卡人数"
    values: dict[tuple[str, date], float]  # (group id, local day) → value; missing = 0
    percent: bool = False


@dataclass(frozen=True)
class DigestContribution:
    metrics: list[Metric] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)  # group id → lines to show


# One query for all groups at once: the digest covers thousands of groups.
DigestSource = Callable[["AsyncSession", DigestQuery], Awaitable[DigestContribution]]


@dataclass(frozen=True)
class Plugin(Generic[S]):
    name: str
    title: str
    settings: type[S] = NoSettings  # type: ignore[assignment]
    routers: Sequence[Router] = ()
    jobs: Sequence[Job[S]] = ()
    texts: Texts = field(default_factory=lambda: Texts(zh={}))
    title_en: str = ""
    # Validates content files the settings point at; returns every problem found.
    check_content: ContentCheck | None = None
    # Adds this plugin's figures to the operators' daily digest.
    digest: DigestSource | None = None
    # Once per group when the bot starts, after missed jobs were caught up: to re-arm
    # one-off timers (they live in memory) from what the plugin keeps in the database.
    on_start: JobHandler | None = None
    # The Alembic version folder for this plugin's own tables (a branch of its own), for
    # plugins installed from outside qunbot; the shipped ones live in the core history.
    migrations: Path | None = None
    # Loads what this plugin's first use in a group would (a dictionary, a segmenter, the
    # group's content files), in a thread after the bot started, so no member's first
    # message waits for it. Called with the group's settings and bot.yaml's folder; blocking.
    warm_up: Callable[[S, Path], object] | None = None

    @property
    def commands(self) -> list[Command]:
        return [command for router in self.routers for command in router.commands]

    def _all(self, attribute: str) -> list[Any]:
        return [item for router in self.routers for item in getattr(router, attribute)]

    @property
    def guards(self) -> list[Filter]:
        return self._all("guards")

    @property
    def passives(self) -> list[Filter]:
        return self._all("passives")

    @property
    def join_handlers(self) -> list[MemberHandler]:
        return self._all("join_handlers")

    @property
    def leave_handlers(self) -> list[MemberHandler]:
        return self._all("leave_handlers")
