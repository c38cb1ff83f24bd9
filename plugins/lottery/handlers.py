"""Lottery commands, the keyword to join, and the draw at the deadline.

Each draw's deadline is a one-off timer (`scheduler.call_at`), armed when it opens. Timers
live in memory, so at start (`on_start`) the plugin draws what fell due while the bot was
down and re-arms the rest from the database. No periodic sweep: nothing is
written to the job ledger for draws.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, JobContext
from bot.input import DeadlinePassed, take_deadline
from bot.plugin import Role, Router
from bot.text import excerpt
from plugins.lottery import fair, service
from plugins.lottery.models import LotteryDraw, LotteryEntry
from plugins.lottery.service import normalize_keyword
from plugins.lottery.settings import LotterySettings

router = Router()

Ctx = Context[LotterySettings] | JobContext[LotterySettings]
MIN_DURATION = timedelta(minutes=1)
MENTIONS_PER_POST = 20


def _local(ctx: Ctx, instant: datetime) -> str:
    return f"{instant.astimezone(ctx.group.timezone):%m-%d %H:%M}"


def _prizes_text(ctx: Ctx, prizes: list[list[object]]) -> str:
    return ctx.t("list.sep").join(ctx.t("prize", name=name, count=count) for name, count in prizes)


def _keywords(ctx: Ctx) -> dict[str, dict[str, int]]:
    """Open draws per group: normalized keyword → draw id (a cache of the database)."""
    return ctx.state.setdefault("keywords", {})


def _taken_words(ctx: Ctx) -> set[str]:
    return {normalize_keyword(word) for word in ctx.group.keywords}


@router.command("draw", "发起抽奖", role=Role.ADMIN,
                help="发起抽奖：发起抽奖 口令 截止 奖品*人数 …",
                help_en="start a draw: /draw keyword deadline prize*winners …")
async def create_draw(ctx: Context[LotterySettings]) -> None:
    words = ctx.args.split()
    if len(words) < 3:
        await ctx.reply(ctx.t("usage"))
        return
    keyword = words[0]
    key = normalize_keyword(keyword)
    if len(keyword) > 20 or not key or key in _taken_words(ctx):
        await ctx.reply(ctx.t("bad.keyword", keyword=excerpt(keyword)))
        return
    try:
        taken = take_deadline(words[1:-1], ctx.local_now)  # at least one prize after it
    except DeadlinePassed as passed:
        await ctx.reply(ctx.t("bad.deadline_past", at=f"{passed.at:%m-%d %H:%M}"))
        return
    deadline = taken[0] if taken else None
    if (deadline is None or deadline - ctx.local_now < MIN_DURATION
            or deadline - ctx.local_now > ctx.settings.max_duration):
        await ctx.reply(ctx.t("bad.deadline", text=excerpt(words[1]),
                              days=ctx.settings.max_duration.days))
        return
    prize_words = words[1 + taken[1]:][:18]
    try:
        prizes = fair.parse_prizes(prize_words)
    except ValueError:
        await ctx.reply(ctx.t("bad.prize", text=excerpt(" ".join(prize_words))) + "\n"
                        + ctx.t("usage"))
        return
    if (points := service.points_paid(prizes)) > ctx.settings.max_points:
        await ctx.reply(ctx.t("bad.points", points=points, most=ctx.settings.max_points))
        return
    await _open(ctx, keyword, prizes, deadline)


async def _open(ctx: Context[LotterySettings], keyword: str, prizes: list[tuple[str, int]],
                deadline: datetime) -> None:
    try:
        async with ctx.transaction() as session:
            draw = await service.create(session, ctx.group.id, keyword, prizes, deadline,
                                        ctx.sender_id, ctx.now)
            await ctx.post(ctx.t("created", id=draw.id, prizes=_prizes_text(ctx, draw.prizes),
                                 keyword=keyword, deadline=_local(ctx, deadline),
                                 commitment=draw.commitment))  # kept with the draw
    except service.KeywordTaken:
        await ctx.reply(ctx.t("keyword_taken", keyword=keyword))
        return
    _keywords(ctx).pop(ctx.group.id, None)
    arm(ctx, draw)


def arm(ctx: Ctx, draw: LotteryDraw) -> None:
    """A timer at the draw's deadline (a key already pending is kept)."""
    ctx.services.scheduler.call_at(
        draw.deadline_at, f"lottery.draw:{ctx.group.id}:{draw.id}",
        lambda: draw_due(dataclasses.replace(ctx, now=ctx.services.clock.now())))


async def restore(ctx: Ctx) -> None:
    """Draw what fell due while the bot was down; re-arm the deadlines of the draws open."""
    await draw_due(ctx)
    async with ctx.transaction() as session:
        still_open = await service.open_draws(session, ctx.group.id)
    for draw in still_open:
        arm(ctx, draw)


@router.command("draws", "抽奖", help="查看进行中的抽奖", help_en="list the open draws")
async def list_draws(ctx: Context[LotterySettings]) -> None:
    async with ctx.transaction() as session:
        draws = await service.open_draws(session, ctx.group.id)
        lines = await _draw_lines(ctx, session, draws)
    await ctx.reply("\n".join(lines) or ctx.t("list.none"), mention=False)


async def _draw_lines(ctx: Ctx, session: AsyncSession,
                      draws: Sequence[LotteryDraw]) -> list[str]:
    return [ctx.t("list.item", id=d.id, keyword=d.keyword, deadline=_local(ctx, d.deadline_at),
                  count=await service.entry_count(session, d.id),
                  prizes=_prizes_text(ctx, d.prizes)) for d in draws]


