"""骰子 (dice) and 扎气球 (balloons): an admin sets the game up, members play it."""

from __future__ import annotations

import random

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.input import take_number
from bot.plugin import Role, Router
from plugins.minigames import service
from plugins.minigames.models import Balloon
from plugins.minigames.settings import MinigamesSettings

router = Router()

Ctx = Context[MinigamesSettings]


def rng(ctx: Ctx) -> random.Random:
    """Repeatable under a simulated clock (transcripts, tests); unpredictable for real."""
    if "rng" not in ctx.state:
        simulated = ctx.services.runtime.simulated
        ctx.state["rng"] = random.Random(0) if simulated else random.SystemRandom()
    return ctx.state["rng"]


NUMBER_UNITS = ("点", "号", "个")


def leading_number(text: str) -> tuple[int, str] | None:
    """`3 奖品`, `3点 奖品`, `２号`, `三`, `十个 …` → (the number, the rest); None without a
    leading number. Absurdly long numbers read as TOO_BIG, which every range check refuses."""
    return take_number(text, NUMBER_UNITS)


@router.command("dice", "骰子", "骰子游戏", role=Role.ADMIN,
                help="开一局骰子：骰子 点数 [奖品]", help_en="start dice: /dice number [prize]")
async def start_dice(ctx: Ctx) -> None:
    parsed = leading_number(ctx.args)
    if parsed is None or not 1 <= parsed[0] <= 6:
        await ctx.reply(ctx.t("dice.usage"))
        return
    target, prize = parsed[0], parsed[1][:100] or ctx.settings.dice_prize
    async with ctx.transaction() as session:
        game = await service.start_dice(session, ctx.group.id, target, prize, ctx.sender_id,
                                        ctx.now)
        if game is None:
            busy = await service.open_dice(session, ctx.group.id)
            await ctx.reply(ctx.t("dice.busy", target=busy.target if busy else "?"))
            return
        limit = ctx.settings.rolls_per_member
        key = "dice.started" if limit else "dice.started_unlimited"
        await ctx.post(ctx.t(key, target=target, prize=prize, limit=limit))  # with the game


@router.command("roll", "掷骰子", "摇骰子", "🎲", help="掷骰子", help_en="roll the dice")
async def roll(ctx: Ctx) -> None:
    limit = ctx.settings.rolls_per_member
    async with ctx.transaction() as session:
        if await ctx.services.blackroom.keeps_out(ctx, session):
            return  # no winning from the 小黑屋
        game = await service.open_dice(session, ctx.group.id)
        if game is None:
            await ctx.reply(ctx.t("dice.none"))
            return
        if limit and await service.rolls_by(session, game.id, ctx.sender_id) >= limit:
            await ctx.reply(ctx.t("dice.limit", limit=limit))
            return
        value, won = await service.roll(session, game, ctx.sender_id, ctx.sender_name, ctx.now,
                                        rng(ctx))
        if won:  # in the transaction: the roll and its report kept together
            await ctx.post(ctx.t("dice.won", name=ctx.sender_name, value=value,
                                 prize=game.prize), mentions=(ctx.sender_id,))
        else:
            await ctx.reply(ctx.t("dice.rolled", name=ctx.sender_name, value=value),
                            mention=False)


@router.command("stopdice", "结束骰子", role=Role.ADMIN, help="结束骰子游戏",
                help_en="end the dice game")
async def stop_dice(ctx: Ctx) -> None:
    async with ctx.transaction() as session:
        game = await service.stop_dice(session, ctx.group.id, ctx.now)
        if game is None:
            await ctx.reply(ctx.t("dice.none"))
        else:
            await ctx.post(ctx.t("dice.stopped", target=game.target))  # with the stop


@router.command("balloons", "放气球", role=Role.ADMIN,
                help="放气球：放气球 数量 奖品1 奖品2 …",
                help_en="set balloons: /balloons count prize1 prize2 …")
async def start_balloons(ctx: Ctx) -> None:
    parsed = leading_number(ctx.args)
    if parsed is None:
        await ctx.reply(ctx.t("balloons.usage"))
        return
    count, prizes = parsed[0], [w[:100] for w in parsed[1].split()]
    if not 2 <= count <= ctx.settings.max_balloons or len(prizes) > count:
        await ctx.reply(ctx.t("balloons.bad_count", max=ctx.settings.max_balloons))
        return
    prizes += [ctx.t("empty")] * (count - len(prizes))
    async with ctx.transaction() as session:
        game = await service.start_balloons(session, ctx.group.id, prizes, ctx.sender_id,
                                            ctx.now, rng(ctx))
        if game is None:
            left = await _left(session, ctx.group.id)
            await ctx.reply(ctx.t("balloons.busy", left=len(left)))
            return
        await ctx.post(ctx.t("balloons.started", count=count))  # kept with the game


async def _left(session: AsyncSession, group_id: str) -> list[int]:
    game = await service.open_balloons(session, group_id)
    if game is None:
        return []
    return [b.number for b in await service.balloons(session, game.id) if b.member_id is None]


@router.command("pop", "扎气球", "扎", help="扎一个气球：扎气球 号码",
                help_en="pop a balloon: /pop number")
async def pop(ctx: Ctx) -> None:
    async with ctx.transaction() as session:
        if await ctx.services.blackroom.keeps_out(ctx, session):
            return
        game = await service.open_balloons(session, ctx.group.id)
        if game is None:
            await ctx.reply(ctx.t("balloons.none"))
            return
        parsed = leading_number(ctx.args)
        number = parsed[0] if parsed else None
        if number is None:
            left = ctx.t("list.sep").join(map(str, await _left(session, ctx.group.id)))
            await ctx.reply(ctx.t("balloons.pop_usage", count=game.count) + "\n"
                            + ctx.t("balloons.left", left=left))
            return
        result = await service.pop(session, game, number, ctx.sender_id, ctx.sender_name,
                                   ctx.now)
        if isinstance(result, str):
            left = ctx.t("list.sep").join(map(str, await _left(session, ctx.group.id)))
            await ctx.reply(ctx.t(f"balloons.{result}", count=game.count, number=number,
                                  left=left))
            return
        all_balloons = await service.balloons(session, game.id)
        # In the transaction: the pop and its report kept together.
        await ctx.post(ctx.t("balloons.popped", name=ctx.sender_name, number=number,
                             prize=result.prize), mentions=(ctx.sender_id,))
        if all(b.member_id is not None for b in all_balloons):
            await ctx.post(ctx.t("balloons.done", lines=_lines(ctx, all_balloons)))


def _lines(ctx: Ctx, shown: list[Balloon]) -> str:
    return "\n".join(
        ctx.t("balloons.line", number=b.number, prize=b.prize,
              who=ctx.t("balloons.who", name=b.member_name) if b.member_id else "")
        for b in shown)


@router.command("stopballoons", "结束气球", role=Role.ADMIN, help="结束扎气球并公布剩下的奖品",
                help_en="end the balloon game and reveal the rest")
async def stop_balloons(ctx: Ctx) -> None:
    async with ctx.transaction() as session:
        game = await service.open_balloons(session, ctx.group.id)
        if game is None:
            await ctx.reply(ctx.t("balloons.none"))
            return
        game.status, game.ended_at = "stopped", ctx.now
        rest = [b for b in await service.balloons(session, game.id) if b.member_id is None]
        await ctx.post(ctx.t("balloons.stopped", lines=_lines(ctx, rest)))  # with the stop
