"""Lottery commands, the keyword to join, and the draw at the deadline."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta

from bot.clock import parse_duration
from bot.context import Context, JobContext
from bot.plugin import Role, Router, Schedule
from plugins.lottery import fair, service
from plugins.lottery.models import LotteryDraw, LotteryEntry
from plugins.lottery.settings import LotterySettings

router = Router()

Ctx = Context[LotterySettings] | JobContext[LotterySettings]
_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def parse_deadline(text: str, local_now: datetime) -> datetime | None:
    """`2h` / `30m` / `1d` from now, or `21:00` (today, or tomorrow if already past)."""
    if match := _CLOCK.match(text):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            return None
        at = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return at if at > local_now else at + timedelta(days=1)
    try:
        return local_now + parse_duration(text)
    except ValueError:
        return None


def _local(ctx: Ctx, instant: datetime) -> str:
    return f"{instant.astimezone(ctx.group.timezone):%m-%d %H:%M}"


def _prizes_text(ctx: Ctx, prizes: list[list[object]]) -> str:
    return "，".join(ctx.t("prize", name=name, count=count) for name, count in prizes)


def _keywords(ctx: Ctx) -> dict[str, dict[str, int]]:
    """Open draws' keywords per group (a cache; None = not loaded)."""
    return ctx.state.setdefault("keywords", {})


@router.command("draw", "发起抽奖", role=Role.ADMIN,
                help="发起抽奖：发起抽奖 口令 截止 奖品*人数 …",
                help_en="start a draw: 发起抽奖 keyword deadline prize*winners …")
async def create_draw(ctx: Context[LotterySettings]) -> None:
    words = ctx.args.split()
    if len(words) < 3:
        await ctx.reply(ctx.t("usage"))
        return
    keyword, when, prize_words = words[0], words[1], words[2:20]
    if len(keyword) > 20 or keyword in ctx.group.keywords:
        await ctx.reply(ctx.t("bad.keyword", keyword=keyword[:20]))
        return
    deadline = parse_deadline(when, ctx.local_now)
    if deadline is None or deadline - ctx.local_now > ctx.settings.max_duration:
        await ctx.reply(ctx.t("bad.deadline", text=when[:20],
                              days=ctx.settings.max_duration.days))
        return
    try:
        prizes = fair.parse_prizes(prize_words)
    except ValueError:
        await ctx.reply(ctx.t("bad.prize", text=" ".join(prize_words)[:60]) + "\n"
                        + ctx.t("usage"))
        return
    try:
        async with ctx.transaction() as session:
            draw = await service.create(session, ctx.group.id, keyword, prizes, deadline,
                                        ctx.sender_id, ctx.now)
    except service.KeywordTaken:
        await ctx.reply(ctx.t("keyword_taken", keyword=keyword))
        return
    _keywords(ctx).pop(ctx.group.id, None)
    await ctx.post(ctx.t("created", id=draw.id, prizes=_prizes_text(ctx, draw.prizes),
                         keyword=keyword, deadline=_local(ctx, deadline),
                         commitment=draw.commitment))
    arm(ctx, draw)


def arm(ctx: Ctx, draw: LotteryDraw) -> None:
    ctx.services.scheduler.call_at(
        draw.deadline_at, f"lottery.draw:{ctx.group.id}:{draw.id}",
        lambda: draw_due(dataclasses.replace(ctx, now=ctx.services.clock.now())))


@router.command("draws", "抽奖", help="查看进行中的抽奖", help_en="list the open draws")
async def list_draws(ctx: Context[LotterySettings]) -> None:
    async with ctx.transaction() as session:
        draws = await service.open_draws(session, ctx.group.id)
        counts = [len(await service.entries(session, d.id)) for d in draws]
    lines = [ctx.t("list.item", id=d.id, keyword=d.keyword, deadline=_local(ctx, d.deadline_at),
                   count=n, prizes=_prizes_text(ctx, d.prizes)) for d, n in zip(draws, counts,
                                                                                 strict=True)]
    await ctx.reply("\n".join(lines) or ctx.t("list.none"), mention=False)


@router.passive
async def join_by_keyword(ctx: Context[LotterySettings]) -> bool:
    text = ctx.message.text.strip()
    if not text or len(text) > 20:
        return False
    cache = _keywords(ctx)
    if ctx.group.id not in cache:
        async with ctx.transaction() as session:
            cache[ctx.group.id] = {d.keyword: d.id
                                   for d in await service.open_draws(session, ctx.group.id)}
    draw_id = cache[ctx.group.id].get(text)
    if draw_id is None:
        return False
    async with ctx.transaction() as session:
        draw = await session.get(LotteryDraw, draw_id)
        if draw is None:
            return False
        if ctx.sender_id in ctx.settings.excluded:
            outcome = "barred"
        else:
            outcome = await service.join(session, draw, ctx.sender_id, ctx.sender_name, ctx.now)
        count = len(await service.entries(session, draw_id))
    if outcome == "closed":
        await draw_due(ctx)  # its timer may have been lost in a restart
    await ctx.reply(ctx.t(outcome, id=draw_id, count=count))
    return True


async def draw_due(ctx: Ctx) -> None:
    """Draw what is past its deadline, post the winners and reveal the seed."""
    async with ctx.transaction() as session:
        drawn = await service.draw_due(session, ctx.group.id, ctx.now)
        people = {d.id: await service.entries(session, d.id) for d in drawn}
    if drawn:
        _keywords(ctx).pop(ctx.group.id, None)
    for draw in drawn:
        await _announce(ctx, draw, people[draw.id])


async def _announce(ctx: Ctx, draw: LotteryDraw, entries: list[LotteryEntry]) -> None:
    names = {e.member_id: e.member_name or e.member_id for e in entries}
    by_prize: dict[str, list[str]] = {}
    for prize, member in draw.winners or []:
        by_prize.setdefault(prize, []).append(member)
    lines = [ctx.t("result.line", prize=prize, names="、".join(names[m] for m in members))
             for prize, members in by_prize.items()] or [ctx.t("result.none")]
    winners = tuple(m for _, m in draw.winners or [])
    await ctx.post(ctx.t("result", id=draw.id, count=len(entries), lines="\n".join(lines),
                         seed=draw.seed, commitment=draw.commitment), mentions=winners)
    ids = ",".join(sorted(names))
    prizes = fair.format_prizes([(p, n) for p, n in draw.prizes])
    await ctx.post(ctx.t("verify", seed=draw.seed, commitment=draw.commitment, prizes=prizes,
                         ids=ids))


async def sweep(ctx: JobContext[LotterySettings]) -> None:
    await draw_due(ctx)


def sweep_schedules(settings: LotterySettings) -> list[Schedule]:
    return [Schedule(key="sweep", cron=settings.sweep_cron)]
