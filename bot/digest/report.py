"""The digest's reports: computed once for all groups, then one text and chart per reader."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import LoadedConfig
from bot.digest import archive, chart, service
from bot.digest.render import render
from bot.digest.texts import TEXTS
from bot.events import Outgoing, OutKind
from bot.groups import GroupSetup
from bot.outbox import Outbox
from bot.plugin import Plugin, Schedule
from bot.scheduler import ScheduledJob, make_trigger
from bot.text import cap


@dataclass(frozen=True)
class Report:
    reader: str | None  # an operator's id; None: the CLI's report on the chosen groups
    text: str
    chart: Path
    day: date  # the latest day it covers
    chart_data: dict[str, Any]  # what the chart was drawn from (archive.chart_data)


async def build(
    transaction: service.Transaction,
    config: LoadedConfig,
    plugins: Sequence[Plugin[Any]],
    when: date | datetime,
    out_dir: Path,
    readers: dict[str | None, list[GroupSetup]],
) -> list[Report]:
    """Compute once for every group any reader sees, then one text and chart each.

    `when` is a date (every group covers it) or the digest's moment: each group then covers
    its own last finished local day (a group in Los Angeles is a day behind Shanghai's)."""
    settings = config.config.digest
    wanted = {g.id: g for groups in readers.values() for g in groups}
    refs = [service.GroupRef(g.id, g.name, g.timezone,
                             when if not isinstance(when, datetime)
                             else covered_day(config, g.timezone, when))
            for g in wanted.values()]
    language = config.config.bot.language
    digest = await service.compute(transaction, plugins, refs, settings, language,
                                   timezone(config), outage_window(config, when))
    by_id = {d.group.id: d for d in digest.groups}
    reports = []
    for reader, groups in readers.items():
        mine = [by_id[g.id] for g in groups]
        name = f"digest-{digest.day.isoformat()}" + (f"-{_safe(reader)}" if reader else "")
        labels = {chart.label(d.group.id, d.group.name): d for d in mine}
        series = {text: d.series for text, d in labels.items()}
        path = await asyncio.to_thread(chart.draw, out_dir / f"{name}.png", digest.chart_days,
                                       series)
        text = render(digest, mine, settings, language) + "\n\n" + _chart_line(
            labels, settings.chart_days, language)
        reports.append(Report(reader, text, path, digest.day,
                              archive.chart_data(digest.chart_days, series)))
    return reports


def _chart_line(labels: dict[str, service.GroupDigest], days: int, language: str) -> str:
    """What the chart shows, and which id stands for which group where names could not be drawn."""
    line = TEXTS.get(language, "chart", days=days)
    renamed = [f"{text} = {d.group.name}" for text, d in labels.items() if text != d.group.name]
    return line + (TEXTS.get(language, "chart.legend", names=", ".join(renamed)) if renamed else "")


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60]


def timezone(config: LoadedConfig) -> ZoneInfo:
    return ZoneInfo(config.config.digest.timezone or config.config.bot.timezone)


def outage_window(config: LoadedConfig, when: date | datetime) -> tuple[datetime, datetime]:
    """The account's outages a digest notes: since the last one (a day before its moment),
    or, for a date, that whole day in the digest's zone."""
    if isinstance(when, datetime):
        return when - timedelta(days=1), when
    start = datetime.combine(when, datetime.min.time(), tzinfo=timezone(config))
    return start, start + timedelta(days=1)


def covered_day(config: LoadedConfig, zone: ZoneInfo, moment: datetime) -> date:
    """The day a group in `zone` is reported on at `moment`: its yesterday, or today."""
    day = moment.astimezone(zone).date()
    return day - timedelta(days=1) if config.config.digest.covers == "yesterday" else day


@dataclass
class DigestJob:
    """The bot-wide daily job: every operator gets their report as a direct message."""

    config: LoadedConfig
    plugins: Sequence[Plugin[Any]]
    transaction: service.Transaction
    outbox: Outbox
    before: Callable[[], Awaitable[None]]  # run first: the activity counters' flush

    def scheduled(self) -> ScheduledJob | None:
        settings = self.config.config.digest
        if not settings.enabled or not self.config.config.operators:
            return None
        trigger = make_trigger(Schedule("daily", at=settings.at), timezone(self.config))
        return ScheduledJob("digest.send.daily", "*", trigger, self.send)

    async def send(self, slot: datetime, late: bool = False) -> None:
        await self.before()
        readers: dict[str | None, list[GroupSetup]] = {
            op.id: groups for op in self.config.config.operators
            if (groups := self.config.operated_by(op))}
        if not readers:  # no groups configured yet: nothing to report
            return
        reports = await build(self.transaction, self.config, self.plugins, slot,
                              self.config.base_dir / self.config.config.digest.chart_dir, readers)
        now = self.outbox.clock.now()
        async with self.transaction() as session:  # each kept exactly when it is queued
            items = await self.outbox.stage(session, [Outgoing(
                text=cap(r.text), kind=OutKind.DM, to=r.reader, image_path=str(r.chart))
                for r in reports])
            for report in reports:  # the job's readers are operators: never None
                await archive.keep(session, report.reader or "", report.day, cap(report.text),
                                   report.chart_data, now)
        self.outbox.enqueue(items)
