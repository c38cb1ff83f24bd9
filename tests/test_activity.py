"""Activity counters: counted in memory, written in batches, nothing lost."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.activity import ActivityDaily

CONFIG = {"groups": {"g": {"name": "读书会"},
                     "l": {"name": "London", "timezone": "Europe/London"}}}


async def _rows(chat) -> dict[tuple[str, str, date], tuple[int, int, int, int, str]]:
    async with chat.runtime.db.transaction() as session:
        rows = (await session.scalars(select(ActivityDaily))).all()
    return {(r.group_id, r.member_id, r.day): (r.messages, r.characters, r.commands,
                                               r.mentions_received, r.name) for r in rows}


async def test_messages_are_counted_in_memory_then_written_in_one_batch(make_chat):
    chat = await make_chat(CONFIG, now="2026-11-23 10:00")
    await chat.say("alice", "大家好")
    await chat.say("alice", "/help")
    await chat.say("bob", "@alice 你好")
    assert await _rows(chat) == {}  # no write per message
    await chat.runtime.activity.flush()
    day = date(2026, 11, 23)
    assert await _rows(chat) == {
        ("g", "alice", day): (2, 8, 1, 1, "alice"),
        ("g", "bob", day): (1, 9, 0, 0, "bob"),
    }


async def test_counts_add_up_across_flushes_and_survive_a_restart(make_chat):
    chat = await make_chat(CONFIG, now="2026-11-23 10:00")
    await chat.say("alice", "一")
    await chat.runtime.activity.flush()
    await chat.say("alice", "二三")
    chat = await chat.restart()  # stopping writes what is pending
    assert await _rows(chat) == {("g", "alice", date(2026, 11, 23)): (2, 3, 0, 0, "alice")}


async def test_days_are_the_groups_local_days(make_chat):
    chat = await make_chat(CONFIG, now="2026-11-24 02:00")  # Shanghai; 18:00 the 23rd in London
    await chat.say("amy", "hi", group="London")
    await chat.say("alice", "早")
    await chat.runtime.activity.flush()
    assert set(await _rows(chat)) == {("l", "amy", date(2026, 11, 23)),
                                      ("g", "alice", date(2026, 11, 24))}


async def test_a_failed_write_keeps_the_counts_for_the_next_one(make_chat, monkeypatch):
    chat = await make_chat(CONFIG, now="2026-11-23 10:00")
    await chat.say("alice", "一")
    db = chat.runtime.db
    real = db.transaction

    def broken():
        raise OSError("disk full")

    monkeypatch.setattr(db, "transaction", broken)
    with pytest.raises(OSError):
        await chat.runtime.activity.flush()
    monkeypatch.setattr(db, "transaction", real)
    await chat.say("alice", "二")
    await chat.runtime.activity.flush()
    assert (await _rows(chat))[("g", "alice", date(2026, 11, 23))][:2] == (2, 2)
