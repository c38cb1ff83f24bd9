"""Quiz figures for the operators' digest: correct answers and chain moves per local day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plugin import DigestContribution, DigestQuery, Metric
from plugins.quiz.models import QuizAsked, QuizChainMove
from plugins.quiz.texts import TEXTS


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    start, end = query.span()
    days = set(query.days)
    answered: dict[tuple[str, date], float] = {}
    rows = await session.execute(
        select(QuizAsked.group_id, QuizAsked.closed_at).where(
            QuizAsked.group_id.in_(query.group_ids), QuizAsked.outcome == "answered",
            QuizAsked.closed_at >= start, QuizAsked.closed_at < end))
    for group, at in rows:
        if (day := query.local_day(group, at)) in days:
            answered[(group, day)] = answered.get((group, day), 0) + 1
    moves: dict[tuple[str, date], float] = {}
    rows = await session.execute(
        select(QuizChainMove.group_id, QuizChainMove.at).where(
            QuizChainMove.group_id.in_(query.group_ids), QuizChainMove.position > 0,
            QuizChainMove.at >= start, QuizChainMove.at < end))
    for group, at in rows:
        if (day := query.local_day(group, at)) in days:
            moves[(group, day)] = moves.get((group, day), 0) + 1
    return DigestContribution(metrics=[
        Metric("quiz.answered", TEXTS.get(query.language, "digest.answered"), answered),
        Metric("quiz.chain", TEXTS.get(query.language, "digest.chain"), moves),
    ])
