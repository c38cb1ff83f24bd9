"""Timed posts and the scheduler: local times, weekdays, cron, catch-up after downtime."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.clock import ManualClock
from bot.plugin import Schedule
from bot.scheduler import ScheduledJob, Scheduler, cron_trigger, make_trigger, next_slots
from bot.storage import Database
from bot.storage.models import JobRun
from bot.testing import texts

SHANGHAI, LONDON = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/London")


def _group(name: str, posts: list[dict], **extra: object) -> dict:
    return {"name": name, "plugins": {"timed_posts": {"posts": posts}}, **extra}


async def test_daily_posts_fire_at_local_time_in_each_groups_timezone(make_chat):
    chat = await make_chat(
        {
            "groups": {
                "sh": _group("上海群", [{"at": "09:00", "text": "早安上海"}]),
                "ldn": _group(
                    "London", [{"at": "09:00", "text": "Morning London"}], timezone="Europe/London"
                ),
            }
        },
        now="2026-11-23 08:00",
    )
    posts = await chat.advance("1d")
    assert [(d.text, d.at.isoformat()) for d in posts] == [
        ("早安上海", "2026-11-23T09:00:00+08:00"),
        ("Morning London", "2026-11-23T09:00:00+00:00"),  # 17:00 in Shanghai
    ]


async def test_weekdays_and_cron_sunday(make_chat):
    chat = await make_chat(
        {
            "groups": {
                "g": _group(
                    "群",
                    [
                        {"at": "21:00", "weekdays": ["mon", "周三"], "text": "话题"},
                        {"cron": "0 20 * * 0", "text": "周日小结"},
                    ],
                )
            }
        },
        now="2026-11-23 00:00",
    )  # a Monday
    posts = await chat.advance("7d")
    assert [(d.text, d.at.strftime("%a %H:%M")) for d in posts] == [
        ("话题", "Mon 21:00"),
        ("话题", "Wed 21:00"),
        ("周日小结", "Sun 20:00"),
    ]


async def test_every_slot_of_a_long_advance_fires_in_order_with_its_own_time(make_chat):
    chat = await make_chat(
        {
            "groups": {
                "g": _group(
                    "群",
                    [{"at": "08:00", "text": "早 {date}"}, {"at": "20:00", "text": "晚 {weekday}"}],
                )
            }
        },
        now="2026-11-23 07:00",
    )
    posts = await chat.advance("3d")
    assert texts(posts) == [
        "早 2026-11-23",
        "晚 星期一",
        "早 2026-11-24",
        "晚 星期二",
        "早 2026-11-25",
        "晚 星期三",
    ]
    assert [d.at.hour for d in posts] == [8, 20] * 3


CATCH_UP = {
    "scheduler": {"grace": "30m"},
    "groups": {"g": _group("群", [{"at": "09:00", "text": "早安"}])},
}


async def test_a_post_missed_while_down_goes_out_once_within_the_grace(make_chat):
    chat = await make_chat(CATCH_UP, now="2026-11-23 08:00")
    chat = await chat.restart(after="70m")  # down from 08:00, back at 09:10
    assert texts(chat.sent) == ["早安"]
    assert chat.sent[0].at.strftime("%H:%M") == "09:10"
    chat = await chat.restart(after="5m")  # another restart the same day
    assert chat.sent == []
    assert texts(await chat.advance("1d")) == ["早安"]  # the next day as usual


async def test_a_post_missed_beyond_the_grace_is_skipped_and_recorded(make_chat):
    chat = await make_chat(CATCH_UP, now="2026-11-23 08:00")
    chat = await chat.restart(after="2h")  # back at 10:00: 60 min late > 30 min grace
    assert chat.sent == []
    async with chat.runtime.db.transaction() as session:
        [run] = (await session.scalars(select(JobRun))).all()
    assert run.outcome == "skipped"
    assert run.slot_at == datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


async def test_a_fresh_install_does_not_catch_up_what_came_before_it(make_chat):
    chat = await make_chat(CATCH_UP, now="2026-11-23 09:10")
    assert chat.sent == []


async def test_reload_reconciles_the_jobs(make_chat):
    config = {"groups": {"g": _group("群", [{"at": "09:00", "text": "旧"}], admins=["adam"])}}
    chat = await make_chat(config, now="2026-11-23 08:00")
    config["groups"]["g"]["plugins"]["timed_posts"]["posts"] = [{"at": "10:00", "text": "新"}]
    chat.write_config(config)
    await chat.say("adam", "/reload")
    assert texts(await chat.advance("1d")) == ["新"]


async def test_the_timed_command_shows_the_next_times(make_chat):
    chat = await make_chat(
        {"groups": {"g": _group("群", [{"at": "09:00", "text": "早安"}], admins=["adam"])}},
        now="2026-11-23 09:30",
    )
    [listing] = await chat.say("adam", "定时")
    assert "下次 11-24 09:00：早安" in listing.text


def test_crontab_weekday_numbers_follow_crontab_not_apscheduler():
    trigger = cron_trigger("30 7 * * 1-5", SHANGHAI)
    saturday = datetime(2026, 11, 28, 0, 0, tzinfo=SHANGHAI)
    assert trigger.get_next_fire_time(None, saturday) == datetime(
        2026, 11, 30, 7, 30, tzinfo=SHANGHAI
    )  # Monday
    sunday = cron_trigger("0 9 * * 7", SHANGHAI).get_next_fire_time(None, saturday)
    assert sunday is not None and sunday.weekday() == 6


def test_last_slot_finds_the_latest_slot_before_a_time():
    job = ScheduledJob("p.j.k", "g", make_trigger(Schedule("k", at=time(9)), LONDON), _noop)
    at = datetime(2026, 11, 23, 8, 0, tzinfo=LONDON)
    assert job.last_slot(at, timedelta(days=2)) == datetime(2026, 11, 22, 9, 0, tzinfo=LONDON)


async def _noop(slot: datetime, late: bool) -> None:
    return None


async def test_the_real_time_driver_registers_each_trigger_once_with_its_jobs(tmp_path):
    """APScheduler holds one job per schedule, carrying every group's job on it: what it
    works out at each slot no longer grows with the number of groups."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", tmp_path)
    await db.migrate()
    scheduler = Scheduler(
        db, ManualClock(datetime(2026, 11, 23, 8, tzinfo=SHANGHAI)), timedelta(minutes=30)
    )
    jobs = [
        ScheduledJob(f"p.j.{k}", group, make_trigger(Schedule(k, at=at), SHANGHAI), _noop)
        for k, at in (("a", time(9)), ("b", time(10))) for group in ("g", "h")
    ]
    scheduler.set_jobs(jobs)
    scheduler.start()

    def registered() -> dict[str, tuple[str, set[str]]]:
        return {f"{j.next_run_time.astimezone(SHANGHAI):%H:%M}": set(j.args[0])
                for j in scheduler._aps.get_jobs()}

    try:
        assert registered() == {"09:00": {"p.j.a@g", "p.j.a@h"},
                                "10:00": {"p.j.b@g", "p.j.b@h"}}
        scheduler.set_jobs([job for job in jobs if job.id != "p.j.a@g"][:2])
        assert registered() == {"09:00": {"p.j.a@h"}, "10:00": {"p.j.b@g"}}
    finally:
        scheduler.shutdown()
        await db.close()


