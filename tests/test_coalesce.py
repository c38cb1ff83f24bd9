"""Replies coalesce under backpressure (issue 16.5): when the send budget holds several
short replies of one kind back in a group, they go out as one message, a line and a mention
each; anything else goes alone, groups are never mixed, and a crash repeats a merged message
whole or not at all."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.events import Outgoing
from bot.outbox import COALESCE_LINES
from bot.storage.models import OutboxMessage
from bot.testing import FakeChat
from bot.text import MESSAGE_LIMIT
from tests.test_outbox_persistence import START, Platform, _outbox

CHECKIN = {"points": 5, "milestones": {3: 10}, "reminder_at": None, "freezes_per_month": 0,
           "comeback": {"bonus": 0}}


@pytest.fixture
def on_both(make_chat, database_url):
    """Every chat test here runs once on SQLite and once on PostgreSQL."""

    async def start(config: dict) -> FakeChat:
        return await make_chat(config, database_url=database_url)

    return start


def config(*groups: str) -> dict:
    """Check-in in each group, under the default send budget (20 a minute, bursts of 5)."""
    return {"outbox": {"per_minute": 20, "burst": 5, "group_jitter": ["1s", "3s"]},
            "groups": {g: {"name": f"群{g}", "plugins": {"points": None, "checkin": CHECKIN}}
                       for g in groups}}


async def until_sent(chat: FakeChat) -> list:
    """Let simulated time pass until the outbox is empty; what went out meanwhile."""
    sent = []
    for _ in range(1000):
        if not chat.runtime.outbox.pending:
            return sent
        sent += await chat.advance("3s")
    raise AssertionError("the outbox never emptied")


def ranks(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"今天第 (\d+) 位", text)]


async def test_a_hundred_member_rush_goes_out_in_a_handful_of_messages(on_both):
    chat = await on_both(config("g"))
    members = [f"m{n:03d}" for n in range(100)]
    sent = []
    for member in members:
        sent += await chat.say(member, "打卡")
    sent += await until_sent(chat)
    # The first few go out at once (the budget's burst); the rest wait, and merge.
    assert len(sent) <= 12  # 5 alone, then up to 20 a message (fewer when lines are long)
    mentioned = [m for message in sent for m in message.mentions]
    assert sorted(mentioned) == members  # each member mentioned once
    assert [r for message in sent for r in ranks(message.text)] == list(range(1, 101))
    merged = [message for message in sent if len(message.mentions) > 1]
    assert merged and all(len(m.mentions) <= COALESCE_LINES for m in merged)
    assert all(len(m.text) <= MESSAGE_LIMIT for m in sent)
    # Each member's line starts with their own mention, as a member sees it.
    lines = merged[0].render("bot").split(": ", 1)[1].split("\n")
    for line, member in zip([x for x in lines if x.startswith("@")], merged[0].mentions,
                            strict=True):
        assert line.startswith(f"@{member} 打卡成功")


async def test_a_unique_reply_stays_alone_and_keeps_its_place(on_both):
    chat = await on_both(config("g"))
    for n in range(8):
        await chat.say(f"m{n}", "打卡")
    # Queued behind the held check-ins: a reply of another kind (not marked to coalesce).
    await chat.say("m0", "我的打卡")
    for n in range(8, 12):
        await chat.say(f"m{n}", "打卡")
    sent = chat.sent[:]
    sent_after = await until_sent(chat)
    everything = sent + sent_after
    [mine] = [m for m in everything if "今天第" not in m.text]
    assert mine.mentions == ("m0",)  # alone: one mention, its own message
    # The check-ins queued before it went out before it; those after it were merged into
    # the message its elder siblings went out in, never split around it.
    position = everything.index(mine)
    assert [r for m in everything[:position] for r in ranks(m.text)] == list(range(1, 13))


async def test_different_groups_are_never_merged(on_both):
    chat = await on_both(config("a", "b"))
    for n in range(30):
        await chat.say(f"m{n}", "打卡", group="a" if n % 2 else "b")
    sent = chat.sent[:] + await until_sent(chat)
    for message in sent:
        group_of = {f"m{n}": "a" if n % 2 else "b" for n in range(30)}
        assert len({group_of[m] for m in message.mentions}) == 1
        assert chat.chat.find_group(group_of[message.mentions[0]]).id == message.group_id
    assert sorted(m for message in sent for m in message.mentions) == sorted(
        f"m{n}" for n in range(30))
    assert any(len(message.mentions) > 1 for message in sent)


async def test_a_crash_between_send_and_mark_repeats_the_merged_message_whole(tmp_path):
    """The merged message's rows are marked in one commit: after a kill before it, the
    next run sends the same lines again (the README's repeat window), never a part."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    clock = ManualClock(START)
    platform = Platform()
    outbox, db = await _outbox(url, tmp_path, clock, platform)
    for n in range(5):
        outbox.put(Outgoing(text=f"打卡成功 {n}", group_id="g", mentions=(f"m{n}",),
                            coalesce="checkin"))
    outbox.put(Outgoing(text="一条独特的回复", group_id="g", mentions=("m9",)))
    await outbox.flush()  # the rows are written; nothing is sent yet
    assert await outbox.step() == 0  # the merged message goes out; the kill comes now
    [merged] = platform.sent
    assert merged.mentions == ("m0", "m1", "m2", "m3", "m4")
    assert merged.text.split("\n") == [f"打卡成功 {n}" for n in range(5)]
    assert merged.mention_at == tuple(merged.text.index(f"打卡成功 {n}") for n in range(5))
    await db.close()

    again = Platform()
    outbox, db = await _outbox(url, tmp_path, clock, again)
    await outbox.drain()
    assert [m.text for m in again.sent] == [merged.text, "一条独特的回复"]
    async with db.transaction() as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
    assert statuses == ["sent"] * 6
    await db.close()

    third = Platform()
    outbox, db = await _outbox(url, tmp_path, clock, third)
    await outbox.drain()
    assert third.sent == []  # marked: never a third time
    await db.close()


async def test_a_failed_merged_send_is_retried_and_still_sent_once(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    clock = ManualClock(START)
    platform = Platform(down=True)
    outbox, db = await _outbox(url, tmp_path, clock, platform)
    for n in range(3):
        outbox.put(Outgoing(text=f"抢到 {n}", group_id="g", mentions=(f"m{n}",),
                            coalesce="grab"))
    await outbox.drain()
    assert platform.sent == [] and outbox.pending == 3
    platform.down = False
    clock.set(clock.now() + outbox.settings.retry_after)
    await outbox.drain()
    [merged] = platform.sent
    assert merged.mentions == ("m0", "m1", "m2") and outbox.pending == 0
    assert outbox.stats.sent == 1 and outbox.stats.coalesced == 2
    await db.close()


async def test_long_replies_are_not_merged(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    clock = ManualClock(START)
    platform = Platform()
    outbox, db = await _outbox(url, tmp_path, clock, platform, burst=1)
    outbox.put(Outgoing(text="先到的", group_id="g", mentions=("m0",), coalesce="checkin"))
    for n in range(1, 4):
        outbox.put(Outgoing(text="长" * 400, group_id="g", mentions=(f"m{n}",),
                            coalesce="checkin"))
    for _ in range(10):
        await outbox.drain()
        clock.set(clock.now() + timedelta(seconds=1))
    assert [len(m.mentions) for m in platform.sent] == [1, 1, 1, 1]
    await db.close()


async def test_replies_set_aside_with_their_room_are_never_merged_into_a_later_send(tmp_path):
    """A room's lease moved away (issue 18): its queued replies are the new holder's to
    send. A reply queued for that room later here must go out alone, not with them."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    platform = Platform()
    outbox, db = await _outbox(url, tmp_path, ManualClock(START), platform)
    for n in range(3):
        outbox.put(Outgoing(text=f"打卡成功 {n}", group_id="g", mentions=(f"m{n}",),
                            coalesce="checkin"))
    outbox.set_aside({"g"})
    assert outbox.pending == 0
    outbox.put(Outgoing(text="打卡成功 9", group_id="g", mentions=("m9",), coalesce="checkin"))
    await outbox.drain()
    assert [(m.text, m.mentions) for m in platform.sent] == [("打卡成功 9", ("m9",))]
    await db.close()
