"""A fan-out (issue 16.4): many groups' slots due at one moment are claimed together and
queued a chunk per transaction — and still each goes out exactly once (issue 14.3), also
when the process dies between two chunks."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

import bot.scheduler
from bot.clock import ManualClock
from bot.events import Outgoing, OutKind
from bot.plugin import Schedule
from bot.scheduler import ScheduledJob, Scheduler, make_trigger
from bot.storage import Database
from bot.storage.models import JobRun

GROUPS = [f"g{n:02d}" for n in range(12)]
CONFIG = {
    "scheduler": {"grace": "30m"},
    "groups": {g: {"name": f"读书会{g}", "plugins": {"timed_posts": {"posts": [
        {"at": "09:00", "text": "早安，{group}"}]}}} for g in GROUPS},
}
NOW = "2026-11-23 08:59"


class Killed(BaseException):
    """SIGKILL, as far as the code under test can tell."""


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 5 slots, however fast or slow the machine: 12 groups make 3 chunks."""
    monkeypatch.setattr(bot.scheduler, "FANOUT_CHUNK", 5)
    monkeypatch.setattr(bot.scheduler, "FANOUT_SLICE", 3600.0)


def posted_to(deliveries) -> Counter[str]:
    return Counter(d.group_id for d in deliveries if d.kind == "post")


async def outcomes(chat) -> dict[str, str]:
    async with chat.runtime.db.transaction() as session:
        rows = await session.execute(select(JobRun.group_id, JobRun.outcome)
                                     .where(JobRun.job.like("timed_posts.%")))
        return dict(rows.all())


async def test_every_group_of_a_fan_out_gets_its_post_once(make_chat, database_url):
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    sent = await chat.advance("1h")
    assert posted_to(sent) == Counter(GROUPS)
    assert set((await outcomes(chat)).values()) == {"fired"}
    chat = await chat.restart(after="1m")  # within the grace: nothing is run again
    assert posted_to(chat.sent) == Counter() and posted_to(await chat.advance("1h")) == Counter()


async def test_a_fan_out_missed_while_down_is_caught_up_once(make_chat, database_url):
    chat = await make_chat(CONFIG, now="2026-11-23 08:50", database_url=database_url)
    chat = await chat.restart(after="15m")  # down over 09:00, back within the grace
    caught_up = posted_to(chat.sent) + posted_to(await chat.advance("1h"))
    assert caught_up == Counter(GROUPS)
    assert set((await outcomes(chat)).values()) == {"late"}
    chat = await chat.crash(after="1m")
    assert posted_to(chat.sent) + posted_to(await chat.advance("1h")) == Counter()


async def test_a_slot_claimed_elsewhere_is_left_out_of_the_fan_out(make_chat, database_url):
    """Another process (issue 18) claimed one group's slot first: only the others run here."""
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    slot = datetime.fromisoformat("2026-11-23 09:00").replace(
        tzinfo=chat.chat.groups["g03"].timezone)
    job = next(j for j in chat.runtime.scheduler.jobs if j.group_id == "g03")
    async with chat.runtime.db.transaction() as session:
        session.add(JobRun(job=job.key, group_id="g03", slot_at=slot, fired_at=slot,
                           outcome="fired"))
    assert posted_to(await chat.advance("1h")) == Counter(g for g in GROUPS if g != "g03")


async def test_a_kill_between_chunks_completes_the_rest_at_restart_once(
        make_chat, database_url, monkeypatch):
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    run = Scheduler._run_in_chunk
    calls = 0

    async def dies_in_the_second_chunk(self, *args):
        nonlocal calls
        calls += 1
        if calls == 7:
            raise Killed
        return await run(self, *args)

    monkeypatch.setattr(Scheduler, "_run_in_chunk", dies_in_the_second_chunk)
    with pytest.raises(Killed):
        await chat.advance("1m")
    monkeypatch.undo()
    before = posted_to(chat.sent)
    assert set(before) <= set(GROUPS[:5])  # only the first chunk was committed
    chat = await chat.crash(after="2m")
    after = posted_to(chat.sent) + posted_to(await chat.advance("1h"))
    # The first chunk's posts (queued, maybe not yet sent) go once; the rest are completed.
    assert before + after == Counter(GROUPS)
    assert set((await outcomes(chat)).values()) <= {"fired", "late"}


async def test_a_failing_job_fails_alone_in_its_chunk(make_chat, database_url):
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    scheduler = chat.runtime.scheduler

    async def broken(slot: datetime, late: bool) -> None:
        """Writes, queues a post, then fails: neither is kept."""
        async with chat.runtime.db.transaction() as session:
            session.add(JobRun(job="half-done", group_id="g06", slot_at=slot, fired_at=slot,
                               outcome="x"))
        unit = bot.scheduler.CURRENT_SLOT.get()
        assert unit is not None
        unit.keep(Outgoing(text="半截", kind=OutKind.POST, group_id="g06"))
        raise RuntimeError("the job's own bug")

    jobs = [dataclasses.replace(j, run=broken) if j.group_id == "g06" else j
            for j in scheduler.jobs]
    scheduler.set_jobs(jobs)
    assert posted_to(await chat.advance("1h")) == Counter(g for g in GROUPS if g != "g06")
    assert (await outcomes(chat))["g06"] == "failed"
    async with chat.runtime.db.transaction() as session:
        assert await session.scalar(select(JobRun.id).where(JobRun.job == "half-done")) is None
    chat = await chat.restart(after="1m")  # a failed slot is not run again
    assert posted_to(chat.sent) == Counter()


