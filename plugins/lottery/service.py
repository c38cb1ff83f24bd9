"""Lottery draws as plain functions over a session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from bot.blackroom import Blackroom
from bot.input import phrase_key, points_amount
from bot.storage import dialect_insert
from plugins.lottery import fair
from plugins.lottery.blacklist import barred
from plugins.lottery.models import LotteryDraw, LotteryEntry

SOURCE = "lottery"


def prize_points(prize: str) -> int:
    """The points a prize pays its winner: `50积分`, `５０积分`, `五十积分` → 50; others 0."""
    return max(points_amount(prize) or 0, 0)


def points_paid(prizes: list[tuple[str, int]]) -> int:
    """The points a draw would pay in all ("50积分*3" pays 150)."""
    return sum(prize_points(prize) * count for prize, count in prizes)


class KeywordTaken(Exception):
    pass


def normalize_keyword(text: str) -> str:
    """What a join message is compared by: width, case, spaces, punctuation, `～`, emoji and
    invisible characters do not matter ("我要抽奖！", "我要抽奖～", "我要抽奖🙏" join the draw
    "我要抽奖")."""
    return phrase_key(text)


async def open_draws(session: AsyncSession, group_id: str) -> list[LotteryDraw]:
    return list(await session.scalars(select(LotteryDraw).where(
        LotteryDraw.group_id == group_id, LotteryDraw.status == "open").order_by(LotteryDraw.id)))


async def create(session: AsyncSession, group_id: str, keyword: str,
                 prizes: list[tuple[str, int]], deadline: datetime, created_by: str,
                 now: datetime, seed: str | None = None) -> LotteryDraw:
    key = normalize_keyword(keyword)
    if any(normalize_keyword(d.keyword) == key for d in await open_draws(session, group_id)):
        raise KeywordTaken(keyword)
    seed = seed or fair.new_seed()
    draw = LotteryDraw(group_id=group_id, keyword=keyword, prizes=[list(p) for p in prizes],
                       deadline_at=deadline, seed=seed, commitment=fair.commitment(seed),
                       created_by=created_by, created_at=now, status="open")
    session.add(draw)
    await session.flush()
    return draw


async def join(session: AsyncSession, draw: LotteryDraw, member_id: str, name: str,
               now: datetime, blackroom: Blackroom) -> str:
    """"joined", "again" (already in), "closed" (past the deadline) or "barred"."""
    if now >= draw.deadline_at or draw.status != "open":
        return "closed"
    if await barred(blackroom, session, draw.group_id, member_id, now):
        return "barred"
    upsert = dialect_insert(session.bind.dialect.name)
    result = await session.execute(upsert(LotteryEntry).values(
        draw_id=draw.id, member_id=member_id, member_name=name[:128], joined_at=now
    ).on_conflict_do_nothing())
    return "joined" if result.rowcount == 1 else "again"  # type: ignore[attr-defined]


async def entries(session: AsyncSession, draw_id: int) -> list[LotteryEntry]:
    return list(await session.scalars(select(LotteryEntry).where(
        LotteryEntry.draw_id == draw_id).order_by(LotteryEntry.member_id)))


async def entry_count(session: AsyncSession, draw_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(LotteryEntry).where(
        LotteryEntry.draw_id == draw_id)) or 0)


async def _locked(session: AsyncSession, draw_id: int) -> LotteryDraw | None:
    """The draw's row, locked and re-read: a draw and a cancel cannot both happen."""
    return await session.scalar(select(LotteryDraw).where(LotteryDraw.id == draw_id)
                                .with_for_update().execution_options(populate_existing=True))


def eligible(people: list[LotteryEntry], jailed: set[str]) -> list[str]:
    """Who a draw picks from: its entrants, less those in the 小黑屋 when it is drawn (the
    verification command names exactly these)."""
    return [e.member_id for e in people if e.member_id not in jailed]


async def draw_due(session: AsyncSession, group_id: str, now: datetime,
                   jailed: set[str]) -> list[LotteryDraw]:
    """Draw every open draw past its deadline (each once: the row is locked and re-checked);
    members in the 小黑屋 by then cannot win."""
    due = list(await session.scalars(select(LotteryDraw.id).where(
        LotteryDraw.group_id == group_id, LotteryDraw.status == "open",
        LotteryDraw.deadline_at <= now).order_by(LotteryDraw.id)))
    drawn = []
    for draw_id in due:
        draw = await _locked(session, draw_id)
        if draw is None or draw.status != "open":
            continue
        people = eligible(await entries(session, draw_id), jailed)
        result = fair.winners(draw.seed, people, [(p, n) for p, n in draw.prizes])
        draw.winners, draw.status, draw.drawn_at = [list(w) for w in result], "drawn", now
        for prize, member in result:
            if points := prize_points(prize):
                why = ledger.Change(f"抽奖：{prize}", SOURCE, now, ref=f"lottery:{draw_id}")
                await ledger.change(session, group_id, member, points, why)
        drawn.append(draw)
    return drawn


async def cancel(session: AsyncSession, group_id: str, draw_id: int, by: str,
                 now: datetime) -> LotteryDraw | str:
    """Cancel an open draw before its deadline: nothing is drawn, the seed stays secret.

    Returns the draw, or why not: "none" (no such open draw here) or "due" (its deadline has
    passed: the winners are already fixed by the seed, so it is drawn instead)."""
    draw = await _locked(session, draw_id)
    if draw is None or draw.group_id != group_id or draw.status != "open":
        return "none"
    if now >= draw.deadline_at:
        return "due"
    draw.status, draw.cancelled_at, draw.cancelled_by = "cancelled", now, by
    return draw
