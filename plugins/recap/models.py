"""What the recap needs that no other plugin keeps: which messages drew replies."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base


class RecapReplied(Base):
    """A message that was quoted or @-replied to on a local day, and how often."""

    __tablename__ = "recap_replied"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    author_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    text_key: Mapped[str] = mapped_column(String(40), primary_key=True)  # sha1 of the text
    author_name: Mapped[str] = mapped_column(String(128), default="")
    text: Mapped[str] = mapped_column(String(200), default="")  # the start of the message
    replies: Mapped[int] = mapped_column(Integer, default=0)
