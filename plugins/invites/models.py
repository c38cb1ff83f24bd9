"""Who invited whom (邀请有奖), what was paid for it, and the threshold bonuses given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class Invitation(Base):
    """A member's first join into a group and who invited them. A rejoin keeps this row,
    so leaving and coming back never earns an inviter a second reward."""

    __tablename__ = "invites_invitations"
    __table_args__ = (Index("ix_invites_invitations_group_inviter", "group_id", "inviter_id"),)

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    inviter_id: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16), default="platform")  # platform | admin
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending|counted|void
    weight: Mapped[float] = mapped_column(Float, default=0.0)  # 1, ½ (silent) or 0 once counted
    reward_paid: Mapped[int] = mapped_column(Integer, default=0)  # net points paid for it
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InviteBonus(Base):
    """A threshold bonus paid to an inviter (once per threshold)."""

    __tablename__ = "invites_bonuses"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    inviter_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
