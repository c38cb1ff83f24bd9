"""Telling operators about timed posts skipped while the bot was down (issue 14, point 3).

One direct message per operator per start, however many slots were skipped: the groups
they run, how many posts each missed and when the first was due. The digest counts them
per group and day (`contribute`, the built-in plugin's digest hook).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Outgoing, OutKind
from bot.i18n import Texts
from bot.plugin import DigestContribution, DigestQuery, Metric
from bot.storage import chunked
from bot.storage.models import JobRun

if TYPE_CHECKING:
    from bot.config import LoadedConfig
    from bot.outbox import Outbox
    from bot.scheduler import ScheduledJob

TEXTS = Texts(
    zh={
        "header": "机器人停机期间错过了 {count} 条定时发布（超过补发时限，没有补发）：",
        "line": "「{group}」{count} 条，最早应在 {first} 发出",
        "digest": "停机错过的定时发布",
    },
    en={
        "header": "While the bot was down, {count} timed post(s) were missed (past the catch-up "
                  "grace period, so not sent):",
        "line": "“{group}”: {count}, the first due {first}",
        "digest": "timed posts missed while down",
    },
)


def tell_operators_of_skipped(
    config: LoadedConfig, outbox: Outbox, skipped: Sequence[tuple[ScheduledJob, datetime]]
) -> None:
    by_group: dict[str, list[datetime]] = defaultdict(list)
    for job, slot in skipped:
        if job.group_id in config.groups:  # the digest job has no group of its own
            by_group[job.group_id].append(slot)
    if not by_group:
        return
    language = config.config.bot.language
    for operator in config.config.operators:
        mine = [g for g in config.operated_by(operator) if g.id in by_group]
        if not mine:
            continue
        lines = [TEXTS.get(language, "header", count=sum(len(by_group[g.id]) for g in mine))]
        for group in mine:
            first = min(by_group[group.id]).astimezone(group.timezone)
            lines.append(TEXTS.get(language, "line", group=group.name,
                                   count=len(by_group[group.id]),
                                   first=first.strftime("%m-%d %H:%M")))
        outbox.put(Outgoing(text="\n".join(lines), kind=OutKind.DM, to=operator.id))


async def contribute(session: AsyncSession, query: DigestQuery) -> DigestContribution:
    """Slots skipped while the bot was down, per group and local day."""
    start, end = query.span()
    rows = []
    for ids in chunked(query.group_ids):
        rows += (await session.execute(
            select(JobRun.group_id, JobRun.slot_at)
            .where(JobRun.group_id.in_(ids), JobRun.outcome == "skipped",
                   JobRun.slot_at >= start, JobRun.slot_at < end))).all()
    label = TEXTS.get(query.language, "digest")
    return DigestContribution(metrics=[Metric("core.skipped_slots", label, query.tally(rows))])
