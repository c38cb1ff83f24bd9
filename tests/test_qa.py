"""Answering @-mentions from the FAQ; teaching, forgetting, and the guards against loops."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from bot.app import load
from bot.config import ConfigError
from bot.testing import FakeChat
from plugins.qa.bm25 import BM25
from plugins.qa.matcher import FaqIndex, normalise
from plugins.qa.settings import QaSettings

ROOT = Path(__file__).resolve().parents[1]


def config(**qa: object) -> dict:
    return {"groups": {"g": {"name": "读书会", "admins": ["adam"], "plugins": {
        "qa": {"faq_files": ["faq/reading-club.yaml"], **qa}}}}}


@pytest.fixture
def on_both(make_chat, database_url):
    """Tests that keep state run once on SQLite and once on PostgreSQL."""

    async def start(config: dict, **options: object) -> FakeChat:
        return await make_chat(config, database_url=database_url, **options)

    return start


def running_club(**qa: object) -> dict:
    return {"groups": {"r": {"name": "跑团", "admins": ["leo"], "plugins": {
        "qa": {"faq_files": ["faq/running-club.yaml"], **qa}}}}}


@pytest.fixture
def faq_dir(tmp_path):
    target = tmp_path / "config" / "faq"
    target.mkdir(parents=True)
    shutil.copy(ROOT / "config/faq/reading-club.yaml", target)
    shutil.copy(ROOT / "bench/data/qa/running-club.yaml", target)
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
    [known] = await chat.say("carol", "@小助手 停车")  # the group's answers now in memory
    assert known.text == "图书馆地下车库免费"
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


def test_the_labelled_set_has_two_disjoint_splits_over_several_communities():
    """The figures are the bench's to print (bench/qa_eval.py); this keeps its data honest."""
    import yaml

    sys.path.insert(0, str(ROOT / "bench"))
    from qa_eval import LABELLED, evaluate

    data = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    asked = {split: [q["ask"] for items in data[split].values() for q in items]
             for split in ("tuning", "heldout")}
    assert len(asked["tuning"]) + len(asked["heldout"]) >= 200
    assert not set(asked["tuning"]) & set(asked["heldout"])
    assert len(data["faqs"]) >= 3 and set(data["heldout"]) - set(data["tuning"])  # unseen FAQ
    result = evaluate()  # every label names an entry's first question, or it raises
    assert result["tuning"]["questions"] == len(asked["tuning"])
    assert result["heldout"]["in_scope"] < result["heldout"]["questions"]  # some off-topic


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


# --- "刚刚回答过" only for an answer actually given --------------------------------------

async def test_a_second_member_asking_what_nobody_answered_is_not_told_it_was_answered(
        on_both, faq_dir):
    chat = await on_both(config())
    [first] = await chat.say("carol", "@小助手 周末有人一起爬山吗")
    [second] = await chat.say("dave", "@小助手 周末有人一起爬山吗？")
    [third] = await chat.say("erin", "@小助手 周末谁一起去爬山")
    for reply in (first, second, third):
        assert "还不会回答" in reply.text and "刚刚回答过" not in reply.text
    [listed] = await chat.say("adam", "待答")
    assert "1. 周末有人一起爬山吗" in listed.text and "3. 周末谁一起去爬山" in listed.text
    # An answer that was given is still pointed to, for any wording of the same question.
    await chat.say("carol", "@小助手 群规是什么")
    [pointer] = await chat.say("dave", "@小助手 群里有啥规矩")
    assert "刚刚回答过" in pointer.text
    # ... and a question the FAQ can't answer, right after one it could, is not "answered".
    [unknown] = await chat.say("erin", "@小助手 群里有多少人")
    assert "还不会回答" in unknown.text


