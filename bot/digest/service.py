"""Computing the digest: core activity figures, every plugin's digest hook, risk, trends.

Plugins are asked through their `digest` hook only (no plugin is named here), all groups
at once, so the cost grows with the data, not with the number of groups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activity import ActivityDaily, ActivityWord, MemberEvent
from bot.config.models import DigestSettings
from bot.plugin import DigestContribution, DigestQuery, Metric, Plugin
from bot.storage import chunked
from bot.storage.models import OutboxMessage

log = logging.getLogger("plugins.digest")

BASELINE_DAYS = 7


@dataclass(frozen=True)
class GroupRef:
    id: str
    name: str
    timezone: ZoneInfo


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float
    average: float  # over the 7 days before
    percent: bool = False


@dataclass
class GroupDigest:
    group: GroupRef
    figures: list[Figure] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    series: list[int] = field(default_factory=list)  # messages per day for the chart
    silent_days: int = 0  # days since the last message (0: posted on the digest's day)
    drop: float | None = None  # messages vs the 7-day average, when at risk by it

    @property
    def at_risk(self) -> bool:
        return self.drop is not None or self.silent_days > 0

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


@dataclass
class Digest:
    day: date
    chart_days: list[date]
    groups: list[GroupDigest]
    failed_hooks: list[str] = field(default_factory=list)


Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def compute(
    transaction: Transaction,
    plugins: Sequence[Plugin[Any]],
    groups: Sequence[GroupRef],
    day: date,
    settings: DigestSettings,
    language: str = "zh",
) -> Digest:
    ids = [g.id for g in groups]
    days = tuple(day - timedelta(days=n) for n in range(BASELINE_DAYS, -1, -1))
    chart_days = [day - timedelta(days=n) for n in range(settings.chart_days - 1, -1, -1)]
    query = DigestQuery(tuple(ids), days, {g.id: g.timezone for g in groups}, language)
    async with transaction() as session:
        messages, speakers = await _activity(session, ids, chart_days[0], day)
        failed = await _failed_sends(session, query)
        joins, leaves = await _joins_and_leaves(session, query)
        words = await _keywords(session, ids, day, settings.keywords)
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
    digests = [_group_digest(g, metrics, days, chart_days, messages, settings)
               for g in groups]
    for digest in digests:
        digest.keywords = words.get(digest.group.id, [])
        digest.notes = notes.get(digest.group.id, [])
    return Digest(day, chart_days, digests, failed_hooks)


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
    days = set(query.days)
    counts: dict[str, dict[tuple[str, date], float]] = {"join": {}, "leave": {}}
    for chunk in chunked(query.group_ids):
        rows = await session.execute(
            select(MemberEvent.group_id, MemberEvent.kind, MemberEvent.at)
            .where(MemberEvent.group_id.in_(chunk), MemberEvent.at >= start,
                   MemberEvent.at < end))
        for group, kind, at in rows:
            if (day := query.local_day(group, at)) in days:
                target = counts[kind]
                target[(group, day)] = target.get((group, day), 0) + 1
    return counts["join"], counts["leave"]


async def _failed_sends(session: AsyncSession, query: DigestQuery) -> dict[tuple[str, date], float]:
    """Messages the outbox gave up on, by group (direct messages count for every group)."""
    start, end = query.span()
    rows = await session.execute(
        select(OutboxMessage.group_id, OutboxMessage.created_at)
        .where(OutboxMessage.status == "failed", OutboxMessage.created_at >= start,
               OutboxMessage.created_at < end))
    counts: dict[tuple[str, date], float] = {}
    days, wanted = set(query.days), set(query.group_ids)
    for group, at in rows:
        targets = [group] if group in wanted else [] if group else list(wanted)
        for target in targets:
            if (day := query.local_day(target, at)) in days:
                counts[(target, day)] = counts.get((target, day), 0) + 1
    return counts


async def _keywords(
    session: AsyncSession, ids: list[str], day: date, top: int
) -> dict[str, list[str]]:
    words: dict[str, list[str]] = {}
    if top == 0:
        return words
    for chunk in chunked(ids):
        rows = await session.execute(
            select(ActivityWord.group_id, ActivityWord.word)
            .where(ActivityWord.group_id.in_(chunk), ActivityWord.day == day)
            .order_by(ActivityWord.group_id, ActivityWord.count.desc(), ActivityWord.word))
        for group, word in rows:
            kept = words.setdefault(group, [])
            if len(kept) < top:
                kept.append(word)
    return words


def _group_digest(
    group: GroupRef,
    metrics: list[Metric],
    days: tuple[date, ...],
    chart_days: list[date],
    messages: dict[tuple[str, date], float],
    settings: DigestSettings,
) -> GroupDigest:
    digest = GroupDigest(group)
    for metric in metrics:
        values = [metric.values.get((group.id, d), 0.0) for d in days]
        if metric.key.startswith("core.") or any(values):  # a plugin the group does not use
            digest.figures.append(Figure(metric.key, metric.label, values[-1],
                                         sum(values[:-1]) / (len(values) - 1), metric.percent))
    digest.series = [int(messages.get((group.id, d), 0)) for d in chart_days]
    digest.silent_days = _silent_days(digest.series)
    if digest.silent_days < settings.risk_silent_days:
        digest.silent_days = 0
    today = digest.figure("core.messages")
    if today is not None and today.average >= 5 and \
            today.value < (1 - settings.risk_drop) * today.average:
        digest.drop = (today.value - today.average) / today.average
    return digest


def _silent_days(series: list[int]) -> int:
    """Days in a row, up to the digest's day, without a message."""
    silent = 0
    for count in reversed(series):
        if count:
            break
        silent += 1
    return silent
