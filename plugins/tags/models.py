"""Member tags set by admins or by a join questionnaire's answers, and open questionnaires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class MemberTag(Base):
    """One tag on one member (automatic tags are computed, never stored)."""

    __tablename__ = "tags_members"
    __table_args__ = (Index("ix_tags_members_group_tag", "group_id", "tag"),)

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")  # display name when tagged
    source: Mapped[str] = mapped_column(String(16))  # admin | answer
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TagQuestionnaire(Base):
    """A newcomer's open questionnaire: which question waits for an answer, since when.
    Kept in the database so an answer after a restart still counts."""

    __tablename__ = "tags_questionnaires"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    question: Mapped[int] = mapped_column(Integer, default=0)  # index into `questions`
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
