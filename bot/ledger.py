"""The group points ledger, shared by every plugin that gives or takes points.

Each member has a balance per group; every change is an entry (amount, reason, source
plugin, reference), and the balance always equals the sum of the entries. A balance never
goes negative unless the caller says so. Functions take the caller's session, so a
plugin's own writes and the points it moves commit or fail together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, UTCDateTime, dialect_insert
from bot.storage.prepared import Prepared


class PointsAccount(Base):
    __tablename__ = "points_accounts"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str | None] = mapped_column(String(128))  # display name last seen


class PointsEntry(Base):
    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_group_member", "group_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(128))
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(64))  # the plugin that moved the points
    ref: Mapped[str | None] = mapped_column(String(128))  # e.g. a red packet's id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InsufficientPoints(Exception):
    def __init__(self, member_id: str, balance: int, needed: int) -> None:
        super().__init__(f"{member_id} has {balance} points, needs {needed}")
        self.member_id, self.balance, self.needed = member_id, balance, needed


@dataclass(frozen=True)
class Change:
    reason: str
    source: str
    at: datetime
    ref: str | None = None


async def balance(session: AsyncSession, group_id: str, member_id: str) -> int:
    value = await session.scalar(
        select(PointsAccount.balance).where(
            PointsAccount.group_id == group_id, PointsAccount.member_id == member_id
        )
    )
    return int(value or 0)


async def change(
    session: AsyncSession,
    group_id: str,
    member_id: str,
    amount: int,
    why: Change,
    *,
    allow_negative: bool = False,
    name: str | None = None,
) -> int:
    """Add `amount` (negative to deduct); returns the new balance.

    Raises InsufficientPoints, changing nothing, if the balance would go below zero.
    """
    if amount == 0:
        return await balance(session, group_id, member_id)
    if amount > 0 or allow_negative:
        new_balance: int | None = await _add(session, group_id, member_id, amount, name)
    else:
        # The check and the change are one statement: safe under concurrent spenders.
        accounts = PointsAccount.__table__.c
        statement = (
            update(PointsAccount.__table__)
            .where(accounts.group_id == group_id, accounts.member_id == member_id,
                   accounts.balance + amount >= 0)
            .values(balance=accounts.balance + amount, **_name(name))
            .returning(accounts.balance)
        )
        new_balance = (await session.execute(statement)).scalar_one_or_none()
    if new_balance is None:
        raise InsufficientPoints(member_id, await balance(session, group_id, member_id), -amount)
    await _ENTRY.run(session, {
        "group_id": group_id, "member_id": member_id, "amount": amount,
        "reason": why.reason[:200], "source": why.source, "ref": why.ref, "created_at": why.at})
    return int(new_balance)


def _name(name: str | None) -> dict[str, str]:
    return {"name": name[:128]} if name else {}


def _upsert_statement(dialect: str) -> Any:
    """Built once per dialect, when first used: statement construction costs more than
    SQLite's work."""
    upsert = dialect_insert(dialect)
    accounts = PointsAccount.__table__
    statement = upsert(accounts).values(group_id=bindparam("group"), member_id=bindparam("member"),
                                        balance=bindparam("amount"), name=bindparam("name"))
    return statement.on_conflict_do_update(
        index_elements=[accounts.c.group_id, accounts.c.member_id],
        set_={"balance": accounts.c.balance + statement.excluded.balance,
              "name": func.coalesce(statement.excluded.name, accounts.c.name)},
    ).returning(accounts.c.balance)


_UPSERT = Prepared(_upsert_statement)
_ENTRY = Prepared(insert(PointsEntry.__table__))


async def _add(session: AsyncSession, group_id: str, member_id: str, amount: int,
               name: str | None) -> int:
    """Upsert: open the account if needed and add, in one statement."""
    values = {"group": group_id, "member": member_id, "amount": amount,
              "name": name[:128] if name else None}
    (new_balance,) = await _UPSERT.one(session, values)
    return int(new_balance)


async def transfer(
    session: AsyncSession, group_id: str, payer: str, payee: str, amount: int, why: Change
) -> None:
    """Move points between two members atomically (within the caller's transaction)."""
    if amount <= 0:
        raise ValueError("a transfer moves a positive amount")
    await change(session, group_id, payer, -amount, why)
    await change(session, group_id, payee, amount, why)


async def leaderboard(
    session: AsyncSession, group_id: str, limit: int = 10
) -> list[tuple[str, int]]:
    """(display name or id, balance), richest first."""
    rows = await session.execute(
        select(PointsAccount.member_id, PointsAccount.name, PointsAccount.balance)
        .where(PointsAccount.group_id == group_id, PointsAccount.balance != 0)
        .order_by(PointsAccount.balance.desc(), PointsAccount.member_id)
        .limit(limit)
    )
    return [(name or member, int(points)) for member, name, points in rows]


async def rank(session: AsyncSession, group_id: str, member_id: str) -> tuple[int, int]:
    """(1-based rank in the group, balance); members tied share a rank."""
    mine = await balance(session, group_id, member_id)
    above = await session.scalar(
        select(func.count())
        .select_from(PointsAccount)
        .where(PointsAccount.group_id == group_id, PointsAccount.balance > mine)
    )
    return int(above or 0) + 1, mine


async def entries_total(session: AsyncSession, group_id: str, member_id: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.group_id == group_id, PointsEntry.member_id == member_id
        )
    )
    return int(total or 0)