async def test_a_question_held_back_by_the_hourly_limit_was_not_answered(on_both, faq_dir):
    chat = await on_both(config(answers_per_hour=1))
    [answered] = await chat.say("carol", "@小助手 怎么退群")
    assert "删除并退出" in answered.text
    assert await chat.say("dave", "@小助手 群规是什么") == []  # the limit: silent
    await chat.advance("61m")
    [rules] = await chat.say("erin", "@小助手 群规是什么")
    assert "只聊读书相关" in rules.text  # not "just answered": dave got nothing


# --- a topic word alone is not an answer -------------------------------------------------

@pytest.mark.parametrize(("group", "question"), [
    ("跑团", "跑团口号是什么"), ("跑团", "跑团的微信公众号叫什么"), ("跑团", "跑团有多少人"),
    ("读书会", "读书会成立几年了"), ("读书会", "读书会的logo是谁设计的"),
])
async def test_a_topic_word_alone_does_not_answer_an_unrelated_question(
        make_chat, faq_dir, group, question):
    chat = await make_chat({"groups": {
        "g": config()["groups"]["g"], **running_club()["groups"]}})
    [reply] = await chat.say("amy", f"@小助手 {question}", group=group)
    assert "还不会回答" in reply.text, reply.text
    await chat.advance("61s")
    [fee] = await chat.say("amy", "@小助手 跑团收费吗", group="跑团")  # the real question
    assert "会费每年 100 元" in fee.text


def test_a_question_only_about_the_groups_own_topic_is_still_answered():
    # In 早起打卡群, 打卡 is the group's topic, and also what the member asks about.
    index = FaqIndex([("怎么打卡", 0), ("打卡有积分吗", 1), ("群规是什么", 2)], topic="早起打卡群")
    assert (m := index.best("打卡怎么打")) is not None and m.entry == 0
    assert (m := index.best("打卡口号是什么")) is None or m.coverage == 0


async def test_only_when_or_where_in_common_is_no_answer(make_chat, faq_dir):
    chat = await make_chat(config())
    for question in ("what time is it", "现在几点", "你在哪里"):
        [reply] = await chat.say("amy", f"@小助手 {question}")
        assert "还不会回答" in reply.text, question


# --- recall: members' own words -----------------------------------------------------------

@pytest.mark.parametrize(("question", "answer"), [
    ("跑团收不收费", "会费每年 100 元"),
    ("收费不收费啊", "会费每年 100 元"),
    ("参加跑团要掏钱不？", "会费每年 100 元"),
    ("下雨天跑不跑", "下雨或空气重度污染就取消"),
    ("能不能带朋友一起跑", "欢迎带朋友来体验"),
    ("是不是有新手组", "7 分配速的新手组"),
])
async def test_a_not_a_questions_are_read_as_the_plain_question(
        make_chat, faq_dir, question, answer):
    chat = await make_chat(running_club())
    [reply] = await chat.say("amy", f"@小助手 {question}")
    assert answer in reply.text, reply.text


def test_a_not_a_forms_fold_to_a():
    assert normalise("有没有书单") == "有书单"
    assert normalise("可不可以补签") == "可以补签"
    assert normalise("明天取不取消") == "明天取消"
    assert normalise("收费不收费") == "收费"
    assert normalise("要交钱不？") == "要交钱?"  # NFKC: full-width punctuation too
    assert normalise("跟不上进度怎么办") == "跟不上进度怎么办"  # not a question form


async def test_synonyms_from_the_shipped_list(make_chat, faq_dir):
    chat = await make_chat({"groups": {
        "g": config()["groups"]["g"], **running_club()["groups"]}})
    # 规矩 and 入团费 are in neither FAQ file: plugins/qa/data/synonyms.yaml knows them.
    [rules] = await chat.say("amy", "@小助手 群里有啥规矩", group="读书会")
    [fee] = await chat.say("bo", "@小助手 入团费多少", group="跑团")
    assert "只聊读书相关" in rules.text and "会费每年 100 元" in fee.text


