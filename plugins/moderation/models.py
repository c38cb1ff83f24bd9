"""Moderation tables: every action with its evidence, members' join time, and the
exceptions admins added with 误判. The 小黑屋 is the core's (bot/blackroom.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class ModerationAction(Base):
    __tablename__ = "moderation_actions"
    __table_args__ = (Index("ix_moderation_actions_group_member", "group_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)  # the matched text and the message
    action: Mapped[str] = mapped_column(String(32))  # warn | deduct:N | remove | blackroom:D
    points: Mapped[int] = mapped_column(Integer, default=0)  # actually deducted
    by: Mapped[str] = mapped_column(String(128))  # "bot" or the admin
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    undone: Mapped[bool] = mapped_column(Boolean, default=False)


class ModerationMember(Base):
    __tablename__ = "moderation_members"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModerationException(Base):
    """`banned_word:<word>`, `pattern:<text>` or `<rule>:member:<id>`: no longer a violation."""

    __tablename__ = "moderation_exceptions"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)
