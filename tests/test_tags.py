"""Member tags (issue 17, point 1): admins tag and untag, /标签 lists, automatic tags from
the bot's records, the join questionnaire, posts that @ only a tag, the digest's counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.app import PLUGINS as ALL
from bot.config import ConfigError, load_config
from bot.plugin import DigestQuery
from bot.testing import texts, write_config
from plugins.tags.digest import contribute

QUESTIONS = [
    {"text": "你是怎么找到我们的？", "choices": [{"text": "朋友推荐", "tag": "朋友推荐"},
                                            {"text": "公众号", "tag": "公众号"}]},
    {"text": "你的身份？", "choices": ["宝妈", "学生", "上班族"]},
]


def _config(tags: dict | None = None, **plugins: dict) -> dict:
    return {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["bob"],
                             "plugins": {"tags": tags or {}, **plugins}}}}


async def test_admins_tag_untag_and_list_members_by_tag(make_chat, database_url):
    chat = await make_chat(_config(), database_url=database_url)
    for member in ("carol", "dave", "erin"):
        await chat.say(member, "大家好")
    assert texts(await chat.say("bob", "标签 @carol @dave 新人 宝妈")) == [
        "已给 carol、dave 加上标签：新人、宝妈"]
    await chat.say("alice", "标签 @erin 新人")
    [listing] = await chat.say("alice", "/标签 新人")
    assert listing.text == "标签「新人」共 3 人：carol、dave、erin"
    assert texts(await chat.say("bob", "去标签 @carol 新人")) == ["已去掉 carol 的标签：新人"]
    assert "共 2 人：dave、erin" in texts(await chat.say("bob", "/标签 新人"))[0]
    assert "carol 的标签：宝妈" in texts(await chat.say("bob", "标签 @carol"))[0]
    overview = texts(await chat.say("bob", "/标签"))[0]
    assert overview.startswith("本群标签：宝妈 2 · 新人 2")
    # Members may not tag; automatic tags cannot be set by hand.
    assert "新人" not in " ".join(texts(await chat.say("carol", "标签 @dave 新人")))
    assert "自动标签" in texts(await chat.say("bob", "标签 @dave 潜水"))[0]
    # Someone who leaves loses their tags: a tagged post must not @ them.
    await chat.leave("dave")
    assert texts(await chat.say("bob", "/标签 宝妈")) == ["标签「宝妈」共 1 人：carol"]


async def test_automatic_tags_come_from_activity_checkins_and_blackroom(make_chat, database_url):
    config = _config({"streak_days": 3}, checkin={}, moderation={})
    chat = await make_chat(config, now="2026-11-20 09:00", database_url=database_url)
    await chat.join("lurky")
    for day in (20, 21, 22):
        await chat.advance_to(f"2026-11-{day} 10:00")
        await chat.say("carol", "打卡 读了十页")
    now = chat.clock.now()
    async with chat.runtime.services.db.transaction() as session:  # as moderation puts it
        await chat.runtime.services.blackroom.put(session, "g", "dave", now + timedelta(days=1),
                                                  "rule.flood", "moderation", now=now,
                                                  name="dave")
    assert texts(await chat.say("bob", "/标签 连续打卡")) == ["标签「连续打卡」共 1 人：carol"]
    assert texts(await chat.say("bob", "/标签 潜水"))[0].startswith("标签「潜水」共")
    assert "lurky" in texts(await chat.say("bob", "/标签 潜水"))[0]
    assert "dave" in texts(await chat.say("bob", "/标签 小黑屋"))[0]
    mine = texts(await chat.say("bob", "标签 @carol"))[0]
    assert "连续打卡" in mine and "普通" in mine
    await chat.advance("2d")  # carol's streak is broken
    assert texts(await chat.say("bob", "/标签 连续打卡")) == ["还没有成员带标签「连续打卡」。"]


async def test_join_questionnaire_tags_answers_and_lets_unanswered_lapse(make_chat, database_url):
    chat = await make_chat(_config({"questions": QUESTIONS}), database_url=database_url)
    [asked] = await chat.join("carol")
    assert asked.mentions == ("carol",)
    assert "你是怎么找到我们的？\n1. 朋友推荐\n2. 公众号" in asked.text
    [second] = await chat.say("carol", "2")
    assert "你的身份？\n1. 宝妈\n2. 学生\n3. 上班族" in second.text
    assert texts(await chat.say("carol", "9")) == []  # not a choice: nothing happens
    assert texts(await chat.say("carol", "1")) == ["谢谢 carol！已记下：公众号、宝妈"]
    assert texts(await chat.say("carol", "1")) == []  # done: numbers are just chat again
    await chat.join("dave")
    assert await chat.advance("2d") == []  # no nagging
    assert texts(await chat.say("dave", "1")) == []  # lapsed: no tag
    assert texts(await chat.say("bob", "标签 @dave")) == ["dave 的标签：普通"]  # automatic only


async def test_an_answer_after_a_restart_still_counts(make_chat, started_chats, database_url):
    chat = await make_chat(_config({"questions": QUESTIONS[:1]}), database_url=database_url)
    await chat.join("carol")
    chat = await chat.restart("1h")
    started_chats.append(chat)
    assert texts(await chat.say("carol", "１")) == ["谢谢 carol！已记下：朋友推荐"]


async def test_timed_posts_and_briefings_mention_only_a_tag_in_batches(make_chat, database_url):
    config = _config(
        {"batch": 2},
        timed_posts={"posts": [{"at": "20:00", "text": "宝妈专场：亲子共读", "tags": ["宝妈"]},
                               {"at": "21:00", "text": "学生专场", "tags": ["学生"]}]},
    )
    chat = await make_chat(config, now="2026-11-23 19:00", database_url=database_url)
    await chat.say("bob", "标签 @carol @dave @erin 宝妈")
    await chat.say("bob", "标签 @frank 上班族")
    sent = await chat.advance_to("2026-11-23 22:00")
    assert [(d.text, d.mentions) for d in sent] == [
        ("宝妈专场：亲子共读", ("carol", "dave")), ("↑ 宝妈", ("erin",))]  # 学生: nobody


async def test_checkin_reminders_can_go_to_a_tag_only(make_chat, database_url):
    config = _config({}, checkin={"reminder_at": "21:00"})
    config["groups"]["g"]["plugins"]["checkin"]["reminder_tags"] = ["宝妈"]
    chat = await make_chat(config, now="2026-11-23 09:00", database_url=database_url)
    for member, note in (("carol", "读了十页"), ("dave", "跑了五公里"), ("erin", "背了单词")):
        await chat.say(member, f"打卡 {note}")
    await chat.say("bob", "标签 @carol @erin 宝妈")
    await chat.advance_to("2026-11-24 20:00")
    [reminder] = await chat.advance_to("2026-11-24 21:30")
    assert reminder.mentions == ("carol", "erin")  # dave has not checked in either, untagged


def test_config_check_catches_bad_tag_settings(tmp_path):
    bad = [
        {"tags": {"questions": [QUESTIONS[0]] * 4}},  # at most three
        {"tags": {"questions": [{"text": "?", "choices": ["只有一个"]}]}},
        {"tags": {"questions": [{"text": "?", "choices": ["宝妈", "宝妈"]}]}},
        {"tags": {"answer_within": "1m"}},
        {"timed_posts": {"posts": [{"at": "20:00", "text": "x", "tags": ["有 空格"]}]}},
        {"briefing": {"tags": ["@x"]}},
    ]
    for plugins in bad:
        path = write_config(tmp_path, {"groups": {"g": {"name": "g", "plugins": plugins}}})
        with pytest.raises(ConfigError):
            load_config(path, ALL)


async def test_digest_counts_members_per_tag(make_chat, database_url):
    chat = await make_chat(_config(), database_url=database_url)
    await chat.say("bob", "标签 @carol @dave 宝妈")
    await chat.say("bob", "标签 @carol 新人")
    async with chat.runtime.services.db.transaction() as session:
        found = await contribute(session, DigestQuery(("g",), (date(2026, 11, 23),)))
    assert found.notes == {"g": ["成员标签：宝妈 2 · 新人 1"]}


async def test_a_briefing_with_tags_mentions_only_those_members(make_chat, tmp_path,
                                                                database_url):
    (tmp_path / "config" / "briefing").mkdir(parents=True)
    (tmp_path / "config" / "briefing" / "day.yaml").write_text(
        "days:\n  2026-11-23:\n    items: [今晚亲子共读]\n", encoding="utf-8")
    config = _config({}, briefing={"files": ["briefing/day.yaml"], "tags": ["上班族"]})
    chat = await make_chat(config, now="2026-11-23 08:00", database_url=database_url)
    await chat.say("bob", "标签 @frank @gina 上班族")
    await chat.say("bob", "标签 @carol 宝妈")
    [briefing] = await chat.advance_to("2026-11-23 09:30")
    assert "今晚亲子共读" in briefing.text and briefing.mentions == ("frank", "gina")


async def test_tags_speak_english_in_an_english_group(make_chat):
    config = _config({"questions": [{"text": "How did you find us?",
                                     "choices": [{"text": "A friend", "tag": "friend"},
                                                 "newsletter"]}]})
    config["groups"]["g"]["language"] = "en"
    chat = await make_chat(config)
    [asked] = await chat.join("carol")
    assert asked.text.startswith("Welcome, carol! A quick question (reply with a number):")
    assert texts(await chat.say("carol", "2")) == ["Thanks, carol! Noted: newsletter"]
    assert texts(await chat.say("bob", "/tag lurker")) == ["No member has the tag “lurker” yet."]
    assert texts(await chat.say("bob", "/tag newsletter")) == ["Tag “newsletter” (1): carol"]