@router.command("canceldraw", "取消抽奖", role=Role.ADMIN,
                help="取消进行中的抽奖（不开奖）：取消抽奖 [期号或口令] [原因]",
                help_en="cancel an open draw, nothing is drawn: "
                        "/canceldraw [number|keyword] [reason]")
async def cancel_draw(ctx: Context[LotterySettings]) -> None:
    async with ctx.transaction() as session:
        draws = await service.open_draws(session, ctx.group.id)
        target, reason = pick_draw(draws, ctx.args)
        if target is None:
            lines = await _draw_lines(ctx, session, draws)
            await ctx.reply(ctx.t("cancel.which", lines="\n".join(lines)) if draws
                            else ctx.t("list.none"))
            return
        outcome = await service.cancel(session, ctx.group.id, target.id, ctx.sender_id,
                                       ctx.now)
        people = [e.member_id for e in await service.entries(session, target.id)]
        # In the transaction: the cancellation (or the draw) and its report kept together.
        if outcome == "due":
            await ctx.reply(ctx.t("cancel.due", id=target.id))
            await draw_due(ctx)
        elif isinstance(outcome, LotteryDraw):
            await _announce_cancel(ctx, outcome, people, reason)
        else:  # another admin, or its draw, was a moment quicker
            await ctx.reply(ctx.t("list.none"))
    if isinstance(outcome, LotteryDraw):
        _keywords(ctx).pop(ctx.group.id, None)


def pick_draw(draws: Sequence[LotteryDraw], args: str) -> tuple[LotteryDraw | None, str]:
    """(the draw `取消抽奖 [期号|口令] [原因]` names, the reason); the only open draw when the
    first word names none — unless it is a number, which must match."""
    words = args.split(maxsplit=1)
    if words:
        number = words[0].lstrip("#第").rstrip("期")
        for draw in draws:
            if number == str(draw.id) or normalize_keyword(words[0]) == normalize_keyword(
                    draw.keyword):
                return draw, words[1] if len(words) > 1 else ""
        if number.isdigit():
            return None, ""
    if len(draws) == 1:
        return draws[0], args.strip()
    return None, ""


async def _announce_cancel(ctx: Context[LotterySettings], draw: LotteryDraw,
                           people: list[str], reason: str) -> None:
    """Tell the group, @-mentioning every participant (a few mentions per message)."""
    reason_text = ctx.t("cancel.reason", reason=excerpt(reason, 60)) if reason.strip() else ""
    text = ctx.t("cancelled", id=draw.id, keyword=draw.keyword, name=ctx.sender_name,
                 count=len(people), reason=reason_text)
    batches = [tuple(people[n:n + MENTIONS_PER_POST])
               for n in range(0, len(people), MENTIONS_PER_POST)] or [()]
    await ctx.post(text, mentions=batches[0])
    for batch in batches[1:]:
        await ctx.post(ctx.t("cancelled.more", id=draw.id), mentions=batch)


@router.passive
async def join_by_keyword(ctx: Context[LotterySettings]) -> bool:
    text = ctx.message.text
    if not text.strip() or len(text) > 40:
        return False
    cache = _keywords(ctx)
    if ctx.group.id not in cache:
        async with ctx.transaction() as session:
            cache[ctx.group.id] = {normalize_keyword(d.keyword): d.id
                                   for d in await service.open_draws(session, ctx.group.id)}
    draw_id = cache[ctx.group.id].get(normalize_keyword(text))
    if draw_id is None:
        return False
    async with ctx.transaction() as session:
        draw = await session.get(LotteryDraw, draw_id)
        if draw is None:
            return False
        if ctx.sender_id in ctx.settings.excluded:
            outcome = "barred"
        else:
            outcome = await service.join(session, draw, ctx.sender_id, ctx.sender_name, ctx.now,
                                         ctx.services.blackroom)
        count = await service.entry_count(session, draw_id)
        if outcome == "closed":
            await draw_due(ctx)  # its timer may not have fired yet
        await ctx.reply(ctx.t(outcome, id=draw_id, count=count))  # kept with the entry
    return True


async def draw_due(ctx: Ctx) -> None:
    """Draw what is past its deadline, post the winners and reveal the seed."""
    async with ctx.transaction() as session:
        jailed = await ctx.services.blackroom.members(ctx.group.id, ctx.now, session=session)
        drawn = await service.draw_due(session, ctx.group.id, ctx.now, jailed)
        for draw in drawn:  # in the transaction: the winners and their post kept together
            await _announce(ctx, draw, await service.entries(session, draw.id), jailed)
    if drawn:
        _keywords(ctx).pop(ctx.group.id, None)


async def _announce(ctx: Ctx, draw: LotteryDraw, entries: list[LotteryEntry],
                    jailed: set[str]) -> None:
    names = {e.member_id: e.member_name or e.member_id for e in entries}
    by_prize: dict[str, list[str]] = {}
    for prize, member in draw.winners or []:
        by_prize.setdefault(prize, []).append(member)
    sep = ctx.t("names.sep")
    lines = [ctx.t("result.line", prize=prize, names=sep.join(names[m] for m in members))
             for prize, members in by_prize.items()] or [ctx.t("result.none")]
    winners = tuple(m for _, m in draw.winners or [])
    await ctx.post(ctx.t("result", id=draw.id, count=len(entries), lines="\n".join(lines),
                         seed=draw.seed, commitment=draw.commitment), mentions=winners)
    prizes = fair.format_prizes([(p, n) for p, n in draw.prizes])
    await ctx.post(ctx.t("verify", seed=draw.seed, commitment=draw.commitment,
                         prizes=shlex.quote(prizes),
                         ids=shlex.quote(",".join(sorted(service.eligible(entries, jailed))))))
