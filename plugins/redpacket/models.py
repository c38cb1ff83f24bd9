"""Red packets (virtual points only): the packet, its shares drawn at send time, and the
group's pool for system packets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class RedPacket(Base):
    __tablename__ = "redpacket_packets"
    __table_args__ = (Index("ix_redpacket_packets_group_status", "group_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    sender_id: Mapped[str] = mapped_column(String(128))  # "" for a system packet
    sender_name: Mapped[str] = mapped_column(String(128), default="")
    from_pool: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    greeting: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    grabbed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | expired
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded: Mapped[int] = mapped_column(Integer, default=0)


class RedPacketShare(Base):
    """One share, drawn when the packet was sent; grabbed once (member unique per packet)."""

    __tablename__ = "redpacket_shares"
    __table_args__ = (UniqueConstraint("packet_id", "member_id"),)

    packet_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # grab order, 1-based
    amount: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[str | None] = mapped_column(String(128))
    member_name: Mapped[str] = mapped_column(String(128), default="")
    grabbed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RedPacketPool(Base):
    """Points an admin set aside for system packets; not a member, so never on 积分榜."""

    __tablename__ = "redpacket_pools"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
