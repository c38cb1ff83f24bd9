"""Check-in tables: one record per member and day, a summary per member, offences."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class CheckinRecord(Base):
    """A day counted for a member: checked in, made up (补签) or frozen (streak protection)."""

    __tablename__ = "checkin_records"
    # The unique key is what makes two simultaneous check-ins count once.
    __table_args__ = (UniqueConstraint("group_id", "member_id", "day"),
                      Index("ix_checkin_records_group_day", "group_id", "day"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # checkin | makeup | freeze
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[int] = mapped_column(Integer, default=0)


class CheckinMember(Base):
    __tablename__ = "checkin_members"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    best_streak: Mapped[int] = mapped_column(Integer, default=0)
    quiet: Mapped[bool] = mapped_column(Boolean, default=False)  # /免打扰: no reminders
    offences: Mapped[int] = mapped_column(Integer, default=0)
    last_comeback: Mapped[date | None] = mapped_column(Date)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # left the group: no reminders


class CheckinOffence(Base):
    """A refused copied note, kept as evidence."""

    __tablename__ = "checkin_offences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text)
    copied_from: Mapped[str] = mapped_column(String(128))
    similarity: Mapped[int] = mapped_column(Integer)


class CheckinDay(Base):
    """A group's check-in figures for a finished day, kept by a nightly job so the digest
    need not scan every member's month of records for every group."""

    __tablename__ = "checkin_days"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    checkins: Mapped[int] = mapped_column(Integer, default=0)
    members: Mapped[int] = mapped_column(Integer, default=0)  # checked in within the window
