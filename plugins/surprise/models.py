"""Surprises given to members whose activity was dropping, and whether they came back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class SurpriseGiven(Base):
    __tablename__ = "surprise_given"
    __table_args__ = (Index("ix_surprise_given_group_member", "group_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[str] = mapped_column(String(8))  # mention | dm
    bonus: Mapped[int] = mapped_column(Integer, default=0)
    spoke_again_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # within 3 days