async def test_synonyms_declared_by_an_faq_entry_and_by_a_group(make_chat, faq_dir):
    (faq_dir / "venue.yaml").write_text(
        "entries:\n"
        "  - questions: [停车方便吗]\n"
        "    answer: 图书馆地下车库免费停两小时\n"
        "    synonyms: [[停车, 车位, 泊车]]\n"
        "  - questions: [线下活动在哪]\n"
        "    answer: 市图书馆三楼\n", encoding="utf-8")
    venue = {"faq_files": ["faq/venue.yaml"]}
    chat = await make_chat({"groups": {
        "a": {"name": "甲组", "plugins": {"qa": {**venue, "synonyms": [["线下活动", "沙龙"]]}}},
        "b": {"name": "乙组", "plugins": {"qa": venue}}}})
    for group in ("甲组", "乙组"):
        [parking] = await chat.say("amy", "@小助手 有车位吗", group=group)
        assert parking.text == "图书馆地下车库免费停两小时"  # the entry's synonyms
    [salon] = await chat.say("amy", "@小助手 沙龙在哪", group="甲组")
    [unknown] = await chat.say("amy", "@小助手 沙龙在哪", group="乙组")
    assert salon.text == "市图书馆三楼" and "还不会回答" in unknown.text  # the group's own


async def test_mixed_script_and_english_questions(make_chat, faq_dir):
    chat = await make_chat({"groups": {
        "g": config()["groups"]["g"], **running_club()["groups"]}})
    [mixed] = await chat.say("amy", "@小助手 跑团收费吗 how much is the fee", group="跑团")
    await chat.advance("61s")  # past the repeat pointer's window
    [english] = await chat.say("amy", "@小助手 Is there a membership FEE?", group="跑团")
    assert "会费每年 100 元" in mixed.text and "会费每年 100 元" in english.text
    [quit_] = await chat.say("bo", "@小助手 how can I quit this chat?", group="读书会")
    assert "删除并退出" in quit_.text
    # Nothing but stop words: no answer, whatever the FAQ.
    [nothing] = await chat.say("bo", "@小助手 how can I do this?", group="读书会")
    assert "还不会回答" in nothing.text


def test_english_stop_words_and_plurals():
    index = FaqIndex([("群规是什么", 0), ("怎么退群", 1)])
    assert index.words("What are the rules of this group?") == ["群规"]
    assert index.words("how can I quit this chat?") == ["退群"]
    assert index.words("the a of is are") == []
    assert index.words("How do I check-in? where's the e-book") == ["打卡", "地点", "电子书"]


def test_characters_find_paraphrases_that_share_no_word():
    index = FaqIndex([("借书卡怎么办理", 0), ("图书馆开放时间", 1), ("停车场在哪", 2)])
    assert index.words("车停哪儿") == ["车停", "地点"]  # no word in common with 停车场
    match = index.best("车停哪儿")
    assert match is not None and match.entry == 2 and match.coverage >= QaSettings().threshold


def test_typos_that_keep_most_characters_still_match():
    index = FaqIndex([("电子书在哪里下载", 0), ("读书笔记发哪里", 1), ("线下活动什么时候", 2)])
    match = index.best("电子树在哪下载")  # 书 → 树
    assert match is not None and match.entry == 0 and match.coverage >= QaSettings().threshold


# --- BM25 and what Q&A imports ------------------------------------------------------------

def test_bm25_matches_the_okapi_formula():
    import math

    docs = [["退群", "怎么"], ["群规"], ["群规", "群规", "在哪"]]
    bm25 = BM25(docs, k1=1.5, b=0.75)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # 群规 is in two of three documents
    avg = 6 / 3
    expected = idf * 2 * 2.5 / (2 + 1.5 * (1 - 0.75 + 0.75 * 3 / avg))
    scores = bm25.scores(["群规"])
    assert scores[0] == 0 and math.isclose(scores[2], expected)
    assert scores[1] > 0


