"""Computing the digest: core activity figures, every plugin's digest hook, risk, trends.

Plugins are asked through their `digest` hook only (no plugin is named here), all groups
at once, so the cost grows with the data, not with the number of groups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activity import ActivityDaily, ActivityWord, MemberEvent
from bot.config.models import DigestSettings
from bot.platform_state import AccountOutage, RemovedGroup
from bot.plugin import DigestContribution, DigestQuery, Metric, Plugin
from bot.storage import chunked
from bot.storage.models import FIRST_START, CoreState, OutboxMessage

log = logging.getLogger("plugins.digest")

BASELINE_DAYS = 7


@dataclass(frozen=True)
class GroupRef:
    id: str
    name: str
    timezone: ZoneInfo
    day: date  # the local day the digest covers for this group (a finished one, by default)
    since: date | None = None  # the group's local day the bot first ran: no history before

    def known(self, day: date) -> bool:
        return self.since is None or day >= self.since

    def days(self, count: int) -> list[date]:
        """The `count` local days ending with the covered one, oldest first."""
        return [self.day - timedelta(days=n) for n in range(count - 1, -1, -1)]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float
    average: float | None  # over the 7 days before; None: the bot was not running then
    percent: bool = False


@dataclass
class GroupDigest:
    group: GroupRef
    figures: list[Figure] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    series: list[int | None] = field(default_factory=list)  # per chart day; None: not over
    silent_days: int = 0  # days since the last message (0: posted on the digest's day)
    drop: float | None = None  # messages vs the 7-day average, when at risk by it
    removed_at: datetime | None = None  # the bot was removed from the group (local time)

    @property
    def at_risk(self) -> bool:
        """Quieter than usual; a group the bot was removed from is listed as such instead."""
        return self.removed_at is None and (self.drop is not None or self.silent_days > 0)

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


@dataclass
class Digest:
    day: date  # the latest day covered (groups west of the digest's zone cover one before)
    chart_days: list[date]
    groups: list[GroupDigest]
    failed_hooks: list[str] = field(default_factory=list)
    failed_dms: Figure | None = None  # direct messages the outbox gave up on (no group)
    # Logouts of the account worth noting: (start, end or None while still out), local time.
    outages: list[tuple[datetime, datetime | None]] = field(default_factory=list)


Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def compute(
    transaction: Transaction,
    plugins: Sequence[Plugin[Any]],
    groups: Sequence[GroupRef],
    settings: DigestSettings,
    language: str = "zh",
    zone: ZoneInfo | None = None,
    outages_within: tuple[datetime, datetime] | None = None,
) -> Digest:
    """Every group's figures for its covered day against the 7 days before; `zone` (the
    digest's) dates the direct messages that failed and the account's outages, noted when
    they overlap `outages_within`."""
    ids = [g.id for g in groups]
    last, first = max(g.day for g in groups), min(g.day for g in groups)
    days = tuple(first - timedelta(days=BASELINE_DAYS) + timedelta(days=n)
                 for n in range((last - first).days + BASELINE_DAYS + 1))
    chart_days = [last - timedelta(days=n) for n in range(settings.chart_days - 1, -1, -1)]
    query = DigestQuery(tuple(ids), days, {g.id: g.timezone for g in groups}, language)
    async with transaction() as session:
        started = await session.get(CoreState, FIRST_START)
        if started is not None and started.at is not None:
            groups = [replace(g, since=started.at.astimezone(g.timezone).date())
                      for g in groups]
        messages, speakers = await _activity(session, ids, min(days[0], chart_days[0]), last)
        failed, failed_dms = await _failed_sends(session, query, zone or ZoneInfo("UTC"))
        joins, leaves = await _joins_and_leaves(session, query)
        words = await _keywords(session, {g.id: g.day for g in groups}, settings.keywords)
        removed = await _removed(session, ids)
        outages = (await _outages(session, outages_within, settings.outage_note_after)
                   if outages_within else [])
    metrics = [Metric("core.messages", "messages", messages),
               Metric("core.speakers", "speakers", speakers),
               Metric("core.joins", "joins", joins),
               Metric("core.leaves", "leaves", leaves),
               Metric("core.failed", "failed", failed)]
    notes: dict[str, list[str]] = {}
    failed_hooks = []
    for plugin in plugins:
        if plugin.digest is None:
            continue
        try:  # each hook in its own transaction: one failing leaves the others unharmed
            contribution = await _ask(transaction, plugin, query)
        except Exception:
            log.exception("digest hook of %s failed", plugin.name)
            failed_hooks.append(plugin.title)
            continue
        metrics += contribution.metrics
        for group, lines in contribution.notes.items():
            notes.setdefault(group, []).extend(lines)
    digests = [_group_digest(g, metrics, chart_days, messages, settings) for g in groups]
    for digest in digests:
        digest.keywords = words.get(digest.group.id, [])
        digest.notes = notes.get(digest.group.id, [])
        if (at := removed.get(digest.group.id)) is not None:
            digest.removed_at = at.astimezone(digest.group.timezone)
    dm_days = [last - timedelta(days=n) for n in range(BASELINE_DAYS, -1, -1)]
    since = started.at.astimezone(zone).date() if started and started.at and zone else None
    dms = [failed_dms.get(d, 0) if since is None or d >= since or d == last else None
           for d in dm_days]
    local = zone or ZoneInfo("UTC")
    return Digest(last, chart_days, digests, failed_hooks, _figure("core.failed", "failed", dms),
                  [(a.astimezone(local), b.astimezone(local) if b else None) for a, b in outages])


async def _removed(session: AsyncSession, ids: list[str]) -> dict[str, datetime]:
    removed: dict[str, datetime] = {}
    for chunk in chunked(ids):
        rows = await session.execute(select(RemovedGroup.group_id, RemovedGroup.removed_at)
                                     .where(RemovedGroup.group_id.in_(chunk)))
        removed.update({group: at for group, at in rows})
    return removed


async def _outages(session: AsyncSession, within: tuple[datetime, datetime],
                   at_least: timedelta) -> list[tuple[datetime, datetime | None]]:
    """Logouts overlapping `within` that lasted `at_least` (an open one: until its end)."""
    since, until = within
    rows = await session.execute(
        select(AccountOutage.started_at, AccountOutage.ended_at)
        .where(AccountOutage.started_at < until,
               (AccountOutage.ended_at.is_(None)) | (AccountOutage.ended_at > since))
        .order_by(AccountOutage.started_at))
    return [(start, end) for start, end in rows if (end or until) - start >= at_least]


def _figure(key: str, label: str, values: Sequence[float | None], percent: bool = False
            ) -> Figure:
    """The last value against the average of the ones before (None: from before the bot
    ran, left out of the average rather than counted as zero)."""
    history = [v for v in values[:-1] if v is not None]
    average = sum(history) / len(history) if history else None
    return Figure(key, label, values[-1] or 0.0, average, percent)


HOOK_GROUPS = 1000  # groups per hook call: every hook's IN (...) stays within the limits


async def _ask(
    transaction: Transaction, plugin: Plugin[Any], query: DigestQuery
) -> DigestContribution:
    """The plugin's figures for all groups, asked a thousand groups at a time."""
    assert plugin.digest is not None
    metrics: dict[str, Metric] = {}
    notes: dict[str, list[str]] = {}
    for ids in chunked(query.group_ids, HOOK_GROUPS):
        async with transaction() as session:
            part = await plugin.digest(session, replace(query, group_ids=tuple(ids)))
        for metric in part.metrics:
            known = metrics.setdefault(metric.key, replace(metric, values={}))
            known.values.update(metric.values)
        notes.update(part.notes)
    return DigestContribution(list(metrics.values()), notes)


