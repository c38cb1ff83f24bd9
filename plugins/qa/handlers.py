"""Answering @-mentions from the FAQ, and the admins' teach / forget / 待答 commands."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import tell_operators_of_broken
from bot.context import Context
from bot.plugin import Role, Router
from bot.text import excerpt, fill
from plugins.qa import service
from plugins.qa.settings import QaSettings

router = Router()

_TEACH = re.compile(r"^(?P<question>.+?)\s*(?:=>|＝>|=＞|＝＞)\s*(?P<answer>.+)$", re.S)


def faq_paths(ctx: Context[QaSettings]) -> list[Path]:
    return [ctx.services.config.base_dir / "config" / name for name in ctx.settings.faq_files]


@router.passive
async def answer_question(ctx: Context[QaSettings]) -> bool:
    if not ctx.message.mentions_bot:
        return False
    question = ctx.message.text.strip()[: service.MAX_QUESTION]
    if not question:
        return False
    async with ctx.transaction() as session:
        faq = await group_faq(ctx, session)
        tell_operators_of_broken(ctx, faq.broken)  # answering from the last good version
        match = faq.index.best(question)
        if match is None or match.coverage < ctx.settings.threshold:
            return await _not_known(ctx, session, faq, question)
        # "The same question" is one with the same answer, however it is worded.
        key = f"faq:{match.entry}"
        recent = await service.recent_answers(session, ctx.group.id, ctx.sender_id, key,
                                              ctx.now, ctx.settings.repeat_window)
        if await _held_back(ctx, recent):
            return True
        # Rows older than 30 days go with the group's first answer of an hour, not with
        # every answer (one statement less on the way to most replies).
        await service.remember_answer(session, ctx.group.id, ctx.sender_id, key, ctx.now,
                                      purge=recent.in_group_last_hour == 0)
        text = faq.entries[match.entry].answer
        # FAQ and taught answers are owners' and admins' text: only {name} and {group}
        # filled. In the transaction: kept with the record that it was answered.
        await ctx.reply(fill(text, {"name": ctx.sender_name, "group": ctx.group.name}))
    return True


async def group_faq(ctx: Context[QaSettings], session: AsyncSession) -> service.Faq:
    return await service.faq_for(session, ctx.group.id, faq_paths(ctx), ctx.group.tags,
                                 ctx.settings.synonyms, ctx.group.name, _taught(ctx))


def _taught(ctx: Context[QaSettings]) -> dict[str, tuple[tuple[str, str], ...]]:
    return service.taught_cache(ctx.state)


def _taught_changed(ctx: Context[QaSettings]) -> None:
    # Inside the transaction and after its commit: a question answered meanwhile may
    # have cached the old answers.
    service.taught_changed(ctx.state, ctx.group.id)


async def _not_known(ctx: Context[QaSettings], session: AsyncSession, faq: service.Faq,
                     question: str) -> bool:
    """Recorded for the admins. Never "just answered": nobody answered it (a second member
    asking the same open question gets the same honest reply)."""
    key = "unknown:" + (" ".join(faq.index.words(question)) or question)
    recent = await service.recent_answers(session, ctx.group.id, ctx.sender_id, key, ctx.now,
                                          ctx.settings.repeat_window)
    if await _held_back(ctx, recent, answered=False):
        return True
    await service.remember_answer(session, ctx.group.id, ctx.sender_id, key, ctx.now,
                                  purge=recent.in_group_last_hour == 0)
    await service.record_unanswered(session, ctx.group.id, ctx.sender_id, question, ctx.now)
    admins = tuple(sorted(ctx.group.admins)) if ctx.settings.mention_admins_when_unsure else ()
    await ctx.reply(ctx.t("unknown"), also=admins)
    return True


async def _held_back(ctx: Context[QaSettings], recent: service.Recent, *,
                     answered: bool = True) -> bool:
    """Repeat pointer (only for an answer actually given), loop guard and the group's
    hourly limit, in that order."""
    settings = ctx.settings
    if answered and recent.repeated:
        await ctx.reply(ctx.t("repeat"))
        return True
    if recent.by_member_last_minute >= settings.loop_guard_per_minute:
        return True  # probably another bot: stay silent rather than loop
    return recent.in_group_last_hour >= settings.answers_per_hour


@router.command(
    "teach",
    "教",
    role=Role.ADMIN,
    help="教我回答：教 问题 => 答案",
    help_en="teach an answer: /teach question => answer",
)
async def teach(ctx: Context[QaSettings]) -> None:
    parsed = _TEACH.match(ctx.args.strip())
    if parsed is None:
        await ctx.reply(ctx.t("teach.usage"))
        return
    question = parsed["question"].strip()[: service.MAX_QUESTION]
    answer = parsed["answer"].strip()[:2000]
    async with ctx.transaction() as session:
        # The open questions this answer closes are those the group's FAQ, with it, would
        # now answer with it: matched against everything, as the next asker will be.
        known = await group_faq(ctx, session)
        taught = [(e.questions[0], e.answer) for e in known.entries[known.faq_entries:]
                  if e.questions[0] != question]
        faq = service.load_faq(faq_paths(ctx), [*taught, (question, answer)], ctx.group.tags,
                               ctx.settings.synonyms, ctx.group.name)
        new = len(faq.entries) - 1
        closes = [
            q
            for q in await service.open_questions(session, ctx.group.id, limit=200)
            if (m := faq.index.best(q.question)) and m.entry == new
            and m.coverage >= ctx.settings.threshold
        ]
        closed = await service.teach(
            session, ctx.group.id, question, answer, ctx.sender_id, ctx.now, closes
        )
        _taught_changed(ctx)
        await ctx.reply(ctx.t("teach.done", question=excerpt(question), closed=closed))
    _taught_changed(ctx)


@router.command(
    "forget",
    "忘记",
    role=Role.ADMIN,
    help="忘记教过的问题：忘记 问题",
    help_en="forget a taught answer",
)
async def forget(ctx: Context[QaSettings]) -> None:
    question = ctx.args.strip()
    if not question:
        await ctx.reply(ctx.t("forget.usage"))
        return
    async with ctx.transaction() as session:
        removed = await service.forget(session, ctx.group.id, question)
        _taught_changed(ctx)
        await ctx.reply(ctx.t("forget.done" if removed else "forget.none",
                              question=excerpt(question)))  # kept with the change
    _taught_changed(ctx)


@router.command(
    "unanswered",
    "待答",
    role=Role.ADMIN,
    help="还没答上的问题",
    help_en="questions nobody answered yet",
)
async def unanswered(ctx: Context[QaSettings]) -> None:
    async with ctx.transaction() as session:
        questions = await service.open_questions(session, ctx.group.id)
    if not questions:
        await ctx.reply(ctx.t("unanswered.none"), mention=False)
        return
    tz = ctx.group.timezone
    lines = [ctx.t("unanswered.header", count=len(questions))]
    lines += [
        f"{n}. {excerpt(q.question, 40)}（{q.asked_at.astimezone(tz):%m-%d %H:%M}）"
        for n, q in enumerate(questions, start=1)
    ]
    lines.append(ctx.t("unanswered.hint"))
    await ctx.reply("\n".join(lines), mention=False)
