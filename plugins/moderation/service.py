"""Moderation records as plain functions over a session."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from plugins.moderation.models import ModerationAction, ModerationException, ModerationMember


async def member(session: AsyncSession, group_id: str, member_id: str) -> ModerationMember:
    found = await session.get(ModerationMember, (group_id, member_id))
    if found is None:
        found = ModerationMember(group_id=group_id, member_id=member_id, name="")
        session.add(found)
    return found


async def active_offences(session: AsyncSession, group_id: str, member_id: str,
                          since: datetime) -> int:
    """Offences that still count: not undone and newer than the warning period."""
    return int(await session.scalar(select(func.count()).select_from(ModerationAction).where(
        ModerationAction.group_id == group_id, ModerationAction.member_id == member_id,
        ModerationAction.undone.is_(False), ModerationAction.at >= since)) or 0)


async def last_action(session: AsyncSession, group_id: str,
                      member_id: str | None = None) -> ModerationAction | None:
    query = select(ModerationAction).where(ModerationAction.group_id == group_id,
                                           ModerationAction.undone.is_(False))
    if member_id is not None:
        query = query.where(ModerationAction.member_id == member_id)
    return await session.scalar(query.order_by(ModerationAction.id.desc()).limit(1))


async def undo(session: AsyncSession, action: ModerationAction, now: datetime) -> None:
    """Take an action back: points refunded (the caller opens the core's 小黑屋)."""
    action.undone = True
    if action.points:
        await ledger.change(session, action.group_id, action.member_id, action.points,
                            ledger.Change("撤销处罚", "moderation", now, ref=str(action.id)))


async def exceptions(session: AsyncSession, group_id: str) -> set[str]:
    rows = await session.scalars(select(ModerationException.value).where(
        ModerationException.group_id == group_id))
    return set(rows)


async def add_exception(session: AsyncSession, group_id: str, value: str) -> None:
    if await session.get(ModerationException, (group_id, value)) is None:
        session.add(ModerationException(group_id=group_id, value=value[:300]))


def warning_start(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
