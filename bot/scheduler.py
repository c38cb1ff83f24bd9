"""Timed jobs: APScheduler triggers, a delivery ledger, and catch-up after downtime.

APScheduler's AsyncIOScheduler drives jobs in real time. Under a simulated clock
(console, tests) the same triggers are walked by `advance_to`, firing every due slot in
order. Either way a slot goes through `fire`, which claims it in the `job_runs` ledger
first, so a slot never runs twice for a group — not even across restarts.

Exactly once across kills (issue 14, point 3): the claim is written "running"; the slot is
marked done in the same transaction that writes its posts (the job's first transaction, or
one at its end — `SlotUnit`). A slot a kill left "running" queued nothing, so the next start
runs it again within the grace period, and marks it skipped beyond it; skipped slots are
collected for one report to the operators per start (`take_skipped`).

A fan-out (issue 16.4: every group's 08:00 post, due at one moment) is claimed a few hundred
slots per statement, then run and queued in chunks, one transaction each (`fire_many`): the
chunk's job state, its slots marked done and its posts commit together, and member messages
are handled between chunks. A kill between chunks leaves the rest "running", completed at
the next start like any interrupted slot.

A fan-out hook (`ScheduledJob.prepare`): a kind of job whose every group reads the same sort
of rows (a daily quiz: each group's running game and recent questions) can read them for all
the fan-out's groups in a few statements before its chunks run. The scheduler enters the hook
once per fan-out with the jobs claimed for it (jobs sharing one hook object, in order) and
leaves it when the last chunk is done; what it read is the hook's to keep for that long and
to drop after. A hook that fails is logged and the jobs read for themselves.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time as walltime
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import chain
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, ManualClock
from bot.plugin import Schedule
from bot.storage import Database, Prepared, Shared, chunked, dialect_insert
from bot.storage.models import CoreState, JobRun

if TYPE_CHECKING:
    from bot.events import Outgoing
    from bot.outbox import Outbox

HEARTBEAT = "scheduler.alive"
RUNNING = "running"  # claimed; its posts not yet written
SKIPPED_BACKGROUND = "skipped_bg"  # bookkeeping skipped while down: not reported or counted

log = logging.getLogger("bot.scheduler")

# A fan-out (issue 16.4: thousands of groups' posts due at one moment): slots are claimed
# FANOUT_CLAIMS per transaction, then run and queued in chunks — one transaction each, of at
# most FANOUT_CHUNK slots or FANOUT_SLICE seconds of the loop — with member messages handled
# between claims and between chunks. A message arriving meanwhile waits for the turn under
# way (and on SQLite, for the chunk's lock): a turn is kept to a few milliseconds so that
# wait plus the message's own work stays under the reply-latency target (5 ms, issue 16.4).
# A turn is the slice plus the chunk's outcomes, posts and commit (~0.8 ms): 1.55 ms at the
# median with a 1 ms slice (2.3 ms with 1.5 ms, when one young collection or disk stall on
# top of it put the message past 5 ms); a claim of 40 slots is a turn of about as long.
# Slow jobs (a quiz, a briefing: ~0.13 ms a group) go several to a chunk, cheap ones tens.
FANOUT_CLAIMS = 40
FANOUT_CHUNK = 200
FANOUT_SLICE = 0.001
Due = tuple["ScheduledJob", datetime, bool]  # (job, slot, late)
_RUNS = JobRun.__table__
_CLAIMED = (_RUNS.c.job, _RUNS.c.group_id, _RUNS.c.slot_at)
# Slots claimed "running" for a fan-out: the rows returned are the claims won. (Through
# SQLAlchemy's executemany with RETURNING, a claim of 40 took 2.5-3 ms of the loop.)
_CLAIM_MANY = Prepared(
    lambda dialect: dialect_insert(dialect)(_RUNS).on_conflict_do_nothing().returning(*_CLAIMED))
# One statement for a chunk's outcomes (executemany; Core, so not an ORM bulk update).
_OUTCOME = Prepared(
    update(_RUNS)
    .where(_RUNS.c.job == bindparam("k"), _RUNS.c.group_id == bindparam("g"),
           _RUNS.c.slot_at == bindparam("s"))
    .values(outcome=bindparam("o"))
)

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRON_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # crontab: 0 and 7 = Sunday


def make_trigger(schedule: Schedule, timezone: ZoneInfo, seed: str = "") -> BaseTrigger:
    """The trigger of a schedule; `seed` (the group and job) draws a `between` window's
    moment, so each group gets its own moment and keeps it across restarts. Equal
    schedules in one time zone share one trigger (immutable): the scheduler works out a
    slot once per trigger, not once per group (`Scheduler.next_slots`)."""
    if schedule.between is not None:
        return WindowTrigger(*schedule.between, schedule.weekdays, timezone, seed)
    if schedule.cron is not None:
        return _shared_cron(schedule.cron, timezone)
    assert schedule.at is not None
    return _daily_trigger(schedule.at, frozenset(schedule.weekdays), timezone)


@cache
def _daily_trigger(at: time, weekdays: frozenset[int], timezone: ZoneInfo) -> BaseTrigger:
    days = ",".join(WEEKDAY_NAMES[d] for d in sorted(weekdays)) or "*"
    return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, day_of_week=days,
                       timezone=timezone)


@cache
def _shared_cron(expression: str, timezone: ZoneInfo) -> BaseTrigger:
    return cron_trigger(expression, timezone)


class WindowTrigger(BaseTrigger):
    """Once a day at a moment within [start, end), drawn per day from the seed and the
    date: the same minute whenever it is computed, a different one each day."""

    def __init__(self, start: time, end: time, weekdays: tuple[int, ...], timezone: ZoneInfo,
                 seed: str) -> None:
        self.start, self.end, self.timezone, self.seed = start, end, timezone, seed
        self.weekdays = frozenset(weekdays)

    def moment(self, day: date) -> datetime:
        first = datetime.combine(day, self.start, tzinfo=self.timezone)
        minutes = int((datetime.combine(day, self.end) - datetime.combine(day, self.start))
                      .total_seconds() // 60)
        offset = random.Random(f"{self.seed}|{day.isoformat()}").randrange(max(minutes, 1))
        return first + timedelta(minutes=offset)

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        day = now.astimezone(self.timezone).date()
        for _ in range(8):  # a week covers any weekday filter
            if not self.weekdays or day.weekday() in self.weekdays:
                moment = self.moment(day)
                if moment >= now and (previous_fire_time is None or moment > previous_fire_time):
                    return moment
            day += timedelta(days=1)
        return None

    def __str__(self) -> str:
        return f"window[{self.start:%H:%M}-{self.end:%H:%M}]"


_CRON_FIELDS = (("minute", "分钟"), ("hour", "小时"), ("day", "日"), ("month", "月"),
                ("day_of_week", "星期"))
_DOW_NAMES = {name: n for n, name in enumerate(_CRON_DOW[:7])}  # crontab's: sun = 0


def cron_trigger(expression: str, timezone: ZoneInfo) -> BaseTrigger:
    """A standard 5-field crontab line, as cron reads it: weekdays numbered from Sunday
    (0 or 7), names, ranges, lists and steps — converted for APScheduler 3, which numbers
    from Monday (mon = 0) and refuses `0-4`. As in cron, a line restricting both the day
    of the month and the weekday fires on either. Raises ValueError saying which field is
    wrong, in Chinese and English."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron 要写 5 段：分 时 日 月 星期，例如 \"0 21 * * 0-4\"；这里有 "
                         f"{len(fields)} 段 (cron needs 5 fields: minute hour day month "
                         f"weekday; got {len(fields)})")
    minute, hour, day, month, dow = fields
    for (name, label), value in zip(_CRON_FIELDS[:4], fields, strict=False):
        try:
            CronTrigger(**{name: value})
        except ValueError as exc:
            raise ValueError(f"cron 的“{label}”段 {value!r} 写得不对 (invalid {name} field: "
                             f"{exc})") from None
    weekdays = crontab_weekdays(dow)
    if not day.startswith("*") and not dow.startswith("*"):
        # cron: both restricted means day-of-month OR weekday; APScheduler requires both.
        return OrTrigger([
            CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=timezone),
            CronTrigger(minute=minute, hour=hour, month=month, day_of_week=weekdays,
                        timezone=timezone),
        ])
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekdays,
                       timezone=timezone)


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field (sun = 0 or 7) as APScheduler 3's day_of_week: the days it
    names, spelled out (`0-4` → `mon,tue,wed,thu,sun`), or `*`."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        days |= _weekday_part(part, field)
    if len(days) == 7:
        return "*"
    return ",".join(WEEKDAY_NAMES[(d - 1) % 7] for d in sorted(days, key=lambda d: (d - 1) % 7))


