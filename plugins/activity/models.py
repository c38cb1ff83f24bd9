"""Each day's segment counts (so the digest has their history)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base


class ActivitySegmentDay(Base):
    """A group's segment counts as of the end of a local day (written just after it)."""

    __tablename__ = "activity_segment_days"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kol: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[int] = mapped_column(Integer, default=0)
    ordinary: Mapped[int] = mapped_column(Integer, default=0)
    lurker: Mapped[int] = mapped_column(Integer, default=0)
