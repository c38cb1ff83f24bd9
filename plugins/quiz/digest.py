"""Quiz figures for the operators' digest, per local day: games played (quiz rounds and
idiom chains), questions answered right, chain moves."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.quiz.models import QuizAsked, QuizChainMove, QuizRound
from plugins.quiz.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    start, end = query.span()
    groups = query.group_ids
    played = await session.execute(
        select(QuizRound.group_id, QuizRound.started_at).where(
            QuizRound.group_id.in_(groups), QuizRound.started_at >= start,
            QuizRound.started_at < end))
    answered = await session.execute(
        select(QuizAsked.group_id, QuizAsked.closed_at).where(
            QuizAsked.group_id.in_(groups), QuizAsked.outcome == "answered",
            QuizAsked.closed_at >= start, QuizAsked.closed_at < end))
    moves = await session.execute(
        select(QuizChainMove.group_id, QuizChainMove.at).where(
            QuizChainMove.group_id.in_(groups), QuizChainMove.position > 0,
            QuizChainMove.at >= start, QuizChainMove.at < end))
    return DigestContribution(metrics=[
        Metric("quiz.games", TEXTS.get(query.language, "digest.games"), _per_day(query, played)),
        Metric("quiz.answered", TEXTS.get(query.language, "digest.answered"),
               _per_day(query, answered)),
        Metric("quiz.chain", TEXTS.get(query.language, "digest.chain"), _per_day(query, moves)),
    ])


def _per_day(
    query: DigestQuery, rows: Iterable[tuple[str, datetime]]
) -> dict[tuple[str, date], float]:
    """How many of the (group, instant) rows fall on each of the groups' local days."""
    days = set(query.days)
    counts: dict[tuple[str, date], float] = {}
    for group, at in rows:
        if (day := query.local_day(group, at)) in days:
            counts[(group, day)] = counts.get((group, day), 0) + 1
    return counts
