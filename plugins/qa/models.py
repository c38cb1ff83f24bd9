"""Q&A tables: answers taught in chat, questions the bot could not answer, answers given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class QaTaught(Base):
    __tablename__ = "qa_taught"
    __table_args__ = (UniqueConstraint("group_id", "question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    taught_by: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class QaUnanswered(Base):
    __tablename__ = "qa_unanswered"
    __table_args__ = (Index("ix_qa_unanswered_group_open", "group_id", "closed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(128))
    question: Mapped[str] = mapped_column(String(500))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QaAnswer(Base):
    """Every answer given: the repeat pointer, the rate limits and the digest read it."""

    __tablename__ = "qa_answers"
    __table_args__ = (Index("ix_qa_answers_group_at", "group_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(128))
    question_key: Mapped[str] = mapped_column(String(500))  # the normalized question
    at: Mapped[datetime] = mapped_column(UTCDateTime())