async def _activity(
    session: AsyncSession, ids: list[str], first: date, last: date
) -> tuple[dict[tuple[str, date], float], dict[tuple[str, date], float]]:
    a = ActivityDaily
    messages: dict[tuple[str, date], float] = {}
    speakers: dict[tuple[str, date], float] = {}
    for chunk in chunked(ids):
        rows = await session.execute(
            select(a.group_id, a.day, func.sum(a.messages),
                   func.sum(case((a.messages > 0, 1), else_=0)))
            .where(a.group_id.in_(chunk), a.day >= first, a.day <= last)
            .group_by(a.group_id, a.day))
        for group, day, total, people in rows:
            messages[(group, day)], speakers[(group, day)] = int(total), int(people)
    return messages, speakers


async def _joins_and_leaves(
    session: AsyncSession, query: DigestQuery
) -> tuple[dict[tuple[str, date], float], dict[tuple[str, date], float]]:
    start, end = query.span()
    events: dict[str, list[tuple[str, datetime]]] = {"join": [], "leave": []}
    for chunk in chunked(query.group_ids):
        rows = await session.execute(
            select(MemberEvent.group_id, MemberEvent.kind, MemberEvent.at)
            .where(MemberEvent.group_id.in_(chunk), MemberEvent.at >= start,
                   MemberEvent.at < end))
        for group, kind, at in rows:
            events[kind].append((group, at))
    return query.tally(events["join"]), query.tally(events["leave"])


