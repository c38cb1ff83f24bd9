"""Quiz tables: rounds (quiz or idiom chain), the questions asked, and chain moves.

The database decides races: `quiz_active` has one row per group (one game at a time),
a question is won by the UPDATE that finds it still open, and a chain position or an idiom
can be taken once per game (unique keys).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class QuizActive(Base):
    """The game running in a group; the primary key allows one."""

    __tablename__ = "quiz_active"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer)


class QuizRound(Base):
    __tablename__ = "quiz_rounds"
    __table_args__ = (Index("ix_quiz_rounds_group_started", "group_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    game: Mapped[str] = mapped_column(String(16))  # quiz | chain
    bank: Mapped[str] = mapped_column(String(64), default="")
    plan: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[bank, index], ...]
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(16))  # done | stopped | timeout
    hints_used: Mapped[int] = mapped_column(Integer, default=0)


class QuizAsked(Base):
    """One question put to the group; `outcome` is set once, by the winner or the timeout."""

    __tablename__ = "quiz_asked"
    __table_args__ = (Index("ix_quiz_asked_group_asked", "group_id", "asked_at"),
                      Index("ix_quiz_asked_round_id", "round_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)  # 1-based within the round
    bank: Mapped[str] = mapped_column(String(64))
    question_index: Mapped[int] = mapped_column(Integer)
    question: Mapped[dict[str, Any]] = mapped_column(JSON)  # snapshot: banks may be edited
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))  # answered | timeout | stopped
    winner_id: Mapped[str | None] = mapped_column(String(128))
    winner_name: Mapped[str] = mapped_column(String(128), default="")
    points: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QuizChainMove(Base):
    __tablename__ = "quiz_chain_moves"
    __table_args__ = (UniqueConstraint("round_id", "position"),
                      UniqueConstraint("round_id", "idiom"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)  # 0 = the bot's opening idiom
    idiom: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str] = mapped_column(String(128))
    member_name: Mapped[str] = mapped_column(String(128), default="")
    points: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
