"""标签 / 去标签 for admins, the join questionnaire, and forgetting members who leave."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, EventContext, JobContext
from bot.i18n import join_list
from bot.plugin import Role, Router
from plugins.tags import service
from plugins.tags.models import TagQuestionnaire
from plugins.tags.settings import Question, TagsSettings

router = Router()

LIST_LIMIT = 50  # names shown by /标签 <tag>; the count is always complete


def _open(ctx: Any) -> set[str]:
    """Members of this group with a questionnaire waiting (fast path for every message)."""
    return ctx.state.setdefault("open", {}).setdefault(ctx.group.id, set())


def _names(ctx: Any, items: Iterable[str]) -> str:
    """Names or tags listed as the group's language writes a list."""
    return join_list(ctx.group.language, items)


@router.command("tag", "标签", "打标签", role=Role.ADMIN,
                help="标签 @成员 新人 宝妈；/标签 新人 查看带该标签的成员",
                help_en="tag @member newcomer; /tag newcomer lists members with it")
async def tag(ctx: Context[TagsSettings]) -> None:
    targets, words = ctx.message.mention_ids, service.tag_words(ctx.args)
    if targets and words:
        await _tag_members(ctx, targets, words)
    elif targets:
        await _show_tags(ctx, targets)
    elif words:
        await _list_members(ctx, words[0])
    else:
        await _list_tags(ctx)


async def _tag_members(ctx: Context[TagsSettings], targets: tuple[str, ...],
                       words: list[str]) -> None:
    fixed = [w for w in words if service.auto_key(w) is not None]
    if fixed:
        await ctx.reply(ctx.t("auto.fixed", tag=fixed[0]))
        return
    async with ctx.transaction() as session:
        for member in targets:
            await service.add(session, ctx.group.id, member, member, words, "admin", ctx.now)
        await ctx.reply(ctx.t("tagged", names=_names(ctx, targets), tags=_names(ctx, words)))


async def _show_tags(ctx: Context[TagsSettings], targets: tuple[str, ...]) -> None:
    await ctx.services.activity.flush_counts()
    lines = []
    async with ctx.transaction() as session:
        auto = await service.compute_auto(session, ctx.group, ctx.settings, ctx.now,
                                          ctx.services.blackroom)
        for member in targets:
            names = service.auto_names(ctx.group.language)
            found = [*await service.stored_tags(session, ctx.group.id, member),
                     *(names[key] for key in auto.of(member))]
            lines.append(ctx.t("member.tags", name=member, tags=_names(ctx, found)) if found
                         else ctx.t("member.none", name=member))
    await ctx.reply("\n".join(lines), mention=False)


async def _list_members(ctx: Context[TagsSettings], word: str) -> None:
    await ctx.services.activity.flush_counts()
    async with ctx.transaction() as session:
        found = await service.members_with(session, ctx.group, ctx.settings, [word], ctx.now,
                                           ctx.services.blackroom)
    if not found:
        await ctx.reply(ctx.t("list.empty", tag=word), mention=False)
        return
    more = "…" if len(found) > LIST_LIMIT else ""
    names = _names(ctx, list(found.values())[:LIST_LIMIT]) + more
    await ctx.reply(ctx.t("list.members", tag=word, count=len(found), names=names), mention=False)


async def _list_tags(ctx: Context[TagsSettings]) -> None:
    async with ctx.transaction() as session:
        counts = (await service.stored_counts(session, [ctx.group.id])).get(ctx.group.id, {})
    auto = _names(ctx, service.auto_names(ctx.group.language).values())
    if not counts:
        await ctx.reply(ctx.t("list.all.none", auto=auto), mention=False)
        return
    tags = " · ".join(f"{tag} {n}" for tag, n in sorted(counts.items(), key=lambda i: -i[1]))
    await ctx.reply(ctx.t("list.all", tags=tags, auto=auto), mention=False)


@router.command("untag", "去标签", "删标签", role=Role.ADMIN, help="去标签 @成员 新人",
                help_en="untag @member newcomer")
async def untag(ctx: Context[TagsSettings]) -> None:
    targets, words = ctx.message.mention_ids, service.tag_words(ctx.args)
    if not targets or not words:
        await ctx.reply(ctx.t("usage.untag"))
        return
    async with ctx.transaction() as session:
        removed = sum([await service.remove(session, ctx.group.id, m, words) for m in targets])
        key = "untagged" if removed else "untag.none"  # the reply kept with the change
        await ctx.reply(ctx.t(key, names=_names(ctx, targets), tags=_names(ctx, words)))


# -- the join questionnaire -----------------------------------------------------------------

def _question_text(ctx: Any, question: Question, key: str, name: str) -> str:
    choices = "\n".join(f"{n}. {c.text}" for n, c in enumerate(question.choices, start=1))
    return ctx.t(key, name=name, text=question.text, choices=choices)


@router.on_join
async def ask_newcomer(ctx: EventContext[TagsSettings]) -> None:
    if not ctx.settings.questions:
        return
    async with ctx.transaction() as session:
        await service.open_questionnaire(session, ctx.group.id, ctx.member_id, ctx.now)
        await ctx.post(_question_text(ctx, ctx.settings.questions[0], "question",
                                      ctx.member_name), mentions=(ctx.member_id,))
    _open(ctx).add(ctx.member_id)


@router.on_leave
async def forget_leaver(ctx: EventContext[TagsSettings]) -> None:
    _open(ctx).discard(ctx.member_id)
    async with ctx.transaction() as session:
        await service.forget_member(session, ctx.group.id, ctx.member_id)


@router.passive
async def take_answer(ctx: Context[TagsSettings]) -> bool:
    """A newcomer's lone number answers their waiting question; anything else passes on."""
    if ctx.sender_id not in _open(ctx):
        return False
    number = service.choice_number(ctx.message.text)
    if number is None:
        return False
    async with ctx.transaction() as session:
        done = await service.answer(session, ctx.group.id, ctx.sender_id, ctx.sender_name,
                                    number, ctx.settings, ctx.now)
        still_open = await session.get(TagQuestionnaire, (ctx.group.id, ctx.sender_id))
        if done is not None:
            await _next_or_thanks(ctx, session, done)  # kept with the answer
    if still_open is None:
        _open(ctx).discard(ctx.sender_id)
    return done is not None


async def _next_or_thanks(ctx: Context[TagsSettings], session: AsyncSession,
                          done: service.Answered) -> None:
    if done.next_question is not None:
        question = ctx.settings.questions[done.next_question]
        await ctx.reply(_question_text(ctx, question, "question.next", ctx.sender_name))
        return
    tags = await service.stored_tags(session, ctx.group.id, ctx.sender_id)
    await ctx.reply(ctx.t("answered", name=ctx.sender_name, tags=_names(ctx, tags)))


async def load_open(ctx: JobContext[TagsSettings]) -> None:
    """At start: questionnaires still waiting (the fast path lives in memory)."""
    since = ctx.now - ctx.settings.answer_within
    async with ctx.transaction() as session:
        _open(ctx).update(await service.open_questionnaires(session, ctx.group.id, since))
