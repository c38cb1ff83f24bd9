"""骰子 and 扎气球 games. Winners and popped balloons are settled by conditional UPDATEs and
unique keys, so simultaneous rolls or pops cannot produce two winners or a balloon popped twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class DiceGame(Base):
    __tablename__ = "minigames_dice"
    __table_args__ = (Index("ix_minigames_dice_group_status", "group_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    target: Mapped[int] = mapped_column(Integer)
    prize: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | won | stopped
    winner_id: Mapped[str | None] = mapped_column(String(128))
    winner_name: Mapped[str] = mapped_column(String(128), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DiceRoll(Base):
    __tablename__ = "minigames_dice_rolls"
    __table_args__ = (Index("ix_minigames_dice_rolls_game_member", "game_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    game_id: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[str] = mapped_column(String(128))
    value: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class BalloonGame(Base):
    __tablename__ = "minigames_balloon_games"
    __table_args__ = (Index("ix_minigames_balloon_games_group_status", "group_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    count: Mapped[int] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | stopped
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Balloon(Base):
    """One balloon with its hidden prize; popped once, and once per member per game."""

    __tablename__ = "minigames_balloons"
    __table_args__ = (UniqueConstraint("game_id", "member_id"),)

    game_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1..count
    prize: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer, default=0)
    member_id: Mapped[str | None] = mapped_column(String(128))
    member_name: Mapped[str] = mapped_column(String(128), default="")
    popped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
