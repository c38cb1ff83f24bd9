"""Dice and balloon games as plain functions over a session."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from bot.input import points_amount
from plugins.minigames.models import Balloon, BalloonGame, DiceGame, DiceRoll

SOURCE = "minigames"


def prize_points(prize: str) -> int:
    """A prize written as "20积分" (`二十积分`, `２０积分`) is paid in points; any other prize
    is announced only."""
    return max(points_amount(prize) or 0, 0)


# -- dice ------------------------------------------------------------------------------------

async def open_dice(session: AsyncSession, group_id: str) -> DiceGame | None:
    return await session.scalar(select(DiceGame).where(
        DiceGame.group_id == group_id, DiceGame.status == "open").order_by(DiceGame.id.desc())
        .limit(1))


async def start_dice(session: AsyncSession, group_id: str, target: int, prize: str,
                     started_by: str, now: datetime) -> DiceGame | None:
    """None if a dice game is already open here."""
    if await open_dice(session, group_id) is not None:
        return None
    game = DiceGame(group_id=group_id, target=target, prize=prize[:100],
                    points=prize_points(prize), started_by=started_by, started_at=now,
                    status="open", winner_name="")
    session.add(game)
    await session.flush()
    return game


async def rolls_by(session: AsyncSession, game_id: int, member_id: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(DiceRoll).where(
        DiceRoll.game_id == game_id, DiceRoll.member_id == member_id)) or 0)


async def roll(session: AsyncSession, game: DiceGame, member_id: str, name: str,
               now: datetime, rng: random.Random) -> tuple[int, bool]:
    """(the value rolled, whether this roll won the game)."""
    value = rng.randint(1, 6)
    session.add(DiceRoll(game_id=game.id, member_id=member_id, value=value, at=now))
    if value != game.target:
        return value, False
    result = await session.execute(
        update(DiceGame).where(DiceGame.id == game.id, DiceGame.status == "open")
        .values(status="won", winner_id=member_id, winner_name=name[:128], ended_at=now))
    won = result.rowcount == 1  # type: ignore[attr-defined]
    if won and game.points:
        why = ledger.Change(f"骰子游戏：{game.prize}", SOURCE, now, ref=f"dice:{game.id}")
        await ledger.change(session, game.group_id, member_id, game.points, why, name=name)
    return value, won


async def stop_dice(session: AsyncSession, group_id: str, now: datetime) -> DiceGame | None:
    game = await open_dice(session, group_id)
    if game is not None:
        game.status, game.ended_at = "stopped", now
    return game


# -- balloons --------------------------------------------------------------------------------

async def open_balloons(session: AsyncSession, group_id: str) -> BalloonGame | None:
    return await session.scalar(select(BalloonGame).where(
        BalloonGame.group_id == group_id, BalloonGame.status == "open")
        .order_by(BalloonGame.id.desc()).limit(1))


async def start_balloons(session: AsyncSession, group_id: str, prizes: list[str],
                         started_by: str, now: datetime,
                         rng: random.Random) -> BalloonGame | None:
    """Hide the prizes (already padded to one per balloon) in shuffled order."""
    if await open_balloons(session, group_id) is not None:
        return None
    game = BalloonGame(group_id=group_id, count=len(prizes), started_by=started_by,
                       started_at=now, status="open")
    session.add(game)
    await session.flush()
    hidden = list(prizes)
    rng.shuffle(hidden)
    session.add_all(Balloon(game_id=game.id, number=n, prize=p[:100], points=prize_points(p),
                            member_name="") for n, p in enumerate(hidden, start=1))
    await session.flush()
    return game


async def balloons(session: AsyncSession, game_id: int) -> list[Balloon]:
    return list(await session.scalars(select(Balloon).where(Balloon.game_id == game_id)
                                      .order_by(Balloon.number)))


async def pop(session: AsyncSession, game: BalloonGame, number: int, member_id: str,
              name: str, now: datetime) -> Balloon | str:
    """The popped balloon, or why not: "range", "mine" (already popped one), "taken"."""
    if not 1 <= number <= game.count:
        return "range"
    mine = await session.scalar(select(Balloon.number).where(
        Balloon.game_id == game.id, Balloon.member_id == member_id))
    if mine is not None:
        return "mine"
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(Balloon).where(Balloon.game_id == game.id, Balloon.number == number,
                                      Balloon.member_id.is_(None))
                .values(member_id=member_id, member_name=name[:128], popped_at=now))
    except IntegrityError:  # the same member popping two balloons at once
        return "mine"
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return "taken"
    balloon = await session.get(Balloon, (game.id, number), populate_existing=True)
    assert balloon is not None
    if balloon.points:
        why = ledger.Change(f"扎气球：{balloon.prize}", SOURCE, now, ref=f"balloon:{game.id}")
        await ledger.change(session, game.group_id, member_id, balloon.points, why, name=name)
    left = await session.scalar(select(func.count()).select_from(Balloon).where(
        Balloon.game_id == game.id, Balloon.member_id.is_(None)))
    if not left:
        await session.execute(update(BalloonGame).where(BalloonGame.id == game.id)
                              .values(status="done", ended_at=now))
    return balloon
