"""Chinese input through the whole bot (issue 13): every form members type is understood,
by every plugin, through bot/input.py."""

from __future__ import annotations

import pytest

from bot import ledger
from bot.testing import FakeChat
from plugins.checkin.models import CheckinRecord

NOW = "2026-11-23 15:00"  # a Monday
CONFIG = {"groups": {
    "g": {"name": "读书会", "owner": "alice", "admins": ["bob"], "plugins": {
        "checkin": {"reminder_at": None, "comeback": {"bonus": 0}},
        "points": {}, "redpacket": {}, "lottery": {}, "minigames": {}}},
}}


async def balance(chat: FakeChat, member: str) -> int:
    async with chat.runtime.db.transaction() as session:
        return await ledger.balance(session, chat.group, member)


async def grant(chat: FakeChat, member: str, amount: int) -> None:
    await chat.say("bob", f"/加分 @{member} {amount}")


@pytest.mark.parametrize("message", ["打卡：今天读了10页", "打卡:今天读了10页",
                                     "打卡，今天读了10页", "打卡,今天读了10页",
                                     "打卡~今天读了10页", "打卡～今天读了10页",
                                     "#打卡 今天读了10页", "＃打卡：今天读了10页",
                                     "【打卡】今天读了10页", "【打卡】 今天读了10页"])
async def test_keyword_command_forms_are_commands(make_chat, message: str) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [reply] = await chat.say("amy", message)
    assert reply.text.startswith("打卡成功")
    async with chat.runtime.db.transaction() as session:
        record = await session.get(CheckinRecord, 1)
    assert record is not None and record.note == "今天读了10页"


@pytest.mark.parametrize("message", ["#打卡", "【打卡】", "＃打卡"])
async def test_wrapped_command_words_alone(make_chat, message: str) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    [reply] = await chat.say("amy", message)
    assert reply.text.startswith("打卡成功")


async def test_chat_that_merely_starts_like_a_command_word_is_not_one(make_chat) -> None:
    chat = await make_chat(CONFIG, now=NOW)
    assert await chat.say("amy", "打卡片：在哪里买") == []
    assert await chat.say("amy", "#读书 今天") == []
    assert await chat.say("amy", "【公告】今晚停电") == []
