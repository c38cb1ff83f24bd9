"""Invitations as plain functions over a session: recording joins and inviters, paying and
reversing rewards through the ledger, settling invitees once they stayed, the board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from bot.activity import ActivityDaily
from bot.i18n import Texts
from bot.storage import insert_if_missing
from plugins.invites.models import Invitation, InviteBonus
from plugins.invites.settings import InvitesSettings
from plugins.invites.texts import TEXTS

SOURCE = "invites"


@dataclass(frozen=True)
class Reasons:
    """Ledger reasons in the group's language."""

    language: str
    texts: Texts = TEXTS

    def __call__(self, key: str, **values: object) -> str:
        return self.texts.get(self.language, f"reason.{key}", **values)


async def _pay(session: AsyncSession, group_id: str, member_id: str, amount: int, reason: str,
               ref: str, now: datetime) -> None:
    # A reversal may take an inviter below zero: points paid for a fake invitee were never
    # theirs to spend.
    await ledger.change(session, group_id, member_id, amount, ledger.Change(reason, SOURCE, now,
                                                                            ref=ref),
                        allow_negative=amount < 0)


async def record_join(session: AsyncSession, group_id: str, member_id: str, name: str,
                      inviter_id: str | None, settings: InvitesSettings, now: datetime,
                      reasons: Reasons, source: str = "platform") -> int | None:
    """The join of `member_id`; returns the points paid to the inviter, or None when no
    inviter is credited (none known, self-invited, or a rejoin: only the first join counts)."""
    row = await session.get(Invitation, (group_id, member_id))
    if row is not None:
        row.left_at = None
        return None
    if inviter_id == member_id:
        inviter_id = None
    paid = settings.points if inviter_id is not None else 0
    session.add(Invitation(group_id=group_id, member_id=member_id, name=name[:128],
                           inviter_id=inviter_id, source=source, joined_at=now, status="pending",
                           weight=0.0, reward_paid=paid))
    if inviter_id is None:
        return None
    await _pay(session, group_id, inviter_id, paid, reasons("invite", name=name),
               f"invite:{member_id}", now)
    return paid


async def set_inviter(session: AsyncSession, group_id: str, member_id: str, inviter_id: str,
                      settings: InvitesSettings, now: datetime, reasons: Reasons) -> str:
    """An admin names the inviter the platform did not; returns the outcome's text key."""
    if member_id == inviter_id:
        return "set.self"
    row = await session.get(Invitation, (group_id, member_id))
    if row is None or row.status == "void":
        return "set.unknown"
    if row.inviter_id is not None:
        return "set.already"
    row.inviter_id, row.source = inviter_id, "admin"
    if row.status == "pending" and row.left_at is None:
        await _pay(session, group_id, inviter_id, settings.points,
                   reasons("invite", name=row.name), f"invite:{member_id}", now)
        row.reward_paid = settings.points
    return "set.done"


async def inviter_of(session: AsyncSession, group_id: str, member_id: str) -> str | None:
    row = await session.get(Invitation, (group_id, member_id))
    return row.inviter_id if row is not None else None


async def record_leave(session: AsyncSession, group_id: str, member_id: str,
                       settings: InvitesSettings, now: datetime, reasons: Reasons) -> bool:
    """The member left; an invitee leaving within stay_days is never counted and the reward
    paid for them is taken back. True when a reward was reversed."""
    row = await session.get(Invitation, (group_id, member_id))
    if row is None:
        return False
    row.left_at = now
    if row.status != "pending" or now >= row.joined_at + timedelta(days=settings.stay_days):
        return False
    row.status, row.weight, row.settled_at = "void", 0.0, now
    if not (row.reward_paid and row.inviter_id):
        return False
    await _pay(session, group_id, row.inviter_id, -row.reward_paid,
               reasons("reversed", name=row.name, days=settings.stay_days),
               f"invite:{member_id}", now)
    row.reward_paid = 0
    return True


@dataclass(frozen=True)
class Bonus:
    inviter_id: str
    count: int
    points: int


# Statements built once: building them cost more than SQLite's work for /邀请榜.
_DUE = select(Invitation).where(Invitation.group_id == bindparam("group"),
                                Invitation.status == "pending",
                                Invitation.joined_at <= bindparam("joined_by"))


