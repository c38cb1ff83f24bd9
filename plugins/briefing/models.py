"""The briefing's tables: the feed cache, what each group was shown, and each briefing sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class BriefingFeed(Base):
    """A feed's last good items, so the post never waits on the network."""

    __tablename__ = "briefing_feeds"

    url: Mapped[str] = mapped_column(String(500), primary_key=True)
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{title, link}]
    etag: Mapped[str | None] = mapped_column(String(200))
    modified: Mapped[str | None] = mapped_column(String(100))
    tried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    group_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # who reads it (digest)


class BriefingShown(Base):
    """An item a group was shown on a local day: not repeated within `dedupe_days`."""

    __tablename__ = "briefing_shown"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    item_key: Mapped[str] = mapped_column(String(40), primary_key=True)


class BriefingRun(Base):
    """One briefing posted; a member's request holds `member_day`, unique per group."""

    __tablename__ = "briefing_runs"
    __table_args__ = (UniqueConstraint("group_id", "member_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128), index=True)
    day: Mapped[date] = mapped_column(Date)
    trigger: Mapped[str] = mapped_column(String(16))  # scheduled | admin | member
    member_id: Mapped[str | None] = mapped_column(String(128))
    member_day: Mapped[date | None] = mapped_column(Date)  # NULLs never collide
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    items: Mapped[int] = mapped_column(Integer, default=0)