async def _failed_sends(
    session: AsyncSession, query: DigestQuery, zone: ZoneInfo
) -> tuple[dict[tuple[str, date], float], dict[date, float]]:
    """Messages the outbox gave up on: per group and its day, and direct messages per day."""
    start, end = query.span()
    rows = await session.execute(
        select(OutboxMessage.group_id, OutboxMessage.created_at)
        .where(OutboxMessage.status == "failed", OutboxMessage.created_at >= start,
               OutboxMessage.created_at < end))
    counts: dict[tuple[str, date], float] = {}
    direct: dict[date, float] = {}
    wanted = set(query.group_ids)
    for group, at in rows:
        if not group:
            day = at.astimezone(zone).date()
            direct[day] = direct.get(day, 0) + 1
        elif group in wanted:
            key = (group, query.local_day(group, at))
            counts[key] = counts.get(key, 0) + 1
    return counts, direct


async def _keywords(
    session: AsyncSession, covered: dict[str, date], top: int
) -> dict[str, list[str]]:
    """Each group's most used words on its covered day."""
    words: dict[str, list[str]] = {}
    if top == 0:
        return words
    for chunk in chunked(covered):
        rows = await session.execute(
            select(ActivityWord.group_id, ActivityWord.day, ActivityWord.word)
            .where(ActivityWord.group_id.in_(chunk),
                   ActivityWord.day.in_({covered[g] for g in chunk}))
            .order_by(ActivityWord.group_id, ActivityWord.count.desc(), ActivityWord.word))
        for group, day, word in rows:
            kept = words.setdefault(group, [])
            if day == covered[group] and len(kept) < top:
                kept.append(word)
    return words


def _group_digest(
    group: GroupRef,
    metrics: list[Metric],
    chart_days: list[date],
    messages: dict[tuple[str, date], float],
    settings: DigestSettings,
) -> GroupDigest:
    digest = GroupDigest(group)
    days = group.days(BASELINE_DAYS + 1)
    for metric in metrics:
        values = [metric.values.get((group.id, d), 0.0) if group.known(d) else None
                  for d in days[:-1]] + [metric.values.get((group.id, group.day), 0.0)]
        if metric.key.startswith("core.") or any(values):  # a plugin the group does not use
            digest.figures.append(_figure(metric.key, metric.label, values, metric.percent))
    digest.series = [int(messages.get((group.id, d), 0)) if d <= group.day else None
                     for d in chart_days]
    # Silence counts only days the bot was running: a fresh install is not "silent 14 days".
    silent = _silent_days([messages.get((group.id, d), 0)
                           for d in group.days(settings.chart_days) if group.known(d)])
    digest.silent_days = silent if silent >= settings.risk_silent_days else 0
    today = digest.figure("core.messages")
    if today is not None and today.average is not None and today.average >= 5 and \
            today.value < (1 - settings.risk_drop) * today.average:
        digest.drop = (today.value - today.average) / today.average
    return digest


def _silent_days(series: Sequence[float]) -> int:
    """Days in a row, up to the digest's day, without a message."""
    silent = 0
    for count in reversed(series):
        if count:
            break
        silent += 1
    return silent
