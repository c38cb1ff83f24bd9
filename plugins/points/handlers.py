"""The points commands. The ledger itself is core (bot/ledger.py): every plugin moves points."""

from __future__ import annotations

import re
from typing import Any

from bot import ledger
from bot.context import Context
from bot.i18n import Texts
from bot.input import POINT_UNITS, read_int
from bot.plugin import Role, Router
from bot.ranking import standings
from bot.text import excerpt

router = Router()

MAX_ADJUSTMENT = 100_000

TEXTS = Texts(
    zh={
        "mine": "你的积分：{points}，本群第 {rank} 名。",
        "mine.unranked": "你的积分：0，还没有排名。打卡、答题都能赚积分哦。",
        "top.header": "「{group}」积分榜：",
        "top.empty": "还没有人有积分。打卡、答题都能赚积分哦。",
        "top.line": "{n}. {name} — {points}",
        "adjust.usage": "用法：{word} @成员 数量 理由，例如 {word} @小明 10 分享干货",
        "adjust.no_target": "请 @ 一位成员。",
        "adjust.bad_amount": "数量要是 1 到 {max} 之间的整数。",
        "adjust.done": "已为 {name} {verb} {amount} 积分（{reason}），现有 {balance}。",
        "adjust.short": "{name} 只有 {balance} 积分，不够扣 {amount}。",
        "verb.add": "加", "verb.deduct": "扣",
        "reason.none": "管理员调整",
    },
    en={
        "mine": "You have {points} points, rank {rank} in this group.",
        "mine.unranked": "You have 0 points, so no rank yet. Check in or play a quiz to earn some.",
        "top.header": "Points in “{group}”:",
        "top.empty": "Nobody has points yet. Check in or play a quiz to earn some.",
        "top.line": "{n}. {name} — {points}",
        "adjust.usage": "Usage: {word} @member amount reason, e.g. {word} @Amy 10 great tips",
        "adjust.no_target": "Please @-mention one member.",
        "adjust.bad_amount": "The amount must be a whole number from 1 to {max}.",
        "adjust.done": "{verb} {amount} points for {name} ({reason}); balance {balance}.",
        "adjust.short": "{name} has only {balance} points, fewer than {amount}.",
        "verb.add": "Added", "verb.deduct": "Deducted",
        "reason.none": "adjusted by an admin",
    },
)

_MENTION = re.compile(r"@\S+")


@router.command("points", "积分", "我的积分", help="我的积分和排名", help_en="my points and rank")
async def my_points(ctx: Context[Any]) -> None:
    async with ctx.transaction() as session:
        rank, points = await ledger.rank(session, ctx.group.id, ctx.sender_id)
        # 0 points is no achievement: "第 1 名" where nobody has points would mislead.
        await ctx.reply(ctx.t("mine", points=points, rank=rank) if points > 0
                        else ctx.t("mine.unranked"))  # written with the message's id


@router.command("top", "积分榜", help="本群积分榜", help_en="the group's points leaderboard")
async def leaderboard(ctx: Context[Any]) -> None:
    async with ctx.transaction() as session:
        rows = await ledger.leaderboard(session, ctx.group.id, limit=10)
    if not rows:
        await ctx.reply(ctx.t("top.empty"), mention=False)
        return
    lines = [ctx.t("top.line", n=n, name=name, points=points)
             for n, (name, points) in standings(rows, lambda row: row[1])]
    await ctx.reply("\n".join([ctx.t("top.header", group=ctx.group.name), *lines]), mention=False)


@router.command("加分", "addpoints", role=Role.ADMIN, help="给成员加积分：/加分 @x 10 理由",
                help_en="grant points: /addpoints @x 10 reason")
async def grant(ctx: Context[Any]) -> None:
    await _adjust(ctx, +1)


@router.command("扣分", "deductpoints", role=Role.ADMIN, help="扣成员积分：/扣分 @x 10 理由",
                help_en="deduct points: /deductpoints @x 10 reason")
async def deduct(ctx: Context[Any]) -> None:
    await _adjust(ctx, -1)


def parse_adjustment(args: str) -> tuple[int | None, str]:
    """The first whole number in the arguments (`10`, `十`, `一百`, `１０`, `10积分`), and the
    rest (mentions removed) as the reason."""
    words = _MENTION.sub(" ", args).split()
    amount = None
    for index, word in enumerate(words):
        amount = read_int(word, POINT_UNITS)
        if amount is not None:
            del words[index]
            break
    return amount, " ".join(words)


async def _adjust(ctx: Context[Any], sign: int) -> None:
    if not ctx.message.mention_ids:
        await ctx.reply(ctx.t("adjust.no_target") + "\n"
                        + ctx.t("adjust.usage", word=ctx.command_word))
        return
    amount, reason = parse_adjustment(ctx.args)
    if amount is None or not 0 < amount <= MAX_ADJUSTMENT:
        await ctx.reply(ctx.t("adjust.bad_amount", max=MAX_ADJUSTMENT) + "\n"
                        + ctx.t("adjust.usage", word=ctx.command_word))
        return
    target = ctx.message.mention_ids[0]
    reason = reason[:100] or ctx.t("reason.none")
    why = ledger.Change(reason, "points", ctx.now, ref=f"by:{ctx.sender_id}")
    verb = ctx.t("verb.add" if sign > 0 else "verb.deduct")
    try:
        async with ctx.transaction() as session:
            balance = await ledger.change(session, ctx.group.id, target, sign * amount, why)
            # In the transaction: the change and its report are kept together (crash safety).
            await ctx.reply(ctx.t("adjust.done", name=target, verb=verb, amount=amount,
                                  reason=excerpt(reason, 40), balance=balance), also=(target,))
    except ledger.InsufficientPoints as short:
        await ctx.reply(ctx.t("adjust.short", name=target, balance=short.balance, amount=amount))
