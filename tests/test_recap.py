"""The daily recap (issue 17, point 3): yesterday's most replied-to and quoted messages,
answered questions, check-ins and best notes, quiz winners — by rules, at most N lines,
each credited with @ — and today's events from events.yaml, announced 30 minutes ahead."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import PLUGINS as ALL
from bot.config import ConfigError, load_config
from bot.events import MessageKind, Quote
from bot.plugin import DigestQuery
from bot.testing import texts, write_config
from plugins.quiz.models import QuizAsked
from plugins.recap.digest import contribute

ROOT = Path(__file__).resolve().parents[1]

EVENTS = """\
events:
  - {date: 2026-11-24, time: "19:00", title: 线上读书分享会, link: "https://example.org/live"}
  - {date: 2026-11-24, time: "21:00", title: 别的群的活动, groups: [其他群]}
  - {date: 2026-11-25, time: "20:00", title: 明天的活动}
"""


def _config(**recap: object) -> dict:
    return {"groups": {"g": {"name": "读书会", "owner": "alice", "plugins": {
        "checkin": {}, "qa": {"faq_files": ["faq/reading-club.yaml"]}, "recap": recap}}}}


@pytest.fixture
def content(tmp_path):
    (tmp_path / "config" / "faq").mkdir(parents=True)
    shutil.copy(ROOT / "config/faq/reading-club.yaml", tmp_path / "config" / "faq")
    (tmp_path / "config" / "events.yaml").write_text(EVENTS, encoding="utf-8")
    return tmp_path


async def _a_day_of_chat(chat) -> None:
    """2026-11-23: alice's question is quoted twice and @-replied once; a check-in day; an
    FAQ question; dave wins two quiz questions."""
    await chat.say("alice", "大家觉得《三体》第二部怎么样？")
    quote = Quote(author="alice", author_id="alice", quoted="大家觉得《三体》第二部怎么样？")
    await chat.say("bob", "我最喜欢第二部", kind=MessageKind.QUOTE, content=quote)
    await chat.say("carol", "黑暗森林太震撼", kind=MessageKind.QUOTE, content=quote)
    await chat.say("erin", "@alice 同感")
    await chat.say("bob", "这本书我读了三遍")
    await chat.say("carol", "@bob 厉害")  # one reply: below min_replies
    await chat.say("bob", "打卡 读完第五章，终于理解了猜疑链的逻辑")
    await chat.say("carol", "打卡 第三章")
    await chat.say("erin", "@小助手 请问怎么退出这个群")
    async with chat.runtime.services.db.transaction() as session:
        for n in (1, 2):
            at = chat.clock.now() + timedelta(minutes=n)
            session.add(QuizAsked(round_id=1, group_id="g", position=n, bank="quiz",
                                  question_index=n, question={}, asked_at=at, deadline_at=at,
                                  outcome="answered", winner_id="dave", winner_name="dave",
                                  points=5, closed_at=at))


async def test_the_morning_recap_credits_yesterdays_best_and_previews_today(
        make_chat, content, database_url):
    chat = await make_chat(_config(), now="2026-11-23 09:00", database_url=database_url)
    await _a_day_of_chat(chat)
    [recap] = await chat.advance_to("2026-11-24 08:30")
    assert recap.text.splitlines() == [
        "【昨日回顾】11-23",
        "💬 alice：「大家觉得《三体》第二部怎么样？」（3 条回复）",
        "❓ erin 问：「怎么退群」（已解答）",  # the FAQ wording of her question
        "✅ 昨天 2 人打卡",
        "📝 bob：「读完第五章，终于理解了猜疑链的逻辑」",
        "📝 carol：「第三章」",
        "🏆 dave 答对 2 题",
        "【今日预告】",
        "📅 19:00 线上读书分享会 https://example.org/live",
    ]
    assert recap.mentions == ("alice", "erin", "bob", "carol", "dave")
    [soon] = [d for d in await chat.advance_to("2026-11-24 23:00") if d.text.startswith("⏰")]
    assert soon.text == "⏰ 30 分钟后开始：线上读书分享会 https://example.org/live"
    assert soon.at.strftime("%H:%M") == "18:30"


async def test_at_most_max_lines_and_nothing_when_nothing_happened(make_chat, content):
    chat = await make_chat(_config(max_lines=2, events_file=None), now="2026-11-23 09:00")
    await _a_day_of_chat(chat)
    [recap] = await chat.advance_to("2026-11-24 08:30")
    assert len(recap.text.splitlines()) == 3 and recap.mentions == ("alice", "erin")
    later = await chat.advance_to("2026-11-25 08:30")  # a quiet day: no empty recap
    assert not [d for d in later if "回顾" in d.text]


async def test_a_quiet_day_before_an_event_posts_only_the_preview(make_chat, content):
    chat = await make_chat(_config(), now="2026-11-23 09:00")
    [preview] = [d for d in await chat.advance_to("2026-11-24 08:30") if "预告" in d.text]
    assert preview.text.splitlines() == [
        "【今日预告】", "📅 19:00 线上读书分享会 https://example.org/live"]


async def test_an_event_is_announced_after_a_restart_too(make_chat, started_chats, content):
    chat = await make_chat(_config(), now="2026-11-24 09:00")
    chat = await chat.restart("1h")
    started_chats.append(chat)
    sent = await chat.advance_to("2026-11-24 20:00")
    assert [t for t in texts(sent) if t.startswith("⏰")] == ["⏰ 30 分钟后开始：线上读书分享会 https://example.org/live"]


def test_config_check_validates_the_events_file(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "events.yaml").write_text(
        "events:\n  - {date: 2026-11-31, time: '19:00', title: x}\n", encoding="utf-8")
    path = write_config(tmp_path, {"groups": {"g": {"name": "g", "plugins": {"recap": {}}}}})
    with pytest.raises(ConfigError, match=r"events\.yaml"):
        load_config(path, ALL)
    path = write_config(tmp_path, {"groups": {"g": {"name": "g", "plugins": {
        "recap": {"max_lines": 99}}}}})
    with pytest.raises(ConfigError):
        load_config(path, ALL)


async def test_digest_counts_messages_that_drew_replies(make_chat, content, database_url):
    chat = await make_chat(_config(), now="2026-11-23 09:00", database_url=database_url)
    await _a_day_of_chat(chat)
    async with chat.runtime.services.db.transaction() as session:
        found = await contribute(session, DigestQuery(("g",), (date(2026, 11, 23),)))
    assert found.metrics[0].values == {("g", date(2026, 11, 23)): 2.0}
    assert isinstance(chat.clock.now(), datetime)
