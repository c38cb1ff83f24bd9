"""Quiz and idiom-chain bookkeeping as plain functions over a session.

Races are settled by the database, identically on SQLite and PostgreSQL: the one INSERT into
`quiz_active` that lands starts a game, the one UPDATE that finds a question open wins it,
and a chain position or idiom is taken by the first INSERT (unique keys).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from bot.storage import Prepared, chunked, dialect_insert
from plugins.quiz.bank import LoadedBank, Question
from plugins.quiz.models import QuizActive, QuizAsked, QuizChainMove, QuizRound

SOURCE = "quiz"


class GameBusy(Exception):
    def __init__(self, game: str) -> None:
        super().__init__(f"a {game} game is running")
        self.game = game


# Statements built once, with bind parameters: building them cost more than SQLite's work,
# and a game's start, answers and end run several (issue 14 point 6).
_ACTIVE = select(QuizActive.round_id).where(QuizActive.group_id == bindparam("group"))
_RELEASE = delete(QuizActive).where(QuizActive.group_id == bindparam("group"),
                                    QuizActive.round_id == bindparam("round"))
_OPEN = (select(QuizAsked).where(QuizAsked.round_id == bindparam("round"),
                                 QuizAsked.outcome.is_(None))
         .order_by(QuizAsked.id.desc()).limit(1))
_CLOSE = (update(QuizAsked).where(QuizAsked.id == bindparam("asked"), QuizAsked.outcome.is_(None))
          .values(outcome=bindparam("new_outcome"), closed_at=bindparam("at")))
_WIN = (update(QuizAsked).where(QuizAsked.id == bindparam("asked"), QuizAsked.outcome.is_(None))
        .values(outcome="answered", winner_id=bindparam("member"),
                winner_name=bindparam("name"), points=bindparam("new_points"),
                closed_at=bindparam("at")))
# A fan-out's reads, for many groups at once (plugins/quiz/fanout.py).
_GROUPS = bindparam("groups", expanding=True)
_GAMES = (select(QuizActive.group_id, QuizRound.game)
          .join(QuizRound, QuizRound.id == QuizActive.round_id)
          .where(QuizActive.group_id.in_(_GROUPS)))
# Core inserts: a game's start writes two rows and an ORM flush of each cost several times
# the statement (a daily quiz's fan-out starts thousands).
_NEW_ROUND = Prepared(insert(QuizRound.__table__).returning(QuizRound.id))
_NEW_ASKED = Prepared(insert(QuizAsked.__table__).returning(QuizAsked.id))
_ACTIVATE = Prepared(lambda dialect: dialect_insert(dialect)(QuizActive.__table__)
                     .on_conflict_do_nothing())
_SCORES = (select(QuizAsked.winner_id, func.max(QuizAsked.winner_name), func.count(),
                  func.sum(QuizAsked.points))
           .where(QuizAsked.round_id == bindparam("round"), QuizAsked.outcome == "answered")
           .group_by(QuizAsked.winner_id))


async def active_round(session: AsyncSession, group_id: str) -> QuizRound | None:
    round_id = await session.scalar(_ACTIVE, {"group": group_id})
    return None if round_id is None else await session.get(QuizRound, round_id)


async def active_games(session: AsyncSession, group_ids: list[str]) -> dict[str, str]:
    """The game running in each of these groups that runs one."""
    games: dict[str, str] = {}
    for part in chunked(group_ids):
        games.update((group, game) for group, game in await session.execute(
            _GAMES, {"groups": part}))
    return games


async def claim(session: AsyncSession, group_id: str, game: str, started_by: str,
                now: datetime, *, bank: str = "", plan: list[Any] | None = None,
                free: bool = False) -> QuizRound:
    """Start a game in the group, or raise GameBusy naming the game already running.
    `free`: the caller read that none runs (a fan-out's read): no need to look first — the
    INSERT into quiz_active decides either way."""
    existing = None if free else await active_round(session, group_id)
    if existing is not None:
        raise GameBusy(existing.game)
    values = {"group_id": group_id, "game": game, "bank": bank, "plan": plan or [],
              "started_by": started_by, "started_at": now, "hints_used": 0}
    (round_id,) = await _NEW_ROUND.one(session, values)
    if not await _ACTIVATE.run(session, {"group_id": group_id, "round_id": round_id}):
        existing = await active_round(session, group_id)  # started since it was read
        raise GameBusy(existing.game if existing is not None else game)
    return QuizRound(id=round_id, **values)


async def release(session: AsyncSession, game_round: QuizRound, reason: str,
                  now: datetime) -> bool:
    """End the game; False if it had already ended (a timeout and 停止 at once)."""
    result = await session.execute(_RELEASE, {"group": game_round.group_id,
                                              "round": game_round.id})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    game_round.ended_at, game_round.end_reason = now, reason
    return True


def plan_round(banks: list[LoadedBank], count: int, recent: set[tuple[str, int]],
               rng: random.Random) -> list[list[Any]]:
    """`count` questions drawn from the banks, preferring ones not asked here lately."""
    pool = _pool(tuple((b.key, len(b.bank.questions)) for b in banks))
    fresh = [q for q in pool if q not in recent] if recent else pool
    chosen = rng.sample(fresh, min(count, len(fresh)))
    if len(chosen) < count:
        taken = set(chosen)
        stale = [q for q in pool if q not in taken]
        chosen += rng.sample(stale, min(count - len(chosen), len(stale)))
    return [list(q) for q in chosen]


@lru_cache(maxsize=64)
def _pool(sizes: tuple[tuple[str, int], ...]) -> list[tuple[str, int]]:
    """Every (bank, index) of banks of these sizes: the same for every group of a fan-out
    (a few hundred tuples each time otherwise). Callers only read it."""
    return [(key, i) for key, size in sizes for i in range(size)]


RECENT = 500  # questions a group was asked lately: a new round prefers others


async def recent_questions(session: AsyncSession, group_id: str,
                           limit: int = RECENT) -> set[tuple[str, int]]:
    rows = await session.execute(_recent(limit), {"group": group_id})
    return {(bank, index) for bank, index in rows}


async def recent_questions_of(session: AsyncSession, group_ids: list[str],
                              limit: int = RECENT) -> dict[str, set[tuple[str, int]]]:
    """`recent_questions` of many groups, a few hundred groups per statement (each group's
    latest `limit`, ranked within the group)."""
    recent: dict[str, set[tuple[str, int]]] = {group: set() for group in group_ids}
    for part in chunked(group_ids):
        for group, bank, index in await session.execute(_recent_of(limit), {"groups": part}):
            recent[group].add((bank, index))
    return recent


@cache
def _recent(limit: int) -> Any:
    return (select(QuizAsked.bank, QuizAsked.question_index)
            .where(QuizAsked.group_id == bindparam("group"))
            .order_by(QuizAsked.id.desc()).limit(limit))


@cache
def _recent_of(limit: int) -> Any:
    ranked = (select(QuizAsked.group_id, QuizAsked.bank, QuizAsked.question_index,
                     func.row_number().over(partition_by=QuizAsked.group_id,
                                            order_by=QuizAsked.id.desc()).label("n"))
              .where(QuizAsked.group_id.in_(_GROUPS)).subquery())
    return (select(ranked.c.group_id, ranked.c.bank, ranked.c.question_index)
            .where(ranked.c.n <= limit))


async def ask(session: AsyncSession, game_round: QuizRound, position: int, bank: str,
              index: int, question: Question, now: datetime, time_limit: timedelta) -> QuizAsked:
    values = {"round_id": game_round.id, "group_id": game_round.group_id,
              "position": position, "bank": bank, "question_index": index,
              "question": question.model_dump(mode="json"), "asked_at": now,
              "deadline_at": now + time_limit, "winner_name": "", "points": 0}
    (asked_id,) = await _NEW_ASKED.one(session, values)
    return QuizAsked(id=asked_id, **values)


async def open_question(session: AsyncSession, round_id: int) -> QuizAsked | None:
    return await session.scalar(_OPEN, {"round": round_id})


async def asked_count(session: AsyncSession, round_id: int) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(QuizAsked).where(QuizAsked.round_id == round_id)) or 0)


async def win(session: AsyncSession, asked_id: int, group_id: str, member_id: str,
              name: str, points: int, now: datetime) -> bool:
    """The first correct answer takes the question (and its points); later ones get False."""
    result = await session.execute(_WIN, {"asked": asked_id, "member": member_id,
                                          "name": name[:128], "new_points": points, "at": now})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if points:
        why = ledger.Change("答题答对", SOURCE, now, ref=f"quiz:{asked_id}")
        await ledger.change(session, group_id, member_id, points, why, name=name)
    return True


async def close(session: AsyncSession, asked_id: int, outcome: str, now: datetime) -> bool:
    result = await session.execute(_CLOSE, {"asked": asked_id, "new_outcome": outcome,
                                            "at": now})
    return result.rowcount == 1  # type: ignore[attr-defined]


async def quiz_scores(session: AsyncSession, round_id: int) -> list[tuple[str, int, int]]:
    """(name, questions won, points), best first."""
    rows = await session.execute(_SCORES, {"round": round_id})
    scores = [(name or member, int(won), int(points or 0)) for member, name, won, points in rows]
    return sorted(scores, key=lambda s: (-s[2], -s[1], s[0]))


# -- idiom chain ------------------------------------------------------------------------------

async def chain_moves(session: AsyncSession, round_id: int) -> list[QuizChainMove]:
    return list(await session.scalars(
        select(QuizChainMove).where(QuizChainMove.round_id == round_id)
        .order_by(QuizChainMove.position)))


async def add_move(session: AsyncSession, game_round: QuizRound, position: int, idiom: str,
                   member_id: str, name: str, points: int, now: datetime) -> bool:
    """Take chain position `position` with `idiom`; False if either was taken first."""
    try:
        async with session.begin_nested():
            await session.execute(insert(QuizChainMove).values(
                round_id=game_round.id, group_id=game_round.group_id, position=position,
                idiom=idiom, member_id=member_id, member_name=name[:128], points=points, at=now))
    except IntegrityError:
        return False
    if points:
        why = ledger.Change("成语接龙", SOURCE, now, ref=f"chain:{game_round.id}:{position}")
        await ledger.change(session, game_round.group_id, member_id, points, why, name=name)
    return True


async def chain_scores(session: AsyncSession, round_id: int) -> list[tuple[str, int, int]]:
    rows = await session.execute(
        select(QuizChainMove.member_id, func.max(QuizChainMove.member_name), func.count(),
               func.sum(QuizChainMove.points))
        .where(QuizChainMove.round_id == round_id, QuizChainMove.position > 0)
        .group_by(QuizChainMove.member_id))
    scores = [(name or member, int(n), int(points or 0)) for member, name, n, points in rows]
    return sorted(scores, key=lambda s: (-s[1], s[0]))


async def use_hint(session: AsyncSession, round_id: int, allowed: int) -> int | None:
    """Counts a hint: which one of the game it is (1, 2, …), or None if all were used."""
    result = await session.execute(
        update(QuizRound).where(QuizRound.id == round_id, QuizRound.hints_used < allowed)
        .values(hints_used=QuizRound.hints_used + 1))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.scalar(select(QuizRound.hints_used).where(QuizRound.id == round_id))
