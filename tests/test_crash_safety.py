"""Crash safety (issue 14): a replayed message changes nothing, a reply is kept with the
state it reports, a graceful stop loses nothing."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from bot.clock import ManualClock
from bot.config.models import OutboxSettings
from bot.events import Outgoing, OutKind, Sent
from bot.outbox import Outbox
from bot.storage import Database
from bot.storage.models import JobRun, OutboxMessage, ProcessedMessage
from bot.testing import texts

CONFIG = {"groups": {"g": {"name": "读书会", "owner": "alice",
                           "plugins": {"redpacket": {"expires_after": "24h"}, "points": {}}}}}
NOW = "2026-11-23 20:00"
SHANGHAI = ZoneInfo("Asia/Shanghai")




async def test_a_replayed_red_packet_after_a_restart_charges_once(make_chat, database_url):
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    await chat.give("amy", 100)
    first = await chat.say("amy", "发红包 10 2", message_id="wx-1")
    assert "发了一个红包" in first[0].text
    for how in ("restart", "crash"):
        chat = await getattr(chat, how)(after="1m")
        assert await chat.say("amy", "发红包 10 2", message_id="wx-1") == []  # the replay
    assert await chat.balance("amy") == 90


async def test_a_replay_the_memory_forgot_is_refused_by_the_database(make_chat, database_url):
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    await chat.give("amy", 100)
    await chat.say("amy", "发红包 10 2", message_id="wx-1")
    chat.runtime.dispatcher.processed.recent = type(chat.runtime.dispatcher.processed.recent)()
    assert await chat.say("amy", "发红包 10 2", message_id="wx-1") == []
    assert await chat.balance("amy") == 90
    assert texts(await chat.say("amy", "发红包 10 2", message_id="wx-2"))  # a new one is fine


async def test_a_message_without_state_is_recorded_with_the_next_group_commit(make_chat):
    chat = await make_chat(CONFIG, now=NOW)
    await chat.say("amy", "/群号", message_id="wx-7")
    async with chat.runtime.db.transaction() as session:
        ids = (await session.scalars(select(ProcessedMessage.message_id))).all()
    assert "wx-7" in ids
    chat = await chat.restart()
    assert await chat.say("amy", "/群号", message_id="wx-7") == []


async def test_a_kill_after_the_state_changed_keeps_the_reply(make_chat, database_url):
    chat = await make_chat(CONFIG, now=NOW, database_url=database_url)
    await chat.give("amy", 100)
    chat.runtime.outbox.hold()  # nothing goes out before the kill
    await chat.runtime.dispatcher.handle(chat.chat.message(chat.group, "amy", "发红包 10 2"))
    chat = await chat.crash()
    assert await chat.balance("amy") == 90
    assert any("发了一个红包" in d.text for d in chat.sent)  # sent by the next start
    assert len([d for d in chat.sent if "发了一个红包" in d.text]) == 1


async def test_a_reply_inside_a_transaction_is_written_with_it(make_chat):
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 100)
    await chat.say("amy", "发红包 10 1")
    chat.runtime.outbox.hold()
    await chat.runtime.dispatcher.handle(chat.chat.message(chat.group, "bo", "抢"))
    async with chat.runtime.db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert any("抢到" in row.text and row.status == "queued" for row in rows)


async def test_a_message_sent_but_not_marked_before_a_kill_is_sent_again(make_chat):
    chat = await make_chat(CONFIG, now=NOW)
    await chat.give("amy", 100)
    await chat.say("amy", "发红包 10 1")
    outbox = chat.runtime.outbox

    async def killed_after_sending(message):  # the platform got it; the mark never came
        chat.chat.record(message)
        raise SystemExit

    outbox.attach(killed_after_sending)
    await chat.runtime.dispatcher.handle(chat.chat.message(chat.group, "bo", "抢"))
    with contextlib.suppress(SystemExit):
        await outbox.drain()
    async with chat.runtime.db.transaction() as session:
        [row] = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.text.contains("抢到")))).all()
    assert row.status == "queued" and row.client_id  # the id was written before the send
    before = [d for d in chat.sent if "抢到" in d.text]
    chat = await chat.crash()
    after = [d for d in chat.sent if "抢到" in d.text]
    assert len(before) == len(after) == 1  # the stated window: unconfirmed, so sent again


async def test_a_message_the_platform_confirms_is_not_sent_again(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    clock = ManualClock(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI))
    db = Database(url, tmp_path)
    await db.migrate()
    first = Outbox(db, clock, OutboxSettings(), account="wx", timezone=SHANGHAI)
    sent: list[Outgoing] = []

    async def killed_after_sending(message: Outgoing) -> Sent:
        sent.append(message)
        raise SystemExit

    first.attach(killed_after_sending)
    for text in ("went out", "did not"):
        first.put(Outgoing(text=text, kind=OutKind.REPLY, group_id="g"))
    await first.flush()  # both written, then the first is sent and the process dies
    with contextlib.suppress(SystemExit):
        await first.drain()
    await db.close()

    async def platform_knows(client_id: str) -> bool:
        return client_id == went_out_id  # the platform's record of what it received

    async with Database(url, tmp_path).transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    went_out_id = rows[0].client_id
    db = Database(url, tmp_path)
    second = Outbox(db, clock, OutboxSettings(), account="wx", timezone=SHANGHAI,
                    confirm=platform_knows)
    again: list[Outgoing] = []

    async def platform(message: Outgoing) -> Sent:
        again.append(message)
        return Sent()

    second.attach(platform)
    await second.load()
    await second.drain()
    await db.close()
    assert [m.text for m in again] == ["did not"] and second.stats.confirmed == 1


POSTS = {
    "scheduler": {"grace": "30m"},
    "operators": [{"id": "olga", "name": "Olga"}],
    "groups": {
        "g": {"name": "读书会", "plugins": {"timed_posts": {"posts": [
            {"at": "09:00", "text": "早安"}, {"at": "09:05", "text": "读书时间"}]}}},
        "h": {"name": "跑步群", "plugins": {"timed_posts": {"posts": [
            {"at": "09:00", "text": "晨跑"}]}}},
    },
}


class Killed(BaseException):
    """SIGKILL, as far as the code under test can tell."""


async def _killed_before_the_slot_is_done(chat, monkeypatch, until: str) -> None:
    from bot.scheduler import Scheduler, SlotUnit

    async def die(self, *args) -> None:
        raise Killed

    monkeypatch.setattr(SlotUnit, "complete", die)  # one slot due
    monkeypatch.setattr(Scheduler, "_run_in_chunk", die)  # several at once: a fan-out
    with pytest.raises(Killed):
        await chat.advance(until)
    monkeypatch.undo()


async def test_a_slot_claimed_but_not_done_is_completed_at_restart_once(
        make_chat, database_url, monkeypatch):
    chat = await make_chat(POSTS, now="2026-11-23 08:59", database_url=database_url)
    await _killed_before_the_slot_is_done(chat, monkeypatch, "1m")  # 09:00, mid-slot
    assert chat.sent == []
    chat = await chat.crash(after="2m")
    posted = texts(chat.sent)
    assert posted.count("早安") == 1 and posted.count("晨跑") <= 1
    posted += texts(await chat.advance("1h"))
    assert sorted(posted) == sorted(["早安", "晨跑", "读书时间"])  # each exactly once


async def test_a_slot_done_but_not_sent_is_sent_once_and_not_run_again(make_chat, database_url):
    chat = await make_chat(POSTS, now="2026-11-23 08:59", database_url=database_url)
    chat.runtime.outbox.hold()
    await chat.advance("2m")
    assert chat.sent == []
    chat = await chat.crash(after="1m")
    assert sorted(texts(chat.sent)) == ["早安", "晨跑"]
    chat = await chat.restart()
    assert chat.sent == []


async def test_slots_skipped_beyond_the_grace_are_reported_once_per_start(
        make_chat, monkeypatch):
    chat = await make_chat(POSTS, now="2026-11-23 08:59")
    await _killed_before_the_slot_is_done(chat, monkeypatch, "1m")
    chat = await chat.crash(after="3h")  # 09:00 interrupted, 09:05 missed: past the grace
    [report] = [d for d in chat.sent if d.to == "olga"]
    assert "错过了 3 条定时发布" in report.text
    assert "「读书会」2 条，最早应在 11-23 09:00 发出" in report.text
    assert "「跑步群」1 条" in report.text
    assert [d for d in chat.sent if d.group_id] == []
    chat = await chat.restart(after="1m")
    assert chat.sent == []  # told once


async def test_bookkeeping_rows_are_purged_nightly_after_their_retention(make_chat,
                                                                         database_url):
    chat = await make_chat(dict(POSTS, database={"retention": {
        "sent_messages": "2d", "job_runs": "3d", "processed_ids": "1d", "at": "04:30"}}),
        now="2026-11-23 08:00", database_url=database_url)
    await chat.say("amy", "/群号", message_id="old")
    await chat.advance("2h")  # two days of slots and posts from here on
    await chat.advance("1d")

    async def counts() -> tuple[int, ...]:
        async with chat.runtime.db.transaction() as session:
            return tuple([len((await session.scalars(select(model))).all())
                          for model in (OutboxMessage, JobRun, ProcessedMessage)])

    before = await counts()
    assert before[2] >= 1
    await chat.advance("3d")  # the last purge ran at 04:30 on 11-27 (20:30 UTC on 11-26)
    last_purge = datetime(2026, 11, 26, 20, 30, tzinfo=UTC)
    async with chat.runtime.db.transaction() as session:
        slots = (await session.scalars(select(JobRun.slot_at))).all()
        ids = (await session.scalars(select(ProcessedMessage.message_id))).all()
        sent = (await session.scalars(select(OutboxMessage.created_at)
                                      .where(OutboxMessage.status == "sent"))).all()
    assert min(slots) >= last_purge - timedelta(days=3)
    assert "old" not in ids
    assert not sent or min(sent) >= last_purge - timedelta(days=2)
    assert await chat.say("amy", "/群号", message_id="fresh")  # still answers


def test_the_command_rate_forgets_members_idle_for_a_minute():
    from bot.dispatch import CommandRate

    rate = CommandRate(per_minute=5)
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    for n in range(CommandRate.SWEEP - 1):
        rate.check(("g", f"m{n}"), start)
    assert len(rate) == CommandRate.SWEEP - 1
    rate.check(("g", "late"), start + timedelta(minutes=2))  # the sweep
    assert len(rate) == 1
    assert rate.check(("g", "m1"), start + timedelta(minutes=2))[0]  # forgotten, allowed


def test_the_command_rate_counts_a_minute_and_is_nothing_the_collector_walks():
    """Thousands of members' recent commands: kept where the cyclic collector never looks
    (a young collection re-walking them cost 4-6 ms of some member's reply)."""
    import gc

    from bot.dispatch import CommandRate

    rate = CommandRate(per_minute=3)
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    for n in range(500):
        rate.check(("g", f"m{n}"), start)
    said = [rate.check(("g", "amy"), start + timedelta(seconds=s)) for s in (0, 10, 20, 30, 40)]
    assert said == [(True, False, 0)] * 3 + [(False, True, 31), (False, False, 21)]
    assert rate.check(("g", "amy"), start + timedelta(seconds=60))[0]  # the first left the minute
    assert not gc.is_tracked(rate._recent)  # not even just after new entries


async def test_handled_ids_are_written_with_one_statement_whatever_their_number(make_chat):
    """A statement per count of ids (a multi-row VALUES) filled SQLAlchemy's and sqlite3's
    statement caches with large variants: memory grew with traffic (issue 14, point 7)."""
    chat = await make_chat(CONFIG, now=NOW)
    written: set[str] = set()
    event.listen(chat.runtime.db.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: written.add(sql) if "processed_messages" in sql
                 and sql.lstrip().upper().startswith("INSERT") else None)
    for count in (1, 3, 7):
        for n in range(count):
            await chat.runtime.dispatcher.handle(
                chat.chat.message(chat.group, "amy", "随便聊聊", message_id=f"c{count}-{n}"))
        await chat.runtime.outbox.flush()
    async with chat.runtime.db.transaction() as session:
        ids = set((await session.scalars(select(ProcessedMessage.message_id))).all())
    assert {f"c{count}-{n}" for count in (1, 3, 7) for n in range(count)} <= ids
    assert len(written) == 1


async def test_a_graceful_stop_sends_what_it_can_then_keeps_the_rest(tmp_path):
    from bot.clock import SystemClock

    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    db = Database(url, tmp_path)
    await db.migrate()
    budget = OutboxSettings(per_minute=60, burst=1, group_jitter=("0s", "0s"))
    outbox = Outbox(db, SystemClock(), budget, account="wx", timezone=SHANGHAI)
    sent: list[str] = []

    async def platform(message: Outgoing) -> Sent:
        sent.append(message.text)
        return Sent()

    outbox.attach(platform)
    for text in ("a", "b", "c"):
        outbox.put(Outgoing(text=text, kind=OutKind.REPLY, group_id="g"))
    outbox.stop_running()  # SIGTERM arrived
    await outbox.finish(0.3)  # the next token is a second away: not worth waiting for
    await db.close()
    assert sent == ["a"]
    db = Database(url, tmp_path)
    again = Outbox(db, SystemClock(), OutboxSettings(), account="wx", timezone=SHANGHAI)
    await again.load()
    await db.close()
    assert again.pending == 2


async def test_sigterm_and_sigint_end_the_run_for_a_graceful_stop():
    import asyncio
    import os
    import signal

    from bot.app import until_stopped

    for signum in (signal.SIGTERM, signal.SIGINT):
        forever = asyncio.Event()
        task = asyncio.create_task(until_stopped(forever.wait()))
        await asyncio.sleep(0.01)
        os.kill(os.getpid(), signum)
        await asyncio.wait_for(task, 5)  # returned: the caller stops the runtime next


@pytest.mark.parametrize("kill_at", ["a table", "the stamp"])
async def test_a_first_start_killed_mid_migration_leaves_no_half_schema(tmp_path, kill_at):
    from sqlalchemy import event, inspect

    from bot.storage import database

    tables = database.shipped_tables()
    victim = tables[3] if kill_at == "a table" else database.ALEMBIC_VERSION

    def die(*args, **kwargs):  # the kill lands after a few tables, or after all of them
        raise Killed

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'half.db'}", tmp_path)
    event.listen(victim, "before_create", die)
    try:
        with pytest.raises(Killed):
            await db.migrate()
    finally:
        event.remove(victim, "before_create", die)
    async with db.engine.connect() as connection:
        left = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert left == []  # all or nothing
    await db.migrate()  # the next start builds it cleanly
    await db.close()
