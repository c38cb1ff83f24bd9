"""Red packets as plain functions over a session.

The split is drawn at send time with the double-mean method (二倍均值法): each share but the
last is uniform in [1, min(2 × remaining ÷ shares left, remaining − shares left after it)],
the last takes the rest. Every share is at least 1 and the sum is exact by construction;
the expected share is the same for every position.

Grabs lock the packet's row (SELECT … FOR UPDATE on PostgreSQL; SQLite has one writer), so
fifty members grabbing a ten-share packet at once give exactly ten winners, and the unique
(packet, member) key makes a second grab by the same member impossible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from bot.storage.base import insert_if_missing
from plugins.redpacket.models import RedPacket, RedPacketPool, RedPacketShare

SOURCE = "redpacket"


class PoolShort(Exception):
    def __init__(self, balance: int, needed: int) -> None:
        super().__init__(f"the pool has {balance}, needs {needed}")
        self.balance, self.needed = balance, needed


def split(total: int, count: int, rng: random.Random) -> list[int]:
    """`count` shares of `total`, each ≥ 1, summing to `total` (double-mean method)."""
    if count < 1 or total < count:
        raise ValueError("need at least one share and at least 1 point per share")
    shares, remaining = [], total
    for left in range(count, 1, -1):
        upper = min(2 * remaining // left, remaining - (left - 1))
        amount = rng.randint(1, max(1, upper))
        shares.append(amount)
        remaining -= amount
    shares.append(remaining)
    return shares


async def send(session: AsyncSession, group_id: str, sender_id: str, sender_name: str,
               total: int, count: int, greeting: str, now: datetime, expires_after: timedelta,
               rng: random.Random, *, from_pool: bool = False) -> RedPacket:
    """Charge the sender (or the pool) once and store the packet with its shares.

    Raises ledger.InsufficientPoints or PoolShort, changing nothing."""
    shares = split(total, count, rng)
    if from_pool:
        await _take_from_pool(session, group_id, total)
    packet = RedPacket(group_id=group_id, sender_id=sender_id, sender_name=sender_name[:128],
                       from_pool=from_pool, total=total, count=count, greeting=greeting[:200],
                       created_at=now, expires_at=now + expires_after, grabbed=0,
                       status="open", refunded=0)
    session.add(packet)
    await session.flush()
    if not from_pool:
        why = ledger.Change("发红包", SOURCE, now, ref=f"redpacket:{packet.id}")
        await ledger.change(session, group_id, sender_id, -total, why, name=sender_name)
    session.add_all(RedPacketShare(packet_id=packet.id, position=n, amount=amount,
                                   member_name="")
                    for n, amount in enumerate(shares, start=1))
    await session.flush()
    return packet


@dataclass(frozen=True)
class Grab:
    packet: RedPacket
    amount: int
    position: int

    @property
    def finished(self) -> bool:
        return self.packet.status == "done"


async def grab(session: AsyncSession, group_id: str, member_id: str, member_name: str,
               now: datetime) -> Grab | str:
    """Take the next share of the oldest open packet this member has not grabbed from.

    Returns the grab, or why not: "none" (no open packet) or "already" (grabbed them all)."""
    open_ids = list(await session.scalars(
        select(RedPacket.id).where(RedPacket.group_id == group_id, RedPacket.status == "open",
                                   RedPacket.expires_at > now).order_by(RedPacket.id)))
    if not open_ids:
        return "none"
    for packet_id in open_ids:
        packet = await session.scalar(
            select(RedPacket).where(RedPacket.id == packet_id).with_for_update()
            .execution_options(populate_existing=True))
        if packet is None or packet.status != "open":
            continue
        mine = await session.scalar(select(RedPacketShare.position).where(
            RedPacketShare.packet_id == packet_id, RedPacketShare.member_id == member_id))
        if mine is not None:
            continue
        share = await session.scalar(
            select(RedPacketShare).where(RedPacketShare.packet_id == packet_id,
                                         RedPacketShare.member_id.is_(None))
            .order_by(RedPacketShare.position).limit(1))
        if share is None:
            continue
        share.member_id, share.member_name, share.grabbed_at = member_id, member_name[:128], now
        packet.grabbed += 1
        if packet.grabbed >= packet.count:
            packet.status, packet.finished_at = "done", now
        why = ledger.Change("抢红包", SOURCE, now, ref=f"redpacket:{packet_id}")
        await ledger.change(session, group_id, member_id, share.amount, why, name=member_name)
        await session.flush()
        return Grab(packet, share.amount, share.position)
    return "already"


async def shares(session: AsyncSession, packet_id: int) -> list[RedPacketShare]:
    return list(await session.scalars(select(RedPacketShare).where(
        RedPacketShare.packet_id == packet_id).order_by(RedPacketShare.position)))


def luckiest(taken: list[RedPacketShare]) -> RedPacketShare | None:
    """手气最佳: the largest share; on a tie, whoever grabbed first."""
    grabbed = [s for s in taken if s.member_id is not None]
    return max(grabbed, key=lambda s: (s.amount, -s.position)) if grabbed else None


async def expire_due(session: AsyncSession, group_id: str,
                     now: datetime) -> list[tuple[RedPacket, int]]:
    """Close packets past their expiry; unclaimed points go back to the sender (or pool)."""
    due = list(await session.scalars(
        select(RedPacket.id).where(RedPacket.group_id == group_id, RedPacket.status == "open",
                                   RedPacket.expires_at <= now).order_by(RedPacket.id)))
    closed = []
    for packet_id in due:
        packet = await session.scalar(
            select(RedPacket).where(RedPacket.id == packet_id).with_for_update()
            .execution_options(populate_existing=True))
        if packet is None or packet.status != "open":
            continue
        left = sum(s.amount for s in await shares(session, packet_id) if s.member_id is None)
        packet.status, packet.finished_at, packet.refunded = "expired", now, left
        if left and packet.from_pool:
            await add_to_pool(session, group_id, left)
        elif left:
            why = ledger.Change("红包过期退回", SOURCE, now, ref=f"redpacket:{packet_id}")
            await ledger.change(session, group_id, packet.sender_id, left, why)
        closed.append((packet, left))
    return closed


async def open_packets(session: AsyncSession, group_id: str) -> list[RedPacket]:
    """Packets still open, soonest expiry first (their timers are re-armed from these)."""
    return list(await session.scalars(
        select(RedPacket).where(RedPacket.group_id == group_id, RedPacket.status == "open")
        .order_by(RedPacket.expires_at, RedPacket.id)))


async def pool_balance(session: AsyncSession, group_id: str) -> int:
    value = await session.scalar(
        select(RedPacketPool.balance).where(RedPacketPool.group_id == group_id))
    return int(value or 0)


async def add_to_pool(session: AsyncSession, group_id: str, amount: int) -> int:
    await insert_if_missing(session, RedPacketPool, group_id=group_id, balance=0)
    await session.execute(update(RedPacketPool).where(RedPacketPool.group_id == group_id)
                          .values(balance=RedPacketPool.balance + amount))
    return await pool_balance(session, group_id)


async def _take_from_pool(session: AsyncSession, group_id: str, amount: int) -> None:
    result = await session.execute(
        update(RedPacketPool).where(RedPacketPool.group_id == group_id,
                                    RedPacketPool.balance >= amount)
        .values(balance=RedPacketPool.balance - amount))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PoolShort(await pool_balance(session, group_id), amount)
