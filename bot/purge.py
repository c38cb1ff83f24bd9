"""Bounded storage (issue 14, point 8): the core's bookkeeping rows are purged nightly.

Sent (or given-up) outbox rows, the slot ledger and handled message ids only matter for a
while: a restart's replays, the catch-up grace, the digest's week. Points, check-ins and
every other fact members care about are never purged here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from bot.clock import Clock
from bot.config.models import RetentionSettings
from bot.plugin import Schedule
from bot.scheduler import ScheduledJob, make_trigger
from bot.storage import Database
from bot.storage.models import JobRun, OutboxMessage, ProcessedMessage

log = logging.getLogger("bot.purge")

FINISHED = ("sent", "failed", "dropped")


@dataclass
class Purged:
    sent_messages: int
    job_runs: int
    processed_ids: int


async def purge(db: Database, retention: RetentionSettings, now: datetime) -> Purged:
    async with db.transaction() as session:
        outbox = await session.execute(
            delete(OutboxMessage).where(OutboxMessage.status.in_(FINISHED),
                                        OutboxMessage.created_at < now - retention.sent_messages))
        runs = await session.execute(
            delete(JobRun).where(JobRun.slot_at < now - retention.job_runs))
        ids = await session.execute(
            delete(ProcessedMessage).where(ProcessedMessage.at < now - retention.processed_ids))
    purged = Purged(outbox.rowcount, runs.rowcount, ids.rowcount)  # type: ignore[attr-defined]
    log.info("purged %s", purged)
    return purged


def nightly(db: Database, clock: Clock, retention: RetentionSettings,
            timezone: ZoneInfo) -> ScheduledJob:
    async def run(slot: datetime, late: bool) -> None:
        await purge(db, retention, clock.now())

    trigger = make_trigger(Schedule("nightly", at=retention.at, background=True), timezone)
    return ScheduledJob("core.purge.nightly", "*", trigger, run, background=True)
