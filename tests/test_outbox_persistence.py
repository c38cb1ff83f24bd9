"""The outbox: the send budget, priorities, retries, and nothing lost or repeated on restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.adapters.base import SendError
from bot.clock import ManualClock
from bot.config.models import OutboxSettings
from bot.events import Outgoing, OutKind, Sent
from bot.outbox import Outbox
from bot.storage import Database
from bot.storage.models import OutboxMessage

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


class Platform:
    """A fake transport: records sends, or fails while `down`."""

    def __init__(self, down: bool = False, permanent: bool = False) -> None:
        self.down, self.permanent = down, permanent
        self.sent: list[Outgoing] = []
        self.calls = 0

    async def send(self, message: Outgoing) -> Sent:
        self.calls += 1
        if self.down:
            raise SendError("platform unavailable", permanent=self.permanent)
        self.sent.append(message)
        return Sent()


async def _outbox(
    url: str, tmp_path, clock: ManualClock, platform: Platform, **settings: object
) -> tuple[Outbox, Database]:
    db = Database(url, tmp_path)
    await db.migrate()
    budget = {
        "per_minute": 6000,
        "burst": 1000,
        "group_jitter": (timedelta(), timedelta()),
        **settings,
    }
    outbox = Outbox(
        db,
        clock,
        OutboxSettings(**budget),
        account="wx",
        timezone=SHANGHAI,
        may_send=lambda o: o.kind is not OutKind.POST or o.group_id != "stranger",
    )
    outbox.attach(platform.send)
    await outbox.load()
    return outbox, db


@pytest.fixture
async def open_outbox(tmp_path):
    """open_outbox(platform, start=..., **budget) → (outbox, clock) over SQLite; closed after."""
    opened: list[Database] = []

    async def factory(
        platform: Platform, start: datetime = START, **settings: object
    ) -> tuple[Outbox, ManualClock]:
        clock = ManualClock(start)
        url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
        outbox, db = await _outbox(url, tmp_path, clock, platform, **settings)
        opened.append(db)
        return outbox, clock

    yield factory
    for db in opened:
        await db.close()


def _msg(text: str, kind: OutKind = OutKind.REPLY, group: str = "g1") -> Outgoing:
    return Outgoing(text=text, kind=kind, group_id=group)


async def test_queued_messages_survive_a_restart_and_go_out_exactly_once(database_url, tmp_path):
    clock = ManualClock(START)
    down = Platform(down=True)
    outbox, db = await _outbox(database_url, tmp_path, clock, down)
    for text in ("一", "二", "三"):
        outbox.put(_msg(text))
    await outbox.drain()
    assert down.calls == 3 and down.sent == []  # tried once each, now waiting to retry
    await db.close()  # the process dies here

    clock.set(START + timedelta(minutes=5))
    up = Platform()
    outbox, db = await _outbox(database_url, tmp_path, clock, up)
    await outbox.drain()
    assert [m.text for m in up.sent] == ["一", "二", "三"]
    await db.close()

    again = Platform()
    outbox, db = await _outbox(database_url, tmp_path, clock, again)
    await outbox.drain()
    assert again.sent == []  # a second restart sends nothing twice
    await db.close()


async def test_a_graceful_stop_keeps_what_the_budget_held_back(tmp_path):
    clock = ManualClock(START)
    first = Platform()
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    outbox, db = await _outbox(url, tmp_path, clock, first, per_minute=1, burst=2)
    for text in ("a", "b", "c", "d"):
        outbox.put(_msg(text))
    await outbox.drain()
    await outbox.flush()
    await db.close()
    assert [m.text for m in first.sent] == ["a", "b"]

    clock.set(START + timedelta(minutes=10))
    second = Platform()
    outbox, db = await _outbox(url, tmp_path, clock, second)
    await outbox.drain()
    await db.close()
    assert [m.text for m in second.sent] == ["c", "d"]


async def test_notices_go_before_replies_before_posts(open_outbox):
    platform = Platform()
    outbox, clock = await open_outbox(platform, per_minute=60, burst=1)
    outbox.put(_msg("post", OutKind.POST))
    outbox.put(_msg("reply"))
    outbox.put(_msg("notice", OutKind.NOTICE))
    outbox.put(_msg("dm", OutKind.DM))
    for _ in range(4):
        await outbox.drain()
        clock.set(clock.now() + timedelta(seconds=1))
    assert [m.text for m in platform.sent] == ["notice", "reply", "dm", "post"]


async def test_the_token_bucket_releases_messages_as_time_passes(open_outbox):
    platform = Platform()
    outbox, clock = await open_outbox(platform, per_minute=6, burst=2)
    for i in range(5):
        outbox.put(_msg(str(i)))
    assert await outbox.drain() == 2  # the burst
    clock.set(START + timedelta(seconds=9))
    assert await outbox.drain() == 0  # one token takes 10 s at 6 a minute
    clock.set(START + timedelta(seconds=10))
    assert await outbox.drain() == 1
    clock.set(START + timedelta(seconds=30))
    assert await outbox.drain() == 2


async def test_the_daily_cap_defers_to_the_next_local_day(open_outbox):
    platform = Platform()
    outbox, clock = await open_outbox(
        platform, start=datetime(2026, 11, 23, 23, 50, tzinfo=SHANGHAI), daily_cap=2
    )
    for i in range(3):
        outbox.put(_msg(str(i)))
    assert await outbox.drain() == 2
    clock.set(datetime(2026, 11, 23, 23, 59, tzinfo=SHANGHAI))
    assert await outbox.drain() == 0
    clock.set(datetime(2026, 11, 24, 0, 0, 1, tzinfo=SHANGHAI))
    assert await outbox.drain() == 1


async def test_switching_groups_waits_a_random_pause(open_outbox):
    platform = Platform()
    outbox, clock = await open_outbox(
        platform, group_jitter=(timedelta(seconds=2), timedelta(seconds=4))
    )
    outbox.put(_msg("a1", group="a"))
    outbox.put(_msg("a2", group="a"))
    outbox.put(_msg("b1", group="b"))
    assert await outbox.drain() == 2  # same group: no pause
    clock.set(START + timedelta(seconds=1.9))
    assert await outbox.drain() == 0
    clock.set(START + timedelta(seconds=4))
    assert await outbox.drain() == 1


async def test_retries_back_off_then_give_up_and_count_the_failure(open_outbox):
    platform = Platform(down=True)
    outbox, clock = await open_outbox(platform, max_attempts=3, retry_after=timedelta(seconds=10))
    outbox.put(_msg("x"))
    await outbox.drain()
    assert platform.calls == 1
    clock.set(START + timedelta(seconds=9))
    await outbox.drain()
    assert platform.calls == 1  # not before 10 s
    clock.set(START + timedelta(seconds=10))
    await outbox.drain()
    assert platform.calls == 2
    clock.set(START + timedelta(seconds=29))
    await outbox.drain()
    assert platform.calls == 2  # the second wait is 20 s
    clock.set(START + timedelta(seconds=30))
    await outbox.drain()
    assert platform.calls == 3 and outbox.stats.failed == 1 and outbox.pending == 0
    async with outbox.db.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and (row.status, row.attempts) == ("failed", 3)
        assert row.last_error == "platform unavailable"


async def test_a_permanent_failure_is_not_retried(open_outbox):
    platform = Platform(down=True, permanent=True)
    outbox, clock = await open_outbox(platform)
    outbox.put(_msg("x"))
    await outbox.drain()
    clock.set(START + timedelta(hours=1))
    await outbox.drain()
    assert platform.calls == 1 and outbox.stats.failed == 1


async def test_posts_never_reach_a_group_the_config_does_not_set_up(make_chat):
    chat = await make_chat({"groups": {"g1": {"name": "读书会"}}})
    chat.chat.add_group("stranger", "陌生群", chat.chat.timezone)
    chat.runtime.outbox.put(_msg("广告", OutKind.POST, group="stranger"))
    chat.runtime.outbox.put(_msg("早安", OutKind.POST, group="g1"))
    await chat.runtime.settle()
    assert [(d.group_id, d.text) for d in chat.sent] == [("g1", "早安")]
    assert chat.runtime.outbox.stats.dropped == 1
    [answer] = await chat.say("alice", "/群号", group="stranger")  # replies are fine
    assert answer.group_id == "stranger"


async def test_an_instant_reply_costs_no_database_write(make_chat):
    chat = await make_chat({"groups": {"g1": {"name": "读书会"}}})
    await chat.say("alice", "/help")
    async with chat.runtime.db.transaction() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []


def test_a_queued_message_is_plain_values_the_collector_does_not_walk():
    """Issue 16.4: 130,000 queued replies as `Outgoing` models were 520,000 objects for
    every full garbage collection (75 ms pauses); packed, each message is given back whole
    and its tuple is left alone once the collector has seen it."""
    import gc

    from bot.outbox import pack, unpack

    every_field = Outgoing(text="早上好", kind=OutKind.DM, group_id=None, to="u1",
                           mentions=("u2", "u3"), image_path="a.png", mention_at=(0, 4),
                           coalesce="checkin")
    assert set(every_field.model_fields_set) == set(Outgoing.model_fields)
    for message in (every_field, Outgoing(text="hi", group_id="g1")):
        assert unpack(pack(message)) == message
        assert unpack(pack(message)).kind is message.kind
    packed = pack(every_field)
    gc.collect()
    assert not gc.is_tracked(packed)


async def test_a_backlog_is_nothing_the_collector_walks_whatever_happened_to_it(open_outbox):
    """Issue 16.4: each queued message was an object for every full collection to walk
    (130,000 of them, 63-90 ms pauses at 2,000 groups). Queued, written, retried or taken
    back after a restart, a message in the queue is plain values the collector lets be."""
    import gc

    platform = Platform(down=True)
    outbox, clock = await open_outbox(platform, max_attempts=5, retry_after=timedelta(seconds=1))
    for n in range(30):
        outbox.put(_msg(f"第{n}条", group=f"g{n % 3}"))
    await outbox.flush()  # written: each has its row now
    await outbox.step()  # one fails: retried later
    for n in range(5):
        outbox.put(_msg(f"新{n}", kind=OutKind.NOTICE))
    gc.collect()  # (a tuple is let be once what it holds is: by the second collection)
    gc.collect()
    queued = [*outbox._ready, *(item for *_, item in outbox._delayed)]
    assert len(queued) == 35
    assert [item for item in queued if gc.is_tracked(item)] == []
    platform.down = False
    clock.set(clock.now() + timedelta(seconds=5))
    assert await outbox.drain() == 35  # every one, the retried one included


async def test_the_outbox_forgets_each_row_once_it_has_its_outcome(open_outbox):
    """Sent, failed for good before or after being written, or retried: the rows the
    outbox holds are only those still waiting (memory follows the backlog, not the day)."""
    platform = Platform()
    outbox, _ = await open_outbox(platform, max_attempts=1)
    outbox.put(_msg("先写后发"))
    await outbox.flush()
    outbox.put(_msg("直接发"))
    await outbox.drain()
    platform.down = True
    outbox.put(_msg("没写就失败"))
    await outbox.drain()
    outbox.put(_msg("写了才失败"))
    await outbox.flush()
    await outbox.drain()
    assert outbox._row_ids == {} and outbox.pending == 0
    async with outbox.db.transaction() as session:
        rows = {row.text: row.status for row in await session.scalars(select(OutboxMessage))}
    assert rows == {"先写后发": "sent", "没写就失败": "failed", "写了才失败": "failed"}
