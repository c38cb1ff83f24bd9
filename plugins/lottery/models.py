"""Lottery draws and their entries. The seed stays in the database, unposted, until the
deadline; only its SHA-256 is posted when the draw opens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class LotteryDraw(Base):
    __tablename__ = "lottery_draws"
    __table_args__ = (Index("ix_lottery_draws_group_status", "group_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    keyword: Mapped[str] = mapped_column(String(40))
    prizes: Mapped[list[Any]] = mapped_column(JSON)  # [[name, winners], ...] in draw order
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seed: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | drawn | cancelled
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    winners: Mapped[list[Any] | None] = mapped_column(JSON)  # [[prize, member id], ...]
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(128))  # the admin who 取消抽奖


class LotteryEntry(Base):
    __tablename__ = "lottery_entries"

    draw_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_name: Mapped[str] = mapped_column(String(128), default="")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
