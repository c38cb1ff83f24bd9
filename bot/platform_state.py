"""What the platform says about the bot's own account and rooms (issue 11): logged in or
out, removed from a group, a group renamed.

The runtime, the dispatcher, the outbox's send policy and the digest all ask this one
service. Outages and removals are kept in small tables so a restart remembers them and
the digest can report them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.events import BotRemoved, GroupRenamed, LoginChanged, Outgoing, OutKind
from bot.i18n import Texts
from bot.storage import Base, UTCDateTime

if TYPE_CHECKING:  # the tables are imported with the core's models: no import cycle
    from bot.clock import Clock
    from bot.config import LoadedConfig
    from bot.outbox import Outbox
    from bot.roles import Roles
    from bot.storage import Database

log = logging.getLogger("bot.platform")


class AccountOutage(Base):
    """A time the platform account was logged out (ended_at None: still out)."""

    __tablename__ = "account_outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(256), default="")


class RemovedGroup(Base):
    """A group the bot's account is no longer in: nothing is posted there until it is back."""

    __tablename__ = "removed_groups"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    remover_id: Mapped[str | None] = mapped_column(String(128))


TEXTS = Texts(
    zh={
        "back": "✅ 微信账号已重新登录，离线了 {duration}（{start} 起）。"
                "离线期间的定时消息已保留，现在开始发送。",
        "removed": "⚠️ 机器人已被移出群「{group}」（{at}）。"
                   "该群的定时消息和提醒已停止；把机器人重新拉进群即可恢复。",
        "hours": "{hours} 小时 {minutes} 分钟",
        "minutes": "{minutes} 分钟",
    },
    en={
        "back": "✅ The WeChat account is logged in again after {duration} offline (since "
                "{start}). Timed posts held meanwhile are being sent now.",
        "removed": "⚠️ The bot was removed from the group “{group}” ({at}). Its timed posts "
                   "and reminders have stopped; add the bot back to resume them.",
        "hours": "{hours} h {minutes} min",
        "minutes": "{minutes} min",
    },
)


def duration_text(delta: timedelta, language: str) -> str:
    """"2 小时 5 分钟" / "2 h 5 min" (at least one minute)."""
    minutes = max(1, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return TEXTS.get(language, "hours", hours=hours, minutes=minutes)
    return TEXTS.get(language, "minutes", minutes=minutes)


class PlatformState:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        roles: Roles,
        config: Callable[[], LoadedConfig],
        *,
        account: str,
        shared: bool = False,
    ) -> None:
        self.db, self.clock, self.outbox, self.roles = db, clock, outbox, roles
        self._config, self.account = config, account
        # Several accounts share the database (issue 18): one account's removal from a
        # room is its own (kept in memory; its lease is given up), not every account's.
        self.shared = shared
        self.logged_in = True
        self.removed: dict[str, datetime] = {}  # group id → when the bot was removed

    async def load(self) -> None:
        """Remember the groups the bot was removed from before a restart."""
        if self.shared:
            return
        async with self.db.transaction() as session:
            rows = (await session.scalars(select(RemovedGroup))).all()
        self.removed = {row.group_id: row.removed_at for row in rows}

    def is_removed(self, group_id: str | None) -> bool:
        return group_id is not None and group_id in self.removed

    # -- login ----------------------------------------------------------------------------

    async def login_changed(self, event: LoginChanged) -> None:
        if event.logged_in:
            await self._logged_in(event)
        else:
            await self._logged_out(event)

    async def _logged_out(self, event: LoginChanged) -> None:
        """Hold every send (no retries burnt on a dead session) and note the outage."""
        self.logged_in = False
        self.outbox.hold()
        log.warning("the WeChat account is logged out%s: handling paused, sends held",
                    f" ({event.reason})" if event.reason else "")
        async with self.db.transaction() as session:
            if await self._open_outage(session) is None:
                session.add(AccountOutage(account=self.account, started_at=event.at,
                                          reason=event.reason[:256]))

    async def _logged_in(self, event: LoginChanged) -> None:
        """Send what was held and tell the operators how long the account was out (an
        outage left open by a restart is closed too)."""
        self.logged_in = True
        async with self.db.transaction() as session:
            outage = await self._open_outage(session)
            if outage is not None:
                outage.ended_at = max(event.at, outage.started_at)
                out = (outage.started_at, outage.ended_at)
        self.outbox.release()
        log.info("the WeChat account is logged in%s",
                 f" ({event.account_id})" if event.account_id else "")
        if outage is not None:
            started, ended = out
            self._tell_operators(None, "back", start=self._local(started),
                                 duration=duration_text(ended - started, self._language))

    async def _open_outage(self, session: AsyncSession) -> AccountOutage | None:
        return await session.scalar(
            select(AccountOutage)
            .where(AccountOutage.account == self.account, AccountOutage.ended_at.is_(None))
            .order_by(AccountOutage.id.desc()).limit(1))

    # -- rooms ----------------------------------------------------------------------------

    async def bot_removed(self, event: BotRemoved) -> None:
        """Stop everything for the group and tell its operators, once per removal."""
        if event.group_id in self.removed:
            return
        self.removed[event.group_id] = event.at
        if not self.shared:
            async with self.db.transaction() as session:
                await session.merge(RemovedGroup(group_id=event.group_id, removed_at=event.at,
                                                 remover_id=event.remover_id))
        name = self.group_name(event.group_id)
        log.warning("the bot was removed from %s (%s): its posts and jobs stop",
                    event.group_id, name)
        self._tell_operators(event.group_id, "removed", group=name, at=self._local(event.at))

    async def group_seen(self, group_id: str, at: datetime) -> None:
        """A message from a group sent after the bot's removal: it was added back."""
        removed_at = self.removed.get(group_id)
        if removed_at is None or at <= removed_at:
            return
        del self.removed[group_id]
        if not self.shared:
            async with self.db.transaction() as session:
                await session.execute(
                    delete(RemovedGroup).where(RemovedGroup.group_id == group_id))
        log.info("the bot is back in %s: its posts and jobs resume", group_id)

    def renamed(self, event: GroupRenamed) -> None:
        """Use the new name at once (the name in bot.yaml, the operators' own, stays)."""
        self.roles.renamed(event.group_id, event.name)
        setup = self._config().setup_for(event.group_id)
        if not setup.configured:
            setup.name = event.name
        log.info("group %s is now called %s", event.group_id, event.name)

    def group_name(self, group_id: str) -> str:
        return self._config().setup_for(group_id).name

    # -- telling operators ----------------------------------------------------------------

    @property
    def _language(self) -> str:
        return self._config().config.bot.language

    def _local(self, at: datetime) -> str:
        zone = ZoneInfo(self._config().config.bot.timezone)
        return at.astimezone(zone).strftime("%m-%d %H:%M")

    def _tell_operators(self, group_id: str | None, key: str, **values: object) -> None:
        """A direct message to the group's operators (every operator for the account)."""
        loaded = self._config()
        text = TEXTS.get(self._language, key, **values)
        for operator in loaded.config.operators:
            if group_id is None or not operator.groups or any(
                    g.id == group_id for g in loaded.operated_by(operator)):
                self.outbox.put(Outgoing(text=text, kind=OutKind.DM, to=operator.id))
