"""Quiz figures for the operators' digest, per local day: games played (quiz rounds and
idiom chains), questions answered right, chain moves."""

from __future__ import annotations

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
        Metric("quiz.games", TEXTS.get(query.language, "digest.games"), query.tally(played)),
        Metric("quiz.answered", TEXTS.get(query.language, "digest.answered"),
               query.tally(answered)),
        Metric("quiz.chain", TEXTS.get(query.language, "digest.chain"), query.tally(moves)),
    ])

