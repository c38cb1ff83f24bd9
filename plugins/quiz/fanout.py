"""A fan-out of daily quizzes (issue 16.4: thousands of groups' quiz at 08:45) reads for all
its groups at once: which of them run a game (one statement before it starts), their recent
questions (a window of groups per statement, as it goes: a group may have 500, and 2,000
groups' at once would be a million rows in memory) and the banks (once). Each group's start
then writes its rows and reads nothing.

What was read of a group is dropped as soon as its game changes here (`changed`: a member
may start one between two chunks), so a start uses what it would have read itself. The
read lives in the plugin's state while the fan-out runs (`prepare_daily`, the daily job's
fan-out hook: bot/scheduler.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ConfigIssue
from bot.context import JobContext
from plugins.quiz import service
from plugins.quiz.bank import LoadedBank
from plugins.quiz.settings import QuizSettings

RECENT_WINDOW = 100  # groups per statement reading recent questions (≤ 50,000 rows)
BankRead = tuple[Path, LoadedBank | None, list[ConfigIssue]]  # None: it cannot be read


@dataclass
class FanOutRead:
    games: dict[str, str | None]  # each group's running game (None: none runs)
    ahead: deque[str]  # groups whose recent questions are not read yet, in fan-out order
    recent: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    banks: dict[tuple[str, ...], list[BankRead]] = field(default_factory=dict)

    def read(self, group: str) -> bool:
        return group in self.games


def _read(ctx: Any) -> FanOutRead | None:
    return ctx.state.get("fanout")


@asynccontextmanager
async def prepare_daily(ctxs: Sequence[JobContext[QuizSettings]]) -> AsyncIterator[None]:
    """The daily quiz's fan-out hook (a fan-out already reading for the plugin is left to
    it: the groups it has not read read for themselves)."""
    first, groups = ctxs[0], [c.group.id for c in ctxs]
    if _read(first) is not None:
        yield
        return
    async with first.services.db.transaction() as session:
        games = await service.active_games(session, groups)
    first.state["fanout"] = FanOutRead({g: games.get(g) for g in groups}, deque(groups))
    try:
        yield
    finally:
        first.state.pop("fanout", None)


def known_free(ctx: Any) -> bool:
    """The fan-out read that no game runs in the group (and none started since)."""
    read = _read(ctx)
    return read is not None and read.read(ctx.group.id) and read.games[ctx.group.id] is None


def changed(ctx: Any) -> None:
    """The group's game started, moved on or ended: what the fan-out read of it is stale."""
    if (read := _read(ctx)) is not None:
        read.games.pop(ctx.group.id, None)
        read.recent.pop(ctx.group.id, None)


async def recent_questions(ctx: Any, session: AsyncSession) -> set[tuple[str, int]]:
    """The group's recent questions: read with the next window of the fan-out's groups, or
    on its own outside one."""
    group, read = ctx.group.id, _read(ctx)
    if read is None or not read.read(group):
        return await service.recent_questions(session, group)
    if group not in read.recent:
        window = [group]
        while read.ahead and len(window) < RECENT_WINDOW:
            other = read.ahead.popleft()
            if other != group and other not in read.recent and read.read(other):
                window.append(other)
        read.recent.update(await service.recent_questions_of(session, window))
    return read.recent.pop(group)


def bank_memo(ctx: Any) -> dict[tuple[str, ...], list[BankRead]] | None:
    """Where a fan-out keeps the banks it read (None outside one)."""
    read = _read(ctx)
    return None if read is None else read.banks
