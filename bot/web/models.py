"""The web console's tables: login links, passwords, sessions and the audit log (issue 19).

Only hashes of secrets are stored: a copy of the database opens no session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, UTCDateTime


class WebLoginLink(Base):
    """A one-time login link sent by direct message (`后台`): valid minutes, used once."""

    __tablename__ = "web_login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(128))
    # The group the person asked from: their admin role there was checked by the bot.
    group_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebPassword(Base):
    """A password set with `bot web passwd ID` (scrypt; the parameters travel with it)."""

    __tablename__ = "web_passwords"

    person_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(128))
    group_id: Mapped[str | None] = mapped_column(String(128))  # as on the link it came from
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebAudit(Base):
    """Every action in the console: who, when, what (and on which group)."""

    __tablename__ = "web_audit"
    __table_args__ = (Index("ix_web_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    person_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")
