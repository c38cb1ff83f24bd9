"""The core's own tables: the persistent outbox and the scheduler's delivery ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, UTCDateTime


class OutboxMessage(Base):
    """A message waiting to be sent (or sent, or given up on) — survives restarts."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_account", "status", "account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(128))
    to_id: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(16))
    image_path: Mapped[str | None] = mapped_column(String(512))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # Written before the send call ("sending") and after it ("sent", with the platform's id):
    # a row left "sending" by a crash is the only one that may go out twice (see README).
    client_id: Mapped[str | None] = mapped_column(String(32))
    platform_id: Mapped[str | None] = mapped_column(String(128))
    # Short replies of one kind that may go out as one message (Outgoing.coalesce).
    coalesce: Mapped[str | None] = mapped_column(String(32))


class JobRun(Base):
    """The delivery ledger: one row per job, group and slot, so a slot never fires twice."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "group_id", "slot_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(160))
    group_id: Mapped[str] = mapped_column(String(128))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))


class ProcessedMessage(Base):
    """A platform message the bot has handled: a redelivery after a restart changes nothing.

    Written in the same transaction as the handler's own state (bot/once.py); purged after
    the retention window.
    """

    __tablename__ = "processed_messages"
    __table_args__ = (Index("ix_processed_messages_at", "at"),)

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


FIRST_START = "bot.first_start"  # when this database first saw the bot run (digest history)


class CoreState(Base):
    """Small facts the core keeps between runs, e.g. when the bot was last alive."""

    __tablename__ = "core_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime | None] = mapped_column(UTCDateTime())


from bot.activity import ActivityDaily, ActivityWord, MemberEvent  # noqa: E402  (beside their code)
from bot.digest.archive import DigestSent  # noqa: E402
from bot.leases import RoomLease  # noqa: E402
from bot.ledger import PointsAccount, PointsEntry  # noqa: E402
from bot.platform_state import AccountOutage, RemovedGroup  # noqa: E402
from bot.web.models import WebAudit, WebLoginLink, WebPassword, WebSession  # noqa: E402

__all__ = [
    "FIRST_START", "AccountOutage", "ActivityDaily", "ActivityWord", "CoreState", "DigestSent",
    "JobRun", "MemberEvent", "OutboxMessage", "PointsAccount", "PointsEntry", "ProcessedMessage",
    "RemovedGroup", "RoomLease", "WebAudit", "WebLoginLink", "WebPassword", "WebSession",
]


class BlackroomStay(Base):
    """A member's stay in the group's one 小黑屋 (bot/blackroom.py), whoever put them there.

    Kept after it ends (expired or released): check-in refuses to make up a banned day.
    """

    __tablename__ = "blackroom_stays"
    __table_args__ = (Index("ix_blackroom_stays_group_member", "group_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128), default="")  # display name when put in
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))  # a text key of the source plugin
    source: Mapped[str] = mapped_column(String(64))  # the plugin that put the member in
    put_by: Mapped[str] = mapped_column(String(128), default="bot")  # "bot" or the admin
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(128))
