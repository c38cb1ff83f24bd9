"""Answering @-mentions from the FAQ; teaching, forgetting, and the guards against loops."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from bot.app import load
from bot.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def config(**qa: object) -> dict:
    return {"groups": {"g": {"name": "读书会", "admins": ["adam"], "plugins": {
        "qa": {"faq_files": ["faq/reading-club.yaml"], **qa}}}}}


@pytest.fixture
def faq_dir(tmp_path):
    target = tmp_path / "config" / "faq"
    target.mkdir(parents=True)
    shutil.copy(ROOT / "config/faq/reading-club.yaml", target)
    return target


async def test_a_question_to_the_bot_is_answered_with_a_mention(make_chat, faq_dir):
    chat = await make_chat(config())
    [reply] = await chat.say("carol", "@小助手 请问怎么退出这个群")
    assert reply.mentions == ("carol",)
    assert "删除并退出" in reply.text and "carol，有建议" in reply.text  # {name} filled
    assert await chat.say("carol", "怎么退群") == []  # not addressed to the bot


async def test_an_unknown_question_is_recorded_and_a_taught_answer_closes_it(make_chat, faq_dir):
    chat = await make_chat(config(mention_admins_when_unsure=True))
    [unsure] = await chat.say("carol", "@小助手 周末有人一起爬山吗")
    assert "还不会回答" in unsure.text and unsure.mentions == ("carol", "adam")
    [listed] = await chat.say("adam", "待答")
    assert "1. 周末有人一起爬山吗" in listed.text
    [taught] = await chat.say("adam", "教 周末爬山 => 周末户外活动请看群公告")
    assert "关闭了 1 个待答问题" in taught.text
    [answer] = await chat.say("dave", "@小助手 周末去爬山吗")
    assert answer.text == "周末户外活动请看群公告"
    [empty] = await chat.say("adam", "待答")
    assert empty.text == "没有待答的问题。"


async def test_forgetting_a_taught_answer(make_chat, faq_dir):
    chat = await make_chat(config())
    await chat.say("adam", "教 停车 => 图书馆地下车库免费")
    [done] = await chat.say("adam", "忘记 停车")
    assert "已忘记" in done.text
    [unsure] = await chat.say("carol", "@小助手 停车")
    assert "还不会" in unsure.text
    [none] = await chat.say("adam", "忘记 停车")
    assert "没有教过" in none.text


async def test_teaching_needs_the_arrow_and_an_admin(make_chat, faq_dir):
    chat = await make_chat(config())
    [usage] = await chat.say("adam", "教 没有箭头的句子")
    assert "用法" in usage.text
    [refused] = await chat.say("carol", "教 a => b")
    assert "只有管理员" in refused.text


async def test_the_same_question_within_a_minute_gets_a_pointer(make_chat, faq_dir):
    chat = await make_chat(config())
    await chat.say("carol", "@小助手 群规是什么")
    [pointer] = await chat.say("dave", "@小助手 群规在哪里看？")
    assert "刚刚回答过" in pointer.text
    await chat.advance("61s")
    [again] = await chat.say("dave", "@小助手 群规在哪里看？")
    assert "只聊读书相关" in again.text


async def test_a_looping_asker_and_the_hourly_limit_stop_the_bot(make_chat, faq_dir):
    chat = await make_chat(config(loop_guard_per_minute=3, answers_per_hour=5,
                                  repeat_window="1s"))
    questions = ["怎么退群", "群规是什么", "怎么打卡", "可以补签吗", "有书单吗"]
    replies = [await chat.say("otherbot", f"@小助手 {q}") for q in questions]
    assert [len(r) for r in replies] == [1, 1, 1, 0, 0]  # a fourth in a minute: silence
    await chat.advance("61s")
    assert len(await chat.say("carol", "@小助手 有书单吗")) == 1
    assert len(await chat.say("dave", "@小助手 要交钱吗")) == 1
    assert await chat.say("erin", "@小助手 线下活动什么时候") == []  # 5 answers this hour


async def test_english_groups(make_chat, faq_dir):
    chat = await make_chat({"groups": {"g": {"name": "Corner", "language": "en", "plugins": {
        "qa": {"faq_files": ["faq/reading-club.yaml"]}}}}})
    [reply] = await chat.say("amy", "@小助手 what is the weather")
    assert reply.text.startswith("I can't answer that yet")


def test_a_broken_faq_file_is_reported_by_config_check(tmp_path, faq_dir):
    (faq_dir / "broken.yaml").write_text("entries:\n  - questions: []\n    answer: x\n",
                                         encoding="utf-8")
    (tmp_path / "bot.yaml").write_text(
        "groups:\n  g:\n    name: a\n    plugins:\n      qa:\n"
        "        faq_files: [faq/broken.yaml, faq/missing.yaml]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "bot.yaml")
    problems = [str(p) for p in caught.value.issues]
    assert any("faq/broken.yaml:2: entries.0.questions" in p for p in problems)
    assert any("faq/missing.yaml: 找不到文件" in p for p in problems)


def test_retrieval_on_the_labelled_set_is_above_the_stated_threshold():
    sys.path.insert(0, str(ROOT / "bench"))
    from qa_eval import evaluate

    result = evaluate(0.5)
    assert result["questions"] >= 50
    assert result["precision"] >= 0.9 and result["recall"] >= 0.75, result["misses"]


async def test_tagged_entries_of_a_shared_file_reach_only_groups_with_that_tag(make_chat, faq_dir):
    (faq_dir / "shared.yaml").write_text(
        "entries:\n"
        "  - {questions: [跑步路线在哪], answer: 沿河绿道 10 公里, tags: [running]}\n"
        "  - {questions: [周末活动有哪些], answer: 看群公告}\n", encoding="utf-8")
    shared = {"qa": {"faq_files": ["faq/shared.yaml"]}}
    chat = await make_chat({"groups": {
        "run": {"name": "跑步群", "tags": ["running"], "plugins": shared},
        "read": {"name": "读书会", "tags": ["reading"], "plugins": shared}}})
    [runners] = await chat.say("amy", "@小助手 跑步路线在哪", group="跑步群")
    [readers] = await chat.say("bo", "@小助手 跑步路线在哪", group="读书会")
    assert runners.text == "沿河绿道 10 公里" and "还不会" in readers.text
    [both] = await chat.say("bo", "@小助手 周末活动有哪些", group="读书会")
    assert both.text == "看群公告"
