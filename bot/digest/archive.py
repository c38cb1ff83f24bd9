"""Each digest as it was sent: its text and its chart's data, kept for the console's archive.

Written in the transaction that queues the direct message (the transactional outbox), so a
digest is kept exactly when it is on its way: the archive shows what the operator received,
whatever the tables say later (a member's messages deleted, a group renamed, a plugin
disabled). The chart is kept as its data, not its pixels: `chart.draw` of the same data
draws the same picture, for a fraction of the bytes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, UTCDateTime


class DigestSent(Base):
    """One operator's digest of one day, as sent (a day sent twice keeps both; the last counts)."""

    __tablename__ = "digest_sent"
    __table_args__ = (Index("ix_digest_sent_reader_day", "reader", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reader: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)  # the day the digest covers
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)
    # {"days": ["2026-11-10", …], "series": {label: [messages or null, …]}}
    chart: Mapped[dict[str, Any]] = mapped_column(JSON)


def chart_data(days: list[date], series: dict[str, list[int | None]]) -> dict[str, Any]:
    return {"days": [d.isoformat() for d in days], "series": series}


def chart_of(row: DigestSent) -> tuple[list[date], dict[str, list[int | None]]]:
    """The (days, series) `chart.draw` takes, as kept."""
    return [date.fromisoformat(d) for d in row.chart["days"]], dict(row.chart["series"])


async def keep(session: AsyncSession, reader: str, day: date, text: str,
               chart: dict[str, Any], now: datetime) -> None:
    session.add(DigestSent(reader=reader[:128], day=day, sent_at=now, text=text, chart=chart))


async def sent(session: AsyncSession, reader: str, day: date) -> DigestSent | None:
    """The digest `reader` was sent for `day` (the last, if the day went out twice)."""
    return await session.scalar(select(DigestSent).where(
        DigestSent.reader == reader, DigestSent.day == day)
        .order_by(DigestSent.id.desc()).limit(1))