def _weekday_part(part: str, field: str) -> set[int]:
    """One comma-separated item: `*`, `3`, `mon`, `1-5`, `sun-thu`, with an optional
    `/step`. Days numbered as cron does, 0 = Sunday."""
    base, slash, step_text = part.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise _weekday_error(field, f"步长 {step_text!r} 应是正整数 (the step must be a "
                                        "positive number)")
        step = int(step_text)
    if base == "*":
        first, last = 0, 6
    else:
        low, dash, high = base.partition("-")
        first = _weekday_value(low, field)
        # `5/2` (cron's "from Friday, every other day") runs to the week's end.
        last = _weekday_value(high, field) if dash else (7 if slash else first)
        if last < first:
            raise _weekday_error(field, f"范围 {base!r} 要从小到大，跨周日请写成 6-7 或 0,6 "
                                        f"(a range runs upwards; for Saturday to Sunday write "
                                        f"6-7)")
    return {d % 7 for d in range(first, last + 1, step)}


def _weekday_value(text: str, field: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _DOW_NAMES:
        return _DOW_NAMES[text]
    raise _weekday_error(field, f"{text!r} 不是星期：用 0-7（0 和 7 都是周日）或 sun、mon… "
                                f"(not a weekday: use 0-7, 0 and 7 being Sunday, or sun..sat)")


def _weekday_error(field: str, reason: str) -> ValueError:
    return ValueError(f"cron 的“星期”段 {field!r} 写得不对：{reason}")


FireFn = Callable[[datetime, bool], Awaitable[None]]
# A fan-out hook: entered with the fan-out's jobs that share it, before their chunks run.
Prepare = Callable[[Sequence["ScheduledJob"]], AbstractAsyncContextManager[None]]


def next_slots(jobs: Iterable[ScheduledJob], after: datetime) -> dict[str, datetime | None]:
    """Each job's first slot at or after `after`, worked out once per trigger (equal
    schedules share one: `make_trigger`) — a cron trigger takes ~35 µs, 70 ms for 2,000
    groups' briefings at 09:00, held on the loop."""
    slots: dict[int, datetime | None] = {}
    result = {}
    for job in jobs:
        key = id(job.trigger)
        if key not in slots:
            slots[key] = job.next_slot(after)
        result[job.id] = slots[key]
    return result


@dataclass(frozen=True)
class ScheduledJob:
    """One job for one group: `key` names the slot series in the ledger."""

    key: str  # plugin.job.schedule-key
    group_id: str
    trigger: BaseTrigger
    run: FireFn  # (slot, late) → runs the job's handler
    background: bool = False  # bookkeeping: a skipped slot is not reported
    prepare: Prepare | None = None  # the fan-out hook (module docstring)

    @property
    def id(self) -> str:
        return f"{self.key}@{self.group_id}"

    def next_slot(self, after: datetime) -> datetime | None:
        """The first slot at or after `after`."""
        return self.trigger.get_next_fire_time(None, after)

    def last_slot(self, at_or_before: datetime, lookback: timedelta) -> datetime | None:
        slot, cursor = None, at_or_before - lookback
        while (nxt := self.next_slot(cursor)) is not None and nxt <= at_or_before:
            slot, cursor = nxt, nxt + timedelta(microseconds=1)
        return slot


class SlotUnit:
    """One slot's completion: marked in the transaction that writes its posts (bot/once.py's
    unit shape). Posts queued outside a transaction wait here until then."""

    def __init__(self, scheduler: Scheduler, job: ScheduledJob, slot: datetime,
                 outcome: str, *, chunked: bool = False) -> None:
        self.scheduler, self.job, self.slot, self.outcome = scheduler, job, slot, outcome
        self.kept: list[Outgoing] = []
        # In a fan-out chunk: the chunk's transaction marks the slot and writes what it kept.
        self.chunked = chunked
        self.done = False
        self._staged: list[Any] = []

    async def enter(self, session: AsyncSession) -> None:
        if self.done or self.chunked:
            return
        await session.execute(
            update(JobRun)
            .where(JobRun.job == self.job.key, JobRun.group_id == self.job.group_id,
                   JobRun.slot_at == self.slot)
            .values(outcome=self.outcome)
        )
        outbox = self.scheduler.outbox
        self._staged = await outbox.stage(session, self.kept) if outbox and self.kept else []

    def committed(self) -> None:
        if self.done or self.chunked:
            return
        self.done, self.kept = True, []
        if self.scheduler.outbox is not None:
            self.scheduler.outbox.enqueue(self._staged)
        self._staged = []

    def keep(self, outgoing: Outgoing) -> bool:
        if self.done or self.scheduler.outbox is None:
            return False
        self.kept.append(outgoing)
        return True

    async def complete(self) -> None:
        """At the job's end: mark the slot done and write what it kept, in one transaction."""
        if self.done:
            return
        async with self.scheduler.db.transaction() as session:
            await self.enter(session)
        self.committed()


# The slot a job is running for: the runtime hands it to the job's context (jobs keep their
# (slot, late) signature).
CURRENT_SLOT: ContextVar[SlotUnit | None] = ContextVar("current_slot", default=None)


class Scheduler:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        grace: timedelta,
        after_run: Callable[[], Awaitable[None]] | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.db, self.clock, self.grace = db, clock, grace
        self.outbox = outbox
        self.skipped: list[tuple[ScheduledJob, datetime]] = []  # since the last report
        self._after_run = after_run
        self._jobs: dict[str, ScheduledJob] = {}
        # Simulated time: job ids by their next slot (a fan-out's jobs share a moment).
        self._due: dict[datetime, list[str]] = {}
        self._cursor = clock.now()  # simulated time: slots up to here have been walked
        self._aps: AsyncIOScheduler | None = None
        self._timers: dict[str, tuple[datetime, Callable[[], Awaitable[None]]]] = {}
        self._timer_handles: dict[str, asyncio.TimerHandle] = {}
        self._arriving: list[Due] = []  # real time: slots APScheduler just submitted
        self._arrival: asyncio.Future[None] | None = None
        # Does this process serve the group (issue 18: the holder of the room's lease)? A
        # slot of a room served elsewhere is neither claimed nor skipped here.
        self.serves: Callable[[str], bool] = lambda _group_id: True

    async def after_run(self) -> None:
        """What the runtime does after each job or timer (send or persist its posts)."""
        if self._after_run is not None:
            await self._after_run()

    @property
    def jobs(self) -> list[ScheduledJob]:
        return list(self._jobs.values())

    def set_jobs(self, jobs: Sequence[ScheduledJob]) -> None:
        """Reconcile with the config: add new jobs, replace changed ones, drop the rest."""
        self._jobs = {job.id: job for job in jobs}
        self._cursor = self.clock.now()
        self._due = {}
        self._note_due(next_slots(jobs, self._cursor))
        if self._aps is not None:
            self._sync_apscheduler()

    async def fire(self, job: ScheduledJob, slot: datetime, late: bool = False) -> bool:
        """Claim the slot in the ledger, then run; False if it had already run (or another
        process serves the group)."""
        if not self.serves(job.group_id) or not await self._claim(job, slot, RUNNING):
            return False
        await self._run_claimed(job, slot, late)
        return True

    async def _run_claimed(self, job: ScheduledJob, slot: datetime, late: bool) -> None:
        unit = SlotUnit(self, job, slot, "late" if late else "fired")
        token = CURRENT_SLOT.set(unit)
        try:
            await job.run(slot, late)
        except Exception:
            log.exception("job %s failed for slot %s", job.id, slot.isoformat())
            unit.outcome = "failed"
        finally:
            CURRENT_SLOT.reset(token)
        await unit.complete()
        await self.after_run()

    async def fire_many(self, due: Sequence[Due]) -> int:
        """A fan-out: slots due together, claimed a few hundred per transaction, then run and
        queued a chunk per transaction (`_run_chunk`). Returns how many this process ran.

        Exactly once as for one slot: a slot is claimed "running" before it runs, and marked
        done in the transaction that writes its job's state and posts; a kill between chunks
        leaves the rest "running", for the next start to complete (`_resume_unfinished`)."""
        mine = [d for d in due if self.serves(d[0].group_id)]
        if len(mine) == 1:  # one slot: its job's own transactions, as always
            job, slot, late = mine[0]
            return int(await self.fire(job, slot, late))
        claimed: list[Due] = []
        for part in chunked(mine, FANOUT_CLAIMS):
            # Member messages before each claim: finding the due slots was a turn already.
            await asyncio.sleep(0)
            claimed += await self._claim_many(part)
        await asyncio.sleep(0)
        await self._run_chunks(claimed)
        return len(claimed)

    async def _claim_many(self, part: list[Due]) -> list[Due]:
        """Claim these slots "running" in one statement; those another run holds are left."""
        now = self.clock.now()
        rows = [{"job": job.key, "group_id": job.group_id, "slot_at": slot, "fired_at": now,
                 "outcome": RUNNING} for job, slot, _ in part]
        async with self.db.transaction() as session:
            won = set(await _CLAIM_MANY.rows_each(session, rows))
        return [d for d in part if (d[0].key, d[0].group_id, d[1]) in won]

    async def _run_chunks(self, claimed: Sequence[Due]) -> None:
        rest = deque(claimed)
        async with AsyncExitStack() as prepared:
            await _prepare(prepared, claimed)
            await asyncio.sleep(0)  # (the hooks' reads were a turn of their own)
            while rest:
                await self._run_chunk(rest)
                await self.after_run()
                await asyncio.sleep(0)  # member messages between chunks: replies stay fast

    async def _run_chunk(self, rest: deque[Due]) -> None:
        """Run slots from `rest` in one transaction — each job in a savepoint of it, its
        state, its slot's outcome and its posts committed together — until the chunk is
        full or has held the loop for FANOUT_SLICE; queue the posts once committed."""
        started = walltime.perf_counter()
        outcomes: list[dict[str, object]] = []
        posts: list[Outgoing] = []
        outbox = self.outbox
        async with self.db.sharing() as shared:
            while rest and len(outcomes) < FANOUT_CHUNK and (
                    walltime.perf_counter() - started < FANOUT_SLICE or not outcomes):
                job, slot, late = rest.popleft()
                outcome = await self._run_in_chunk(shared, job, slot, late, posts)
                outcomes.append({"k": job.key, "g": job.group_id, "s": slot, "o": outcome})
            await _OUTCOME.run_many(shared.session, outcomes)
            items = await outbox.stage(shared.session, posts) if outbox and posts else []
        if outbox is not None:
            outbox.enqueue(items)

    async def _run_in_chunk(self, shared: Shared, job: ScheduledJob, slot: datetime,
                            late: bool, posts: list[Outgoing]) -> str:
        """One slot's job in a savepoint of the chunk's transaction (if it writes at all);
        its posts join `posts` unless it fails (then its writes are rolled back and nothing
        is queued)."""
        unit = SlotUnit(self, job, slot, "late" if late else "fired", chunked=True)
        shared.staged, queued = [], len(shared.on_commit)
        shared.begin_unit()  # its savepoint opened at the job's first use of the database
        token = CURRENT_SLOT.set(unit)
        try:
            await job.run(slot, late)
            await shared.end_unit(keep=True)
        except Exception:
            log.exception("job %s failed for slot %s", job.id, slot.isoformat())
            await shared.end_unit(keep=False)
            del shared.on_commit[queued:]  # its rows were rolled back with it
            return "failed"
        finally:
            CURRENT_SLOT.reset(token)
            # A context the job left behind (a timer's) posts straight to the outbox now.
            unit.done = True
        posts += shared.staged + unit.kept
        return unit.outcome

    def _skipped(self, job: ScheduledJob, slot: datetime) -> None:
        if not job.background:
            self.skipped.append((job, slot))

    def take_skipped(self) -> list[tuple[ScheduledJob, datetime]]:
        """Slots members missed since the last call (for one report to the operators)."""
        skipped, self.skipped = self.skipped, []
        return skipped

    async def _claim(self, job: ScheduledJob, slot: datetime, outcome: str) -> bool:
        try:
            async with self.db.transaction() as session:
                session.add(
                    JobRun(
                        job=job.key,
                        group_id=job.group_id,
                        slot_at=slot,
                        fired_at=self.clock.now(),
                        outcome=outcome,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def heartbeat(self) -> None:
        """Remember that the bot is alive now: catch-up only considers slots after this."""
        async with self.db.transaction() as session:
            await session.merge(CoreState(key=HEARTBEAT, at=self.clock.now()))

    async def _last_alive(self) -> datetime | None:
        async with self.db.transaction() as session:
            state = await session.get(CoreState, HEARTBEAT)
            return state.at if state else None

    async def catch_up(self) -> None:
        """After downtime: the latest missed slot of each job runs once if within the grace.

        Slots from before the bot's first start are not "missed": nothing is caught up on a
        fresh install.
        """
        now, last_alive = self.clock.now(), await self._last_alive()
        await self._resume_unfinished(now)
        if last_alive is not None:
            await self._catch_up(list(self._jobs.values()), last_alive, now)
        await self.heartbeat()

    async def catch_up_room(self, group_id: str, since: datetime | None) -> None:
        """This process just took the room's lease (issue 18): finish what its last holder
        left running, and run the latest slot missed since the room was last served (`since`,
        its previous holder's last renewal; None: never served, nothing missed)."""
        now = self.clock.now()
        await self._resume_unfinished(now, group_id)
        if since is None:
            return
        await self._catch_up([job for job in self._jobs.values() if job.group_id == group_id],
                             since, now)

    async def _catch_up(self, jobs: list[ScheduledJob], last_alive: datetime,
                        now: datetime) -> None:
        """Each job's latest slot missed since `last_alive`: those within the grace run as
        one fan-out (after a morning's downtime, every group's post is missed at once)."""
        due: list[Due] = []
        for job in jobs:
            slot = await self._missed(job, last_alive, now)
            if slot is not None:
                due.append((job, slot, slot < now))
                log.info("catching up %s for slot %s", job.id, slot.isoformat())
        await self.fire_many(due)

    async def _missed(self, job: ScheduledJob, last_alive: datetime,
                      now: datetime) -> datetime | None:
        """The job's slot to catch up, if within the grace; one beyond it is marked skipped."""
        if not self.serves(job.group_id):
            return None
        slot = job.last_slot(now, now - last_alive)
        if slot is None or slot <= last_alive:
            return None
        if now - slot <= self.grace:
            return slot
        if await self._claim(job, slot, SKIPPED_BACKGROUND if job.background else "skipped"):
            self._skipped(job, slot)
            log.warning(
                "skipped %s: its slot %s passed more than %s ago while the bot was down",
                job.id,
                slot.isoformat(),
                self.grace,
            )
        return None

    async def _resume_unfinished(self, now: datetime, group_id: str | None = None) -> None:
        """Slots a kill left claimed but not done: they queued nothing, so run them now
        (within the grace period) or mark them skipped."""
        query = select(JobRun.job, JobRun.group_id, JobRun.slot_at).where(
            JobRun.outcome == RUNNING)
        if group_id is not None:
            query = query.where(JobRun.group_id == group_id)
        async with self.db.transaction() as session:
            rows = (await session.execute(query)).all()
        resume: list[Due] = []
        for key, room, slot in rows:
            if not self.serves(room):
                continue
            job = self._jobs.get(f"{key}@{room}")
            if job is not None and now - slot <= self.grace:
                log.info("completing %s for slot %s (interrupted)", job.id, slot.isoformat())
                resume.append((job, slot, True))
                continue
            background = job is None or job.background
            await self._set_outcome_of(key, room, slot,
                                       SKIPPED_BACKGROUND if background else "skipped")
            if job is not None:
                self._skipped(job, slot)
                log.warning("skipped %s: its slot %s was interrupted more than %s ago",
                            job.id, slot.isoformat(), self.grace)
        if len(resume) == 1:
            await self._run_claimed(*resume[0])
        elif resume:  # a fan-out a kill cut short: the rest in chunks, as it would have run
            await self._run_chunks(resume)

    async def _set_outcome_of(self, key: str, group_id: str, slot: datetime,
                              outcome: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(JobRun)
                .where(JobRun.job == key, JobRun.group_id == group_id, JobRun.slot_at == slot)
                .values(outcome=outcome)
            )

    # -- one-off timers ---------------------------------------------------------------------

    def call_at(self, when: datetime, key: str, callback: Callable[[], Awaitable[None]]) -> bool:
        """Run `callback` once at `when` (in memory: a restart forgets it). A key already
        pending is kept, so "once per minute" batching is one call; False if it was."""
        if key in self._timers:
            return False
        self._timers[key] = (when, callback)
        if not isinstance(self.clock, ManualClock):
            delay = max(0.0, (when - self.clock.now()).total_seconds())
            loop = asyncio.get_running_loop()
            self._timer_handles[key] = loop.call_later(
                delay, lambda: loop.create_task(self._run_timer(key))
            )
        return True

    async def _run_timer(self, key: str) -> None:
        entry = self._timers.pop(key, None)
        self._timer_handles.pop(key, None)
        if entry is None:
            return
        try:
            await entry[1]()
        except Exception:
            log.exception("timer %s failed", key)
        await self.after_run()

    # -- simulated time -------------------------------------------------------------------

    async def advance_to(self, target: datetime) -> None:
        """Move a manual clock to `target`, firing every slot and timer due on the way, in
        order."""
        assert isinstance(self.clock, ManualClock), "advance_to needs a manual clock"
        if target < self._cursor:  # moved back: nothing fires
            await self.jump_to(target)
            return
        while (when := self._earliest()) is not None and when <= target:
            if when > self.clock.now():
                self.clock.set(when)
            # Every job due at this moment, as one fan-out; timers at it run after, one at a
            # time in key order (each may arm others).
            together = [self._jobs[i] for i in self._due.pop(when, ())]
            if not together:
                await self._run_timer(min(k for k, (t, _) in self._timers.items() if t == when))
                continue
            self._note_due(next_slots(together, when + timedelta(microseconds=1)))
            await self.fire_many([(job, when, False) for job in together])
        self.clock.set(target)
        self._cursor = target

    def _note_due(self, slots: dict[str, datetime | None]) -> None:
        for job_id, slot in slots.items():
            if slot is not None:
                self._due.setdefault(slot, []).append(job_id)

    def _earliest(self) -> datetime | None:
        """The next moment a slot or a timer is due (jobs are kept by moment: a few
        distinct ones, however many groups)."""
        return min(chain(self._due, (t for t, _ in self._timers.values())), default=None)

    async def jump_to(self, target: datetime) -> None:
        """Set a manual clock to `target`; slots skipped over do not fire."""
        assert isinstance(self.clock, ManualClock), "jump_to needs a manual clock"
        self.clock.set(target)
        self._cursor = target
        self._due = {}
        self._note_due(next_slots(self._jobs.values(), target))

    # -- real time --------------------------------------------------------------------------

    def start(self) -> None:
        self._aps = AsyncIOScheduler(
            executors={"default": _SlotExecutor()},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.grace.total_seconds()),
            },
        )
        self._sync_apscheduler()
        self._aps.start()

    def shutdown(self) -> None:
        for handle in self._timer_handles.values():
            handle.cancel()
        self._timer_handles.clear()
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None

    def _sync_apscheduler(self) -> None:
        """One APScheduler job per trigger, for all the jobs sharing it: with one per
        group, APScheduler worked out each group's run times at each slot (two trigger
        computations, ~35 µs each) and stored each job again, all in one turn of the loop:
        an estimated 0.1–0.2 s at 2,000 groups (issue 16.4)."""
        assert self._aps is not None
        wanted = self._by_trigger()
        for existing in self._aps.get_jobs():
            if existing.id not in wanted:
                existing.remove()
        for aps_id, jobs in wanted.items():
            self._aps.add_job(self._fire_by_id, trigger=jobs[0].trigger, id=aps_id,
                              args=[tuple(job.id for job in jobs)], replace_existing=True)

    def _by_trigger(self) -> dict[str, list[ScheduledJob]]:
        """The jobs by the trigger they share, named by the first of them (in id order)."""
        by_trigger: dict[int, list[ScheduledJob]] = {}
        for job in sorted(self._jobs.values(), key=lambda job: job.id):
            by_trigger.setdefault(id(job.trigger), []).append(job)
        return {jobs[0].id: jobs for jobs in by_trigger.values()}

    async def _fire_by_id(self, job_ids: tuple[str, ...], slot: datetime | None = None) -> None:
        # `slot` comes from _SlotExecutor; the default only satisfies APScheduler's
        # signature check, which sees just `args=[job_ids]`.
        jobs = [job for job_id in job_ids if (job := self._jobs.get(job_id)) is not None]
        if not jobs or slot is None:
            return
        # APScheduler submits every job due at a moment in one go: they gather here and
        # run as one fan-out, started once the loop has taken them all.
        late = self.clock.now() - slot > timedelta(minutes=1)
        self._arriving += [(job, slot, late) for job in jobs]
        if self._arrival is None:
            self._arrival = asyncio.ensure_future(self._fire_arrived())
        await asyncio.shield(self._arrival)

    async def _fire_arrived(self) -> None:
        await asyncio.sleep(0)
        due, self._arriving, self._arrival = self._arriving, [], None
        await self.fire_many(due)



async def _prepare(stack: AsyncExitStack, claimed: Sequence[Due]) -> None:
    """Enter each fan-out hook of `claimed` once, with its jobs; one that fails is left out
    (its jobs then read for themselves)."""
    hooks: dict[Prepare, list[ScheduledJob]] = {}
    for job, _, _ in claimed:
        if job.prepare is not None:
            hooks.setdefault(job.prepare, []).append(job)
    for hook, jobs in hooks.items():
        try:
            await stack.enter_async_context(hook(jobs))
        except Exception:
            log.exception("fan-out hook of %s failed; its %d jobs read for themselves",
                          jobs[0].key, len(jobs))


class _SlotExecutor(BaseExecutor):
    """Like APScheduler's asyncio executor, but hands the job its scheduled slot."""

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._loop = scheduler._eventloop

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        async def run() -> None:
            await job.func(*job.args, run_times[-1])

        def done(future: Any) -> None:
            try:
                future.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, [])

        self._loop.create_task(run()).add_done_callback(done)
