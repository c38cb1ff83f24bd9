"""Issue 11, the core's side: what the dispatcher, activity and plugins do with what a real
WeChat gateway sends — message kinds, quotes, @所有人, announcements and late messages."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.activity import ActivityDaily, ActivityWord
from bot.app import PLUGINS as ALL
from bot.context import Context
from bot.events import Link, MessageKind, Notice, Quote, SharedFile
from bot.plugin import Plugin, Router
from bot.testing import FakeChat, texts

ROOT = Path(__file__).resolve().parents[1]
STICKER_XML = ('<msg><emoji fromusername="wxid_abc123" cdnurl="http://emoji.qpic.cn/x" '
               'md5="0f"/></msg>')


def _probe() -> tuple[Plugin[Any], list[tuple[str, str, str]]]:
    """A plugin that notes which phase saw what (phase, kind, text) and answers each call."""
    seen: list[tuple[str, str, str]] = []
    router = Router()

    @router.guard
    async def watch(ctx: Context[Any]) -> bool:
        seen.append(("guard", ctx.message.kind.value, ctx.message.text))
        return False

    @router.command("ping", "ping")
    async def ping(ctx: Context[Any]) -> None:
        seen.append(("command", ctx.message.kind.value, ctx.args))
        await ctx.reply("pong " + ctx.local_now.strftime("%H:%M"))

    @router.passive
    async def echo(ctx: Context[Any]) -> bool:
        seen.append(("passive", ctx.message.kind.value, ctx.message.text))
        await ctx.reply("echo " + ctx.message.text)
        return True

    return Plugin(name="probe", title="探针", routers=[router]), seen


PROBE_CONFIG = {"groups": {"g": {"name": "读书会", "plugins": {"probe": None}}}}


async def _probe_chat(make_chat, **options: Any) -> tuple[FakeChat, list[tuple[str, str, str]]]:
    probe, seen = _probe()
    chat = await make_chat(PROBE_CONFIG, plugins=(*ALL, probe), **options)
    return chat, seen


async def _activity(chat: FakeChat) -> dict[tuple[str, date], tuple[int, int, int, int]]:
    await chat.runtime.activity.flush()
    async with chat.runtime.db.transaction() as session:
        rows = (await session.scalars(select(ActivityDaily))).all()
    return {(r.member_id, r.day): (r.messages, r.characters, r.commands, r.mentions_received)
            for r in rows}


# -- kinds ------------------------------------------------------------------------------------

NOT_TYPED = [
    (MessageKind.STICKER, None),
    (MessageKind.IMAGE, None),
    (MessageKind.VOICE, None),
    (MessageKind.VIDEO, None),
    (MessageKind.LINK, Link(title="/ping 三体", url="https://mp.weixin.qq.com/s/x")),
    (MessageKind.FILE, SharedFile(name="ping.pdf", size=10)),
    (MessageKind.MINI_PROGRAM, None),
    (MessageKind.CARD, None),
    (MessageKind.LOCATION, None),
    (MessageKind.UNKNOWN, None),
]


@pytest.mark.parametrize(("kind", "content"), NOT_TYPED)
async def test_a_message_nobody_typed_reaches_guards_only(make_chat, kind, content):
    chat, seen = await _probe_chat(make_chat)
    # Even if an adapter left raw XML or a command-like title in `text`, it is not typed.
    for text in ("", STICKER_XML, "/ping", "@小助手 怎么退群"):
        assert await chat.say("alice", text, kind=kind, content=content) == []
    assert {phase for phase, _, _ in seen} == {"guard"}  # guards still see every one
    assert await _activity(chat) == {("alice", date(2026, 11, 23)): (4, 0, 0, 0)}


@pytest.mark.parametrize("kind", [MessageKind.SYSTEM, MessageKind.PAT, MessageKind.RECALL])
async def test_notices_pats_and_recalls_are_never_answered_or_shown_to_guards(make_chat, kind):
    chat, seen = await _probe_chat(make_chat)
    notice = Notice(text="alice 拍了拍 小助手 /ping", actor_id="alice", target_id="bot")
    assert await chat.say("alice", "/ping", kind=kind, content=notice) == []
    assert seen == []
    counted = await _activity(chat)
    # A pat is something the patter did; WeChat's notices and recalls are nobody's message.
    assert counted == ({("alice", date(2026, 11, 23)): (1, 0, 0, 0)}
                       if kind is MessageKind.PAT else {})


async def test_a_quote_runs_the_command_in_its_reply_never_the_quoted_text(make_chat):
    chat, seen = await _probe_chat(make_chat)
    quoted = Quote(author="bob", quoted="/ping 原文", author_id="bob")
    [pong] = await chat.say("alice", "/ping 回复", kind="quote", content=quoted)
    assert pong.text == "pong 08:00" and seen[-1] == ("command", "quote", "回复")
    # The quoted text is not a command and not the quoter's words.
    [echo] = await chat.say("alice", "谢谢", kind="quote",
                            content=Quote(author="bob", quoted="/ping"))
    assert echo.text == "echo 谢谢"
    assert await _activity(chat) == {("alice", date(2026, 11, 23)): (2, 10, 1, 0)}


async def test_the_digest_words_come_from_typed_text_only(make_chat):
    chat = await make_chat({"groups": {"g": {"name": "读书会"}}})
    for _ in range(3):
        await chat.say("alice", STICKER_XML, kind="sticker")
        await chat.say("alice", "", kind="link",
                       content=Link(title="fromusername emoji", url="http://x.cn"))
        await chat.say("bob", "三体真好看", kind="quote", content=Quote(author="a", quoted="msg"))
    await chat.runtime.activity.flush()
    async with chat.runtime.db.transaction() as session:
        words = set((await session.scalars(select(ActivityWord.word))).all())
    assert words == {"三体", "好看"}


# -- @所有人 and announcements -------------------------------------------------------------------

@pytest.fixture
def faq_dir(tmp_path):
    target = tmp_path / "config" / "faq"
    target.mkdir(parents=True)
    shutil.copy(ROOT / "config/faq/reading-club.yaml", target)
    return target


QA_CONFIG = {"groups": {"g": {"name": "读书会", "admins": ["adam"], "plugins": {
    "qa": {"faq_files": ["faq/reading-club.yaml"]}}}}}


async def test_at_all_is_not_a_question_to_the_bot_nor_a_mention_of_everyone(
        make_chat, faq_dir):
    chat = await make_chat(QA_CONFIG)
    for member in ("bob", "carol", "dave"):
        await chat.say(member, "早")
    assert await chat.say("adam", "@所有人 周末有人一起爬山吗") == []
    assert await chat.say("adam", "@所有人 @小助手 请问怎么退出这个群") == []
    [listed] = await chat.say("adam", "待答")
    assert listed.text == "没有待答的问题。"
    counted = await _activity(chat)
    assert {member for member, _ in counted} == {"adam", "bob", "carol", "dave"}  # no phantom
    assert all(mentions == 0 for *_, mentions in counted.values())


async def test_an_announcement_is_counted_but_never_answered(make_chat):
    chat, seen = await _probe_chat(make_chat)
    assert await chat.say("alice", "/ping 群公告：周六停更", announcement=True) == []
    assert await chat.say("alice", "@所有人 群公告：周六停更", announcement=True) == []
    assert [phase for phase, _, _ in seen] == ["guard", "guard"]
    assert await _activity(chat) == {("alice", date(2026, 11, 23)): (2, 27, 1, 0)}


# -- message time -----------------------------------------------------------------------------

CHECKIN = {"groups": {"g": {"name": "读书会", "plugins": {
    "points": None, "checkin": {"points": 5, "reminder_at": None}}}}}


async def _checkin_days(chat: FakeChat) -> list[tuple[str, date]]:
    from plugins.checkin.models import CheckinRecord

    async with chat.runtime.db.transaction() as session:
        rows = (await session.scalars(select(CheckinRecord))).all()
    return sorted((r.member_id, r.day) for r in rows)


async def test_a_backlog_message_older_than_the_grace_is_counted_on_its_day_but_not_run(
        make_chat, database_url):
    chat = await make_chat(CHECKIN, now="2026-11-25 09:00", database_url=database_url)
    assert await chat.say("alice", "打卡", ago="36h") == []
    assert await _checkin_days(chat) == []
    assert await _activity(chat) == {("alice", date(2026, 11, 23)): (1, 2, 1, 0)}
    [today] = await chat.say("alice", "打卡")  # today's own check-in is untouched
    assert "打卡成功" in today.text or "第 1" in today.text
    assert await _checkin_days(chat) == [("alice", date(2026, 11, 25))]


async def test_a_late_message_within_the_grace_is_handled_as_of_when_it_was_sent(
        make_chat, database_url):
    chat = await make_chat(CHECKIN, now="2026-11-24 00:02", database_url=database_url)
    [reply] = await chat.say("alice", "打卡", ago="5m")  # sent 23:57 on the 23rd
    assert await _checkin_days(chat) == [("alice", date(2026, 11, 23))]
    assert await _activity(chat) == {("alice", date(2026, 11, 23)): (1, 2, 1, 0)}
    [again] = await chat.say("alice", "打卡")  # the 24th is a new day
    assert await _checkin_days(chat) == [("alice", date(2026, 11, 23)),
                                         ("alice", date(2026, 11, 24))]
    assert reply.text != again.text


async def test_the_grace_window_is_configurable_and_ctx_now_is_the_sent_time(make_chat):
    probe, seen = _probe()
    config = {**PROBE_CONFIG, "limits": {"late_grace": "1h"}}
    chat = await make_chat(config, plugins=(*ALL, probe), now="2026-11-23 10:00")
    assert texts(await chat.say("alice", "ping", ago="50m")) == ["pong 09:10"]
    assert await chat.say("alice", "ping", ago="61m") == []
    assert await chat.say("alice", "你好", ago="2h") == []  # passives neither
    assert [phase for phase, _, _ in seen] == ["guard", "command"]


# -- a real passive: quiz answers ----------------------------------------------------------------

CAPITAL_BANK = """\
name: 测试
questions:
  - q: 中国的首都是哪座城市？
    answers: [北京]
"""


async def test_only_typed_words_answer_a_quiz_question(make_chat, tmp_path):
    (tmp_path / "config" / "quiz").mkdir(parents=True)
    (tmp_path / "config" / "quiz" / "test.yaml").write_text(CAPITAL_BANK, encoding="utf-8")
    chat = await make_chat({"groups": {"g": {"name": "读书会", "plugins": {
        "quiz": {"banks": ["quiz"], "questions": 1}, "points": {}}}}})
    assert "首都" in texts(await chat.say("carol", "答题"))[-1]
    assert await chat.say("dan", "北京", kind="link", content=Link(title="北京")) == []
    assert await chat.say("dan", "北京", kind="sticker") == []
    assert await chat.say("dan", "北京", announcement=True) == []
    quoting_the_answer = Quote(author="x", quoted="北京")
    assert await chat.say("dan", "哈哈", kind="quote", content=quoting_the_answer) == []
    [won, *_] = await chat.say("erin", "北京", kind="quote", content=Quote(author="x", quoted="?"))
    assert "erin 答对了" in won.text