async def test_apscheduler_hands_each_job_its_scheduled_slot(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", tmp_path)
    await db.migrate()
    scheduler = Scheduler(
        db, ManualClock(datetime(2026, 11, 23, 9, 0, 5, tzinfo=SHANGHAI)), timedelta(minutes=30)
    )
    fired: list[tuple[datetime, bool]] = []

    async def record(slot: datetime, late: bool) -> None:
        fired.append((slot, late))

    job = ScheduledJob("p.j.a", "g", make_trigger(Schedule("a", at=time(9)), SHANGHAI), record)
    scheduler.set_jobs([job])
    scheduler.start()
    try:
        slot = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
        aps_job = scheduler._aps.get_job(job.id)
        executor = scheduler._aps._lookup_executor("default")
        executor.submit_job(aps_job, [slot])  # what APScheduler does when the slot is due
        await _yield_until(lambda: bool(fired) and not executor._instances[job.id])
        executor.submit_job(aps_job, [slot])  # the same slot again: the ledger refuses it
        await _yield_until(lambda: not executor._instances[job.id])
        assert fired == [(slot, False)]
    finally:
        scheduler.shutdown()
        await db.close()


async def _yield_until(condition: Callable[[], bool]) -> None:
    """Let submitted tasks run (event-loop turns, no wall-clock wait)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def test_one_off_timers_fire_in_order_on_the_simulated_clock(make_chat):
    chat = await make_chat({"groups": {"g": _group("群", [{"at": "09:00", "text": "早安"}])}},
                           now="2026-11-23 08:58")
    scheduler = chat.runtime.scheduler
    base = chat.clock.now()
    fired: list[tuple[str, str]] = []

    def note(label: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            fired.append((label, chat.clock.now().astimezone(SHANGHAI).strftime("%H:%M")))

        return run

    assert scheduler.call_at(base + timedelta(minutes=3), "late", note("late"))
    assert scheduler.call_at(base + timedelta(minutes=1), "early", note("early"))
    assert not scheduler.call_at(base + timedelta(minutes=1), "early", note("again"))  # pending
    posts = await chat.advance("5m")
    assert fired == [("early", "08:59"), ("late", "09:01")]
    assert texts(posts) == ["早安"]


# -- every standard crontab weekday form (cron numbers from Sunday = 0 or 7; APScheduler 3
# from Monday = 0 and refuses ranges through 0) -----------------------------------------------

CRON_WEEKDAYS = {
    "0-4": {"Sun", "Mon", "Tue", "Wed", "Thu"},  # Sunday to Thursday: the example
    "sun-thu": {"Sun", "Mon", "Tue", "Wed", "Thu"},
    "1-5": {"Mon", "Tue", "Wed", "Thu", "Fri"},
    "MON,WED": {"Mon", "Wed"},
    "0": {"Sun"},
    "7": {"Sun"},
    "6-7": {"Sat", "Sun"},
    "0,6": {"Sat", "Sun"},
    "*/2": {"Sun", "Tue", "Thu", "Sat"},  # cron's steps count from Sunday
    "1-5/2": {"Mon", "Wed", "Fri"},
    "fri/2": {"Fri", "Sun"},
    "Sat,sun": {"Sat", "Sun"},
    "*": {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
    "0-6": {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
}


async def test_each_crontab_weekday_form_fires_on_its_days(make_chat):
    posts = [{"cron": f"0 21 * * {field}", "text": field} for field in CRON_WEEKDAYS]
    chat = await make_chat({"groups": {"g": _group("群", posts)}}, now="2026-11-22 22:00")
    sent = await chat.advance("14d")  # two weeks from a Sunday evening
    fired: dict[str, list[str]] = {field: [] for field in CRON_WEEKDAYS}
    for delivery in sent:
        assert delivery.at.strftime("%H:%M") == "21:00"
        fired[delivery.text].append(delivery.at.strftime("%a"))
    for field, days in CRON_WEEKDAYS.items():
        assert set(fired[field]) == days, field
        assert len(fired[field]) == 2 * len(days), field  # each day once a week


async def test_a_cron_line_with_a_day_of_month_and_a_weekday_fires_on_either(make_chat):
    # As cron does: "the 1st, and every Friday"; APScheduler alone would want both at once.
    posts = [{"cron": "0 9 1 * fri", "text": "月初或周五"}]
    chat = await make_chat({"groups": {"g": _group("群", posts)}}, now="2026-11-23 00:00")
    sent = await chat.advance_to("2026-12-08 00:00")
    assert [d.at.strftime("%m-%d %a") for d in sent] == [
        "11-27 Fri", "12-01 Tue", "12-04 Fri"]


@pytest.mark.parametrize("field, words", [
    ("8", "不是星期"), ("5-1", "要从小到大"), ("mon-", "不是星期"), ("*/0", "步长"),
    ("funday", "不是星期"),
])
def test_a_bad_crontab_weekday_is_refused_in_plain_words(field, words):
    with pytest.raises(ValueError) as caught:
        cron_trigger(f"0 21 * * {field}", SHANGHAI)
    assert "cron 的“星期”段" in str(caught.value) and words in str(caught.value)
    assert "APScheduler" not in str(caught.value)


def test_equal_schedules_share_one_trigger_and_a_slot_is_worked_out_once_per_trigger():
    """2,000 groups' briefings at 09:00: one trigger, one computation of the next slot."""
    daily = make_trigger(Schedule("a", at=time(9)), SHANGHAI)
    assert make_trigger(Schedule("b", at=time(9)), SHANGHAI) is daily
    assert make_trigger(Schedule("c", cron="0 9 * * *"), SHANGHAI) is make_trigger(
        Schedule("d", cron="0 9 * * *"), SHANGHAI)
    assert make_trigger(Schedule("a", at=time(9)), ZoneInfo("Asia/Tokyo")) is not daily
    assert make_trigger(Schedule("a", at=time(9), weekdays=(0,)), SHANGHAI) is not daily
    window = Schedule("w", between=(time(9), time(12)))
    assert make_trigger(window, SHANGHAI, "g|w") is not make_trigger(window, SHANGHAI, "h|w")

    asked: list[datetime] = []

    class Counted(CronTrigger):
        def get_next_fire_time(self, previous, now):
            asked.append(now)
            return super().get_next_fire_time(previous, now)

    counted = Counted(hour=9, timezone=SHANGHAI)
    jobs = [ScheduledJob("p.j.a", f"g{n}", counted, _noop) for n in range(50)]
    jobs.append(ScheduledJob("p.j.b", "g0", daily, _noop))
    after = datetime(2026, 11, 23, 8, tzinfo=SHANGHAI)
    slots = next_slots(jobs, after)
    assert len(asked) == 1
    assert set(slots.values()) == {datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)}
    assert len(slots) == 51
