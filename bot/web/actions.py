"""What the console's forms do, each with the same rules as its chat command.

- answering a 待答 question teaches it like `教` (closing every open question the answer
  covers) and posts the answer in the group, @-mentioning the asker;
- 误判 and 撤销警告 undo through plugins/moderation's service and its in-memory state, and
  open the core 小黑屋 the undone action closed, as moderation's chat commands do;
- 放出 releases from the core 小黑屋 (bot/blackroom.py) as the built-in `放出` does, and the
  group is told in the built-in's words.

Every change and the messages that report it are written in one transaction (the
transactional outbox), as a handler's would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.blackroom import Stay
from bot.context import JobContext
from bot.events import Outgoing, OutKind
from bot.groups import EnabledPlugin, GroupSetup
from bot.text import fill

if TYPE_CHECKING:
    from bot.runtime import BotRuntime


class ActionRefused(Exception):
    """Shown to the operator as it is (already a sentence in the page's language)."""


def enabled(group: GroupSetup, plugin: str) -> EnabledPlugin | None:
    return next((e for e in group.plugins if e.plugin.name == plugin), None)


def _group(runtime: BotRuntime, group_id: str) -> GroupSetup:
    group = runtime.config.groups.get(group_id)
    if group is None:
        raise ActionRefused("这个群已不在配置中 / the group is no longer configured")
    return group


def _context(runtime: BotRuntime, group: GroupSetup, plugin: str) -> JobContext[Any]:
    found = enabled(group, plugin)
    if found is None:
        raise ActionRefused(f"{group.name}: {plugin} is not enabled")
    now = runtime.clock.now()
    return JobContext(found.plugin, group, found.settings, now, runtime.services, slot=now)


async def _sent(runtime: BotRuntime) -> None:
    """Simulated time (harness, console transcripts): send now, as a handler's replies are."""
    if runtime.simulated:
        await runtime.settle()


# -- 待答 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    group_id: str
    asker: str
    closed: int


async def answer_question(runtime: BotRuntime, question_id: int, answer: str, by: str,
                          may_see: Any) -> Answered:
    from plugins.qa import service
    from plugins.qa.models import QaUnanswered

    answer = answer.strip()[:2000]
    if not answer:
        raise ActionRefused("答案不能为空 / the answer is empty")
    async with runtime.db.transaction() as session:
        asked = await session.get(QaUnanswered, question_id)
        if asked is None or not may_see(asked.group_id):
            raise ActionRefused("没有这个问题 / no such question")
        if asked.closed_at is not None:
            raise ActionRefused("这个问题已经答过了 / already answered")
        group = _group(runtime, asked.group_id)
        ctx = _context(runtime, group, "qa")
        question = asked.question[: service.MAX_QUESTION]
        # The rules of `教`: the taught pair closes every open question it covers.
        faq = service.load_faq([], [(question, answer)])
        closes = [q for q in await service.open_questions(session, group.id, limit=200)
                  if (m := faq.index.best(q.question)) and m.coverage >= ctx.settings.threshold]
        if asked.id not in {q.id for q in closes}:
            closes.append(asked)
        closed = await service.teach(session, group.id, question, answer, by, ctx.now, closes)
        service.taught_changed(ctx.state, group.id)
        text = fill(answer, {"name": await _name(session, group.id, asked.member_id),
                             "group": group.name})
        items = await runtime.outbox.stage(session, [Outgoing(
            text=text, kind=OutKind.REPLY, group_id=group.id, mentions=(asked.member_id,))])
    service.taught_changed(ctx.state, group.id)  # after the commit too (see `教`)
    runtime.outbox.enqueue(items)
    await _sent(runtime)
    return Answered(group.id, asked.member_id, closed)


async def _name(session: Any, group_id: str, member_id: str) -> str:
    from sqlalchemy import func, select

    from bot.activity import ActivityDaily

    name = await session.scalar(select(func.max(ActivityDaily.name)).where(
        ActivityDaily.group_id == group_id, ActivityDaily.member_id == member_id))
    return name or member_id


# -- moderation -------------------------------------------------------------------------------


async def undo_action(runtime: BotRuntime, action_id: int, *, misjudged: bool, may_see: Any,
                      by: str) -> str:
    """误判 (this action undone and its exception added, as the chat command does for the
    latest one) or 撤销警告 (the member's latest action undone). Returns what the group is
    told, which is also posted there."""
    from plugins.moderation import handlers, service
    from plugins.moderation.models import ModerationAction

    async with runtime.db.transaction() as session:
        row = await session.get(ModerationAction, action_id)
        if row is None or not may_see(row.group_id):
            raise ActionRefused("没有这条记录 / no such action")
        group_id, member_id = row.group_id, row.member_id
    ctx = _context(runtime, _group(runtime, group_id), "moderation")
    state = await handlers.group_state(ctx)
    async with ctx.transaction() as session:
        if misjudged:
            action = await session.get(ModerationAction, action_id)
        else:
            action = await service.last_action(session, group_id, member_id)
        if action is None or action.undone:
            raise ActionRefused(ctx.t("nothing_to_undo"))
        await service.undo(session, action, ctx.now)
        if action.action.startswith("blackroom"):  # the 小黑屋 it opened is opened again
            await runtime.services.blackroom.release(session, group_id, action.member_id,
                                                     ctx.now, by=by)
        allowance = handlers._allowance_for(ctx, action) if misjudged else None
        if allowance:
            await service.add_exception(session, group_id, allowance.stored)
            state.allowed.add(allowance.stored)
        rule = ctx.t(f"rule.{action.rule}")
        told = (ctx.t("misjudged", name=action.member_id, rule=rule, allowed=allowance.shown)
                if allowance else
                ctx.t("undone", name=action.member_id, rule=rule, action=action.action))
        await ctx.notice(told)
    await _sent(runtime)
    return told


async def blackroom_release(runtime: BotRuntime, group_id: str, member_id: str, by: str
                            ) -> bool:
    """放出, as the built-in command does: out of the core 小黑屋 (its table and the copy
    every plugin asks), whoever put them in, and the group told in the built-in's words.
    False if they were not inside (the group is told nothing)."""
    from bot.builtin import builtin  # its texts: the built-in's words

    ctx = _context(runtime, _group(runtime, group_id), builtin.name)
    async with ctx.transaction() as session:
        stay = await runtime.services.blackroom.release(session, group_id, member_id,
                                                        ctx.now, by=by)
        if stay:
            await ctx.notice(ctx.t("released", name=stay.name or member_id))
    await _sent(runtime)
    return stay is not None


def stay_words(runtime: BotRuntime, stay: Stay, language: str) -> tuple[str, str]:
    """(why, by which plugin) of a 小黑屋 stay, named as the built-in `小黑屋` names them:
    the reason is a text key of the plugin that put the member in."""
    plugin = next((p for p in (*runtime.builtins, *runtime.plugins) if p.name == stay.source),
                  None)
    if plugin is None:
        return stay.reason, stay.source
    try:
        reason = plugin.texts.get(language, stay.reason)
    except KeyError:
        reason = stay.reason
    return reason, (plugin.title_en or plugin.title) if language == "en" else plugin.title


def local(at: datetime, group: GroupSetup | None) -> str:
    return f"{at.astimezone(group.timezone) if group else at:%m-%d %H:%M}"