def test_bm25_weighs_rare_words_and_saturates_repeats():
    bm25 = BM25([["a", "common"], ["b", "common"], ["c", "common", "rare"]])
    assert bm25.idf("rare") > bm25.idf("common") > 0
    assert bm25.idf("never-seen") > bm25.idf("rare")  # unknown words are the most specific
    one, many = BM25([["x", "y"], ["x"] * 10 + ["y"]]).scores(["x"])
    assert many < 2.5 * one  # term frequency saturates (k1)
    assert BM25([]).scores(["x"]) == []
    assert BM25([[]]).scores(["x"]) == [0.0]


def test_q_and_a_imports_neither_numpy_nor_jieba_until_asked():
    import subprocess

    code = ("import sys; import plugins.qa; from plugins.qa.service import load_faq; "
            "print(sorted(m for m in ('jieba', 'numpy', 'rank_bm25') if m in sys.modules)); "
            "load_faq([]).index.best('怎么退群'); "
            "print(sorted(m for m in ('jieba', 'numpy', 'rank_bm25') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "['jieba']"


# --- general classes of wording (round 3, found on the tuning split) ---------------------

@pytest.mark.parametrize(("group", "question", "answer"), [
    ("跑团", "跑團收費嗎", "会费每年 100 元"),  # traditional characters
    ("读书会", "請問怎麼退群", "删除并退出"),
    ("跑团", "跑团 收费 吗？", "会费每年 100 元"),  # spaces between Chinese characters
    ("跑团", "跑\u200b团收\u200d费吗", "会费每年 100 元"),  # invisible characters
    ("跑团", "ｈｏｗ ｍｕｃｈ ｉｓ ｔｈｅ ｆｅｅ", "会费每年 100 元"),  # full-width letters
])
async def test_traditional_full_width_and_spaced_questions_read_as_typed_plainly(
        make_chat, faq_dir, group, question, answer):
    chat = await make_chat({"groups": {
        "g": config()["groups"]["g"], **running_club()["groups"]}})
    [reply] = await chat.say("amy", f"@小助手 {question}", group=group)
    assert answer in reply.text, reply.text


def test_traditional_characters_fold_to_simplified():
    from bot.input import simplified

    assert normalise("請問會費多少錢") == "请问会费多少钱"
    assert simplified("團服怎麼領") == "团服怎么领"
    assert simplified("跑团收费") == "跑团收费"  # simplified text is left as it is


@pytest.mark.parametrize("question", [
    "能否带朋友一起跑", "可否带朋友一起跑", "带朋友一起跑可以吗", "能不能带朋友一起跑呀",
    "可不可以带朋友一起跑呢", "请教各位，带朋友一起跑行吗", "打扰一下，能带朋友来一起跑嘛",
])
async def test_modal_and_polite_forms_ask_the_plain_question(make_chat, faq_dir, question):
    chat = await make_chat(running_club())
    [reply] = await chat.say("amy", f"@小助手 {question}")
    assert "欢迎带朋友来体验" in reply.text, reply.text


@pytest.mark.parametrize(("question", "answer"), [
    ("请教各位，书读不完怎么办", "按自己的节奏读"),  # 请教 is how a question opens
    ("请教一下，怎样离开群聊", "删除并退出"),
    ("有人知道书读不完怎么办吗", "按自己的节奏读"),  # 有人知道…吗 asks the bot, not people
    ("好像读不完了，具体怎么操作", "按自己的节奏读"),  # hedges and 操作
])
async def test_a_polite_opener_is_not_part_of_the_question(make_chat, faq_dir, question,
                                                            answer):
    chat = await make_chat(config())
    [reply] = await chat.say("amy", f"@小助手 {question}")
    assert answer in reply.text, reply.text


@pytest.mark.parametrize(("question", "answer"), [
    ("下雨还跑不呢", "下雨或空气重度污染就取消"),
    ("团服咋领", "周六团跑现场领团服"),
    ("团服怎样领呀", "周六团跑现场领团服"),
    ("团服如何领取～", "周六团跑现场领团服"),
    ("集合地点在哪儿啊", "滨江公园南门广场"),
    ("是否收费么", "会费每年 100 元"),
])
async def test_colloquial_question_words_and_endings(make_chat, faq_dir, question, answer):
    chat = await make_chat(running_club())
    [reply] = await chat.say("amy", f"@小助手 {question}")
    assert answer in reply.text, reply.text


def test_an_aspect_particle_or_measure_word_inside_a_verb_phrase_is_the_phrase():
    index = FaqIndex([("怎么打卡", 0), ("比赛怎么报名", 1), ("要交钱吗", 2)])
    assert index.words("打了卡") == index.words("打过卡") == index.words("打个卡") == ["打卡"]
    assert index.words("报过名了") == ["报名"]
    assert index.words("交了钱") == ["收费"]
    match = index.best("昨天打了卡吗")
    assert match is not None and match.entry == 0


def test_chinese_numbers_before_a_unit_read_as_digits_do():
    index = FaqIndex([("几个月开始吃辅食", 0), ("新手能跟上吗", 1)])
    assert index.words("两岁的孩子") == index.words("2岁的孩子")
    assert index.words("只能跑三公里") == index.words("只能跑3公里")
    assert index.words("宝宝六个月了") == index.words("宝宝6个月了")
    assert "一点" in normalise("慢一点")  # "a bit", not one o'clock
    assert normalise("第一次") == "第一次" and normalise("三千米") == " 米"
    # Before a classifier the number and the classifier go: 一节课 is 课, not the word 节课.
    assert index.words("缺了一节课") == index.words("缺了3节课") == ["缺", "课"]
    assert index.words("看了一本书") == index.words("看了书")
    assert index.words("两个孩子") == index.words("孩子")


def test_words_jieba_glues_to_a_modal_verb_are_read_apart():
    index = FaqIndex([("可以拉朋友进群吗", 0), ("可以发广告吗", 1)])
    assert "邀请" in index.words("能拉我邻居进来吗")  # 能拉 is 能 + 拉 (invite)
    match = index.best("能拉我邻居进来吗")
    assert match is not None and match.entry == 0 and match.coverage >= QaSettings().threshold


def test_english_inflections_read_as_the_listed_word():
    index = FaqIndex([("怎么退群", 0), ("下雨还跑吗", 1)])
    assert index.words("quitting") == index.words("leaving") == index.words("quit") == ["退群"]
    assert index.words("is the run cancelled") == index.words("run cancelled?") == ["跑步", "取消"]
    assert index.words("changed") == ["修改"] and index.words("classes") == ["上课"]
    match = index.best("how do I go about leaving?")
    assert match is not None and match.entry == 0


@pytest.mark.parametrize(("group", "question", "answer"), [
    ("读书会", "I forgot to check in yesterday", "发送「补签」"),
    ("读书会", "what can I do with my points", "兑换月度好书"),
    ("读书会", "who runs this group", "群主是 alice"),  # not running
    ("跑团", "what days do you run", "每周三晚 7 点"),
    ("跑团", "who is the club leader", "团长 leo"),  # club, like group, is the community
    ("跑团", "where do I get the club shirt", "现场领团服"),
])
async def test_english_words_members_use(make_chat, faq_dir, group, question, answer):
    chat = await make_chat({"groups": {
        "g": config()["groups"]["g"], **running_club()["groups"]}})
    [reply] = await chat.say("amy", f"@小助手 {question}", group=group)
    assert answer in reply.text, reply.text


def test_english_phrases_typed_against_chinese():
    index = FaqIndex([("电子书在哪里下载", 0), ("辅食什么时候添加", 1)])
    assert index.words("有ebook吗") == ["电子书"]
    assert index.words("when to start solid food呢") == ["时间", "开始", "辅食"]


@pytest.mark.parametrize(("group", "question", "answer"), [
    ("读书会", "攒的积分能干嘛", "兑换月度好书"),  # what a thing is for
    ("读书会", "积分能兑换啥", "兑换月度好书"),
    ("读书会", "晚上几点有话题", "每晚 9 点话题讨论"),  # discussion, time of day
    ("读书会", "每晚几点讨论", "每晚 9 点话题讨论"),
    ("读书会", "书单在哪查看", "本月共读"),
    ("读书会", "可以拉我同学进群吗", "邀请前请先告诉管理员"),
    ("跑团", "能带朋友来试跑吗", "欢迎带朋友来体验"),  # trying out
    ("跑团", "团长的联系方式", "团长 leo"),
    ("跑团", "团里谁管事", "团长 leo"),
    ("跑团", "雾霾天取消吗", "下雨或空气重度污染就取消"),  # bad weather, any kind
    ("跑团", "我跑得很慢会不会拖后腿", "7 分配速的新手组"),
    ("读书会", "漏卡了咋整", "发送「补签」"),  # check-in words
    ("读书会", "how do I check my points", "发送「积分」"),  # check is not check-in
    ("读书会", "不想在这个群了", "删除并退出"),
    ("读书会", "积分攒多了有什么好处", "兑换月度好书"),
])
async def test_community_synonyms_shipped_with_the_bot(make_chat, faq_dir, group, question,
                                                       answer):
    chat = await make_chat({"groups": {
        "g": config()["groups"]["g"], **running_club()["groups"]}})
    [reply] = await chat.say("amy", f"@小助手 {question}", group=group)
    assert answer in reply.text, reply.text


def test_every_shipped_synonym_reads_as_itself():
    # normalise() runs on the list too: a word it would change (从没 losing its 没 to the
    # trailing-not rule, 千米 its 千 to the number rule) would never be found.
    from plugins.qa.matcher import shipped_synonyms

    changed = [word for group in shipped_synonyms() for word in group
               if normalise(word).strip() != word.lower()]
    assert changed == []


def test_course_and_parenting_vocabulary():
    course = FaqIndex([("课件在哪下载", 0), ("作业什么时候交", 1), ("什么时候考试", 2)])
    assert (m := course.best("学习资料在哪里下载")) is not None and m.entry == 0
    assert (m := course.best("测验是哪天")) is not None and m.entry == 2
    assert (m := course.best("练习题啥时候交")) is not None and m.entry == 1
    longer = FaqIndex([("课程要学多久", 0), ("有结业证书吗", 1), ("直播有回放吗", 2)])
    assert (m := longer.best("一共几周")) is not None and m.entry == 0
    assert (m := longer.best("毕业能拿证书吗")) is not None and m.entry == 1
    assert (m := longer.best("错过直播能补看吗")) is not None and m.entry == 2
    shop = FaqIndex([("团购什么时候到货", 0), ("团购在哪领取", 1), ("怎么联系群主", 2)])
    assert (m := shop.best("团购啥时候发货")) is not None and m.entry == 0
    assert (m := shop.best("团购的东西去哪拿")) is not None and m.entry == 1
    assert (m := shop.best("群主的电话是多少")) is not None and m.entry == 2
    parenting = FaqIndex([("孩子发烧要去医院吗", 0), ("有推荐的绘本吗", 1)],
                         answers=["3 个月以下发烧请及时就医", "群文件里有按年龄分的绘本书单"])
    assert (m := parenting.best("两岁孩子适合看什么绘本")) is not None and m.entry == 1
    assert (m := parenting.best("要不要带娃去看病")) is not None and m.entry == 0


@pytest.mark.parametrize(("group", "question"), [
    ("读书会", "推荐个手机"), ("读书会", "今晚月亮好圆"), ("跑团", "今晚月亮好圆"),
    ("跑团", "推荐一双跑鞋"), ("读书会", "周末有人去爬山吗"), ("跑团", "周六有人一起吃饭吗"),
    ("跑团", "請問附近哪裡有好吃的"),
])
async def test_off_topic_questions_in_these_forms_stay_unanswered(
        make_chat, faq_dir, group, question):
    chat = await make_chat({"groups": {
        "g": config()["groups"]["g"], **running_club()["groups"]}})
    [reply] = await chat.say("amy", f"@小助手 {question}", group=group)
    assert "还不会回答" in reply.text, reply.text
