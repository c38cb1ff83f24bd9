"""Topic pools: which topics a group has had in the pool's current round."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage import Base, UTCDateTime


class TimedPostsDrawn(Base):
    """A topic drawn in the current round; the round restarts when every topic was drawn."""

    __tablename__ = "timed_posts_drawn"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    pool: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