async def settle_due(session: AsyncSession, group_id: str, timezone: ZoneInfo,
                     settings: InvitesSettings, now: datetime, reasons: Reasons) -> list[Bonus]:
    """Invitees past stay_days are counted: 1 if they spoke, ½ or 0 if silent (the reward
    is adjusted to match); then threshold bonuses. Idempotent; returns new bonuses."""
    due = list(await session.scalars(_DUE, {
        "group": group_id, "joined_by": now - timedelta(days=settings.stay_days)}))
    inviters: set[str] = set()
    for row in due:
        first = row.joined_at.astimezone(timezone).date()
        last = (row.joined_at + timedelta(days=settings.stay_days)).astimezone(timezone).date()
        spoke = await _spoke(session, group_id, row.member_id, first, last)
        row.weight = 1.0 if spoke else (0.5 if settings.silent == "half" else 0.0)
        row.status, row.settled_at = "counted", now
        if row.inviter_id is None:
            continue
        inviters.add(row.inviter_id)
        target = round(settings.points * row.weight)
        if row.reward_paid > target:
            await _pay(session, group_id, row.inviter_id, target - row.reward_paid,
                       reasons("silent", name=row.name, days=settings.stay_days),
                       f"invite:{row.member_id}", now)
            row.reward_paid = target
    await session.flush()
    bonuses = []
    for inviter in sorted(inviters):
        bonuses += await _threshold_bonuses(session, group_id, inviter, settings, now, reasons)
    return bonuses


async def _spoke(session: AsyncSession, group_id: str, member_id: str, first: date,
                 last: date) -> bool:
    a = ActivityDaily
    said = await session.scalar(select(func.coalesce(func.sum(a.messages), 0)).where(
        a.group_id == group_id, a.member_id == member_id, a.day >= first, a.day <= last))
    return bool(said)


async def _threshold_bonuses(session: AsyncSession, group_id: str, inviter: str,
                             settings: InvitesSettings, now: datetime,
                             reasons: Reasons) -> list[Bonus]:
    count = (await counted(session, group_id)).get(inviter, 0.0)
    paid = set(await session.scalars(select(InviteBonus.threshold).where(
        InviteBonus.group_id == group_id, InviteBonus.inviter_id == inviter)))
    bonuses = []
    for threshold, points in settings.thresholds.items():
        if threshold <= count and threshold not in paid:
            await insert_if_missing(session, InviteBonus, group_id=group_id, inviter_id=inviter,
                                    threshold=threshold, points=points, at=now)
            await _pay(session, group_id, inviter, points, reasons("bonus", count=threshold),
                       f"invite-bonus:{threshold}", now)
            bonuses.append(Bonus(inviter, threshold, points))
    return bonuses


async def counted(session: AsyncSession, group_id: str,
                  since: datetime | None = None) -> dict[str, float]:
    """Counted invitees per inviter (weights added), only those still in the group; with
    `since`, only invitees who joined from then on."""
    i = Invitation
    query = (select(i.inviter_id, func.sum(i.weight))
             .where(i.group_id == group_id, i.status == "counted", i.inviter_id.is_not(None),
                    i.left_at.is_(None), i.weight > 0)
             .group_by(i.inviter_id))
    if since is not None:
        query = query.where(i.joined_at >= since)
    return {inviter: float(total) for inviter, total in await session.execute(query)}


def _counted_since_and_ever() -> Any:
    i = Invitation
    recent = i.joined_at >= bindparam("since")
    return (select(i.inviter_id, func.sum(case((recent, i.weight), else_=0.0)),
                   func.sum(case((recent, 1), else_=0)), func.sum(i.weight))
            .where(i.group_id == bindparam("group"), i.status == "counted",
                   i.inviter_id.is_not(None), i.left_at.is_(None), i.weight > 0)
            .group_by(i.inviter_id))


_COUNTED_SINCE_AND_EVER = _counted_since_and_ever()


async def counted_since_and_ever(session: AsyncSession, group_id: str, since: datetime
                                 ) -> tuple[dict[str, float], dict[str, float]]:
    """`counted(since)` and `counted()` in one statement (the board shows both)."""
    rows = await session.execute(_COUNTED_SINCE_AND_EVER, {"group": group_id, "since": since})
    since_then: dict[str, float] = {}
    ever: dict[str, float] = {}
    for inviter, recent_total, recent_rows, total in rows:
        if recent_rows:  # invited someone since then (as `counted(since)` would list)
            since_then[inviter] = float(recent_total)
        ever[inviter] = float(total)
    return since_then, ever


def ranked(counts: dict[str, float], size: int) -> list[tuple[str, float]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:size]


def shown(count: float) -> str:
    """3 → "3", 2.5 → "2.5"."""
    return f"{count:g}"


def month_start(now: datetime, timezone: ZoneInfo) -> datetime:
    local = now.astimezone(timezone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