async def test_slots_apscheduler_submits_together_run_as_one_fan_out(tmp_path, monkeypatch):
    from tests.test_timed_jobs import SHANGHAI, _yield_until

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", tmp_path)
    await db.migrate()
    scheduler = Scheduler(
        db, ManualClock(datetime(2026, 11, 23, 9, 0, 5, tzinfo=SHANGHAI)), timedelta(minutes=30))
    fired: list[tuple[str, datetime]] = []
    fan_outs: list[int] = []
    fire_many = Scheduler.fire_many

    async def counted(self, due):
        fan_outs.append(len(due))
        return await fire_many(self, due)

    monkeypatch.setattr(Scheduler, "fire_many", counted)

    def recorder(group: str):
        async def record(slot: datetime, late: bool) -> None:
            fired.append((group, slot))
        return record

    trigger = make_trigger(Schedule("a", at=time(9)), SHANGHAI)
    jobs = [ScheduledJob("p.j.a", g, trigger, recorder(g)) for g in ("g", "h", "i")]
    scheduler.set_jobs(jobs)
    scheduler.start()
    try:
        slot = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
        executor = scheduler._aps._lookup_executor("default")
        (shared,) = scheduler._aps.get_jobs()  # the three groups' jobs share a schedule
        mondays = make_trigger(Schedule("b", at=time(9), weekdays=(0,)), SHANGHAI)
        scheduler.set_jobs([*jobs, ScheduledJob("p.k.b", "g", mondays, recorder("g+"))])
        # What APScheduler does when slots are due: all in one go (at one moment, two
        # schedules' jobs), then the same slots again: the ledger refuses them.
        for _ in range(2):
            for aps_job in scheduler._aps.get_jobs():
                executor.submit_job(aps_job, [slot])
            await _yield_until(lambda: len(fired) >= 4 and not any(executor._instances.values()))
        assert sorted(fired) == [(g, slot) for g in ("g", "g+", "h", "i")]
        assert shared.args[0] == ("p.j.a@g", "p.j.a@h", "p.j.a@i")
        assert fan_outs == [4, 4]
    finally:
        scheduler.shutdown()
        await db.close()


async def test_a_daily_quiz_in_a_fan_out_runs_its_timers_after(make_chat, tmp_path):
    """What a job arms for later (the quiz's hint and time-out) goes out when it fires."""
    from tests.test_quiz import BANK

    (tmp_path / "config" / "quiz").mkdir(parents=True)
    (tmp_path / "config" / "quiz" / "test.yaml").write_text(BANK, encoding="utf-8")
    quiz = {"banks": ["quiz"], "hint_after": "20s", "time_limit": "45s",
            "daily": [{"at": "20:30", "bank": "测试", "questions": 1}]}
    groups = {g: {"name": f"读书会{g}", "plugins": {"quiz": quiz, "points": {}}}
              for g in ("g", "h", "i")}
    chat = await make_chat({"groups": groups}, now="2026-11-23 20:29")
    sent = await chat.advance("5m")
    for group in groups:
        said = [d.text for d in sent if d.group_id == group]
        assert sum("第 1/1 题" in t for t in said) == 1
        assert any("本轮问答结束" in t for t in said)  # the time-out, armed in the fan-out


async def test_a_fan_out_hook_is_entered_once_around_its_jobs(tmp_path):
    """Jobs sharing a hook: it is entered once with the slots claimed here, left after the
    last of them ran; a hook that fails is left out and its jobs run all the same."""
    from contextlib import asynccontextmanager

    from tests.test_timed_jobs import SHANGHAI

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", tmp_path)
    await db.migrate()
    slot = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    scheduler = Scheduler(db, ManualClock(slot), timedelta(minutes=30))
    scheduler.serves = lambda group: group != "elsewhere"
    trace: list[object] = []

    @asynccontextmanager
    async def hook(jobs):
        trace.append(("enter", [j.group_id for j in jobs]))
        yield
        trace.append("leave")

    def broken(jobs):
        raise RuntimeError("the hook's own bug")

    def job(group: str, prepare=None) -> ScheduledJob:
        async def run(_slot: datetime, _late: bool) -> None:
            trace.append(group)
        return ScheduledJob("p.j.a", group, make_trigger(Schedule("a", at=time(9)), SHANGHAI),
                            run, prepare=prepare)

    jobs = [job("g", hook), job("plain"), job("elsewhere", hook), job("h", hook),
            job("x", broken)]
    try:
        assert await scheduler.fire_many([(j, slot, False) for j in jobs]) == 4
        assert trace == [("enter", ["g", "h"]), "g", "plain", "h", "x", "leave"]
    finally:
        await db.close()
