"""有奖问答: banks, answer normalization, rounds with hints and timeouts, one winner."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import ledger
from bot.config import ConfigError, load_config
from bot.testing import texts
from plugins import ALL
from plugins.quiz.answers import is_correct, normalize
from plugins.quiz.bank import Question, bank_paths, read_bank
from plugins.quiz.idioms import dictionary

ROOT = Path(__file__).resolve().parents[1]

BANK = """\
name: 测试
name_en: Test
questions:
  - q: 中国的首都是哪座城市？
    answers: [北京, 北京市]
    explanation: 北京是首都。
    difficulty: 1
  - q: 中国最长的河流是？
    answers: [长江]
    choices: [黄河, 长江, 珠江, 淮河]
    difficulty: 3
"""


def config(**quiz: object) -> dict[str, object]:
    block = {"banks": ["quiz"], "questions": 2, "hint_after": "20s", "time_limit": "45s", **quiz}
    return {"groups": {"g": {"name": "读书会", "owner": "alice", "admins": ["bob"],
                             "plugins": {"quiz": block, "points": {}}}}}


@pytest.fixture
def bank_dir(tmp_path: Path) -> Path:
    (tmp_path / "config" / "quiz").mkdir(parents=True)
    (tmp_path / "config" / "quiz" / "test.yaml").write_text(BANK, encoding="utf-8")
    return tmp_path


async def points(chat, member: str) -> int:
    async with chat.runtime.db.transaction() as session:
        return await ledger.balance(session, chat.group, member)


# -- answers -----------------------------------------------------------------------------------

CAPITAL = Question(q="首都？", answers=["北京"])


@pytest.mark.parametrize("message", [
    "北京", "北京！", " 北 京 ", "答案是北京", "我猜是北京吧", "應該是北京", "答案：北京。",
])
def test_answers_are_normalized_and_filler_words_peeled(message: str) -> None:
    assert is_correct(CAPITAL, message)


@pytest.mark.parametrize("message", [
    "北京上海广州", "北京还是上海", "北京，上海", "北京或上海", "北京/上海", "北京、上海、广州",
    "北京 上海", "北京?上海?", "我猜北京或者上海吧", "是北京还是南京", "不是上海是北京",
    "南京", "不是北京", "",
])
def test_several_candidates_or_wrong_answers_do_not_count(message: str) -> None:
    assert not is_correct(CAPITAL, message)


@pytest.mark.parametrize("message", ["北京吗？", "答案是：北京！！", "北京😄", "北京吧？"])
def test_a_single_candidate_with_tone_or_emoji_counts(message: str) -> None:
    assert is_correct(CAPITAL, message)


def test_width_and_case_do_not_matter() -> None:
    water = Question(q="水的化学式", answers=["H2O"])
    assert is_correct(water, "ｈ２ｏ") and is_correct(water, "h2o") and is_correct(water, "H₂O")
    assert normalize("Ａ，ｂ！ C") == "abc"


def test_numbers_match_in_digits_or_chinese_numerals() -> None:
    terms = Question(q="节气", answers=["24"])
    assert all(is_correct(terms, m) for m in ("二十四", "２４", "答案是24", "二十四个", "24个吧"))
    assert not any(is_correct(terms, m) for m in ("25", "二十五", "二十四个二十五个", "24或25"))


def test_multiple_choice_by_letter_or_text() -> None:
    river = Question(q="最长的河", answers=["长江"], choices=["黄河", "长江", "珠江"])
    assert all(is_correct(river, m) for m in ("B", "b", "选B", "答案是 B", "长江", "Ｂ",
                                              "B. 长江", "b长江", "B吧"))
    assert not any(is_correct(river, m) for m in ("A", "C", "AB", "黄河", "A或B", "A、B",
                                                  "选A和B", "长江黄河", "A 长江", "B C"))


# -- banks -------------------------------------------------------------------------------------

def test_shipped_banks_hold_over_300_valid_chinese_questions() -> None:
    paths = bank_paths(ROOT, ["quiz"])
    banks = [read_bank(p) for p in paths]
    assert {b.key for b in banks} >= {"idioms", "emoji-idioms", "poetry", "general"}
    assert sum(len(b.bank.questions) for b in banks) >= 300
    assert all(b.bank.source and b.bank.license for b in banks)
    emoji = next(b for b in banks if b.key == "emoji-idioms")
    assert all(q.answers[0] in dictionary() for q in emoji.bank.questions)


def test_a_bad_bank_is_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "config" / "quiz").mkdir(parents=True)
    broken = BANK.replace("    answers: [长江]\n", "    answers: [长城]\n")
    (tmp_path / "config" / "quiz" / "bad.yaml").write_text(broken, encoding="utf-8")
    (tmp_path / "bot.yaml").write_text(
        "groups:\n  g:\n    name: 读书会\n    plugins:\n      quiz: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "bot.yaml", ALL, ())
    message = str(error.value)
    assert "bad.yaml:8" in message and "questions.1" in message  # the second question's line


def test_invalid_yaml_and_missing_fields_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("name: x\nquestions:\n  - q: 问题\n    answer: [a]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.yaml:3: questions\.0\.answers"):
        read_bank(path)
    path.write_text("name: x\nquestions: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.yaml:\d+: YAML"):
        read_bank(path)


# -- rounds ------------------------------------------------------------------------------------

async def test_a_round_with_hint_winner_points_timeout_and_scoreboard(make_chat, bank_dir) -> None:
    chat = await make_chat(config())
    started = texts(await chat.say("carol", "答题 测试 2"))
    assert "共 2 题" in started[0]
    first = started[1]
    await chat.say("dan", "上海")  # wrong: silent
    hints = texts(await chat.advance("20s"))
    assert len(hints) == 1 and "提示" in hints[0]
    if "首都" in first:
        won = await chat.say("dan", "答案是北京")
        expected, right = 5, "北京"
    else:
        won = await chat.say("dan", "选B")
        expected, right = 15, "长江"
    assert "dan 答对了" in won[0].text and right in won[0].text and won[0].mentions == ("dan",)
    assert await points(chat, "dan") == expected
    assert "第 2/2 题" in won[-1].text
    late = texts(await chat.advance("45s"))
    assert "提示" in late[0] and "时间到" in late[1]
    assert "本轮问答结束" in late[-1] and "dan" in late[-1]
    assert texts(await chat.advance("5m")) == []  # no timers left over
    assert "时间到" not in " ".join(texts(await chat.say("dan", "北京")))


async def test_one_round_per_group_and_only_admins_stop_it(make_chat, bank_dir) -> None:
    chat = await make_chat(config())
    await chat.say("carol", "答题")
    assert "正在进行有奖问答" in texts(await chat.say("dan", "答题"))[0]
    assert "正在进行" in texts(await chat.say("dan", "成语接龙"))[0]
    assert "管理员" in texts(await chat.say("carol", "停止答题"))[0]
    stopped = texts(await chat.say("bob", "停止答题"))
    assert "问答已停止" in stopped[0]
    assert texts(await chat.advance("2m")) == []  # the stopped question's timers do nothing
    assert "现在没有" in texts(await chat.say("bob", "停止答题"))[0]
    assert "共 1 题" in texts(await chat.say("dan", "答题 1"))[0]


async def test_unknown_bank_and_odd_arguments(make_chat, bank_dir) -> None:
    chat = await make_chat(config())
    reply = texts(await chat.say("carol", "答题 火星文 3"))[0]
    assert "没有找到题库「火星文」" in reply and "测试" in reply
    started = texts(await chat.say("carol", "答题 test 99999"))
    assert "共 2 题" in started[0]  # capped by the bank's size


async def test_concurrent_correct_answers_have_exactly_one_winner(make_chat, bank_dir,
                                                                  database_url) -> None:
    chat = await make_chat(config(questions=1), database_url=database_url)
    question = texts(await chat.say("carol", "答题 1"))[1]
    answer = "北京" if "首都" in question else "长江"
    members = [f"m{n}" for n in range(12)]
    await asyncio.gather(*(chat.say(m, answer) for m in members))
    wins = [t for t in texts(chat.sent) if "答对了" in t]  # batches overlap: count sends once
    assert len(wins) == 1
    balances = [await points(chat, m) for m in members]
    assert sorted(balances, reverse=True)[1:] == [0] * 11 and max(balances) > 0


async def test_a_restart_mid_question_times_it_out_on_the_next_message(make_chat,
                                                                       bank_dir) -> None:
    chat = await make_chat(config(questions=1))
    await chat.say("carol", "答题 1")
    chat = await chat.restart(after="2m")
    replies = texts(await chat.say("dan", "随便说说"))
    assert any("时间到" in t for t in replies) and any("本轮问答结束" in t for t in replies)
    assert "共 1 题" in texts(await chat.say("dan", "答题 1"))[0]


async def test_a_restart_mid_question_re_arms_its_timers(make_chat, bank_dir) -> None:
    chat = await make_chat(config(questions=1))
    await chat.say("carol", "答题 1")
    chat = await chat.restart(after="10s")
    assert texts(await chat.say("dan", "上海")) == []  # a wrong answer; the timers come back
    assert "提示" in texts(await chat.advance("10s"))[0]
    ended = texts(await chat.advance("25s"))  # nobody speaks: the time limit still ends it
    assert any("时间到" in t for t in ended) and any("本轮问答结束" in t for t in ended)


async def test_a_restart_mid_chain_re_arms_its_timeout(make_chat, bank_dir) -> None:
    chat = await make_chat(config())
    await chat.say("carol", "成语接龙 画蛇添足")
    chat = await chat.restart(after="30s")
    assert texts(await chat.say("dan", "今天天气不错")) == []  # chat; the timeout comes back
    assert texts(await chat.advance("29s")) == []
    assert any("成语接龙结束" in t for t in texts(await chat.advance("1s")))


async def test_a_daily_quiz_starts_at_its_time(make_chat, bank_dir) -> None:
    chat = await make_chat(config(daily=[{"at": "20:30", "bank": "测试", "questions": 1}]),
                           now="2026-11-23 20:00")
    sent = texts(await chat.advance("31m"))
    assert any("有奖问答开始" in t for t in sent) and any("第 1/1 题" in t for t in sent)


async def test_english_groups_see_english(make_chat, bank_dir) -> None:
    cfg = config()
    cfg["groups"]["g"]["language"] = "en"  # type: ignore[index]
    chat = await make_chat(cfg)
    assert "Quiz time" in texts(await chat.say("carol", "/quiz Test 1"))[0]
    assert "A quiz is running" in texts(await chat.say("dan", "/quiz"))[0]
    timed_out = texts(await chat.advance("45s"))
    assert "Hint" in timed_out[0] and "Time's up" in timed_out[1]
    assert "The quiz is over" in timed_out[-1]
    assert "Idiom chain!" in texts(await chat.say("carol", "成语接龙 画蛇添足"))[0]
    assert "is not in the idiom dictionary" in texts(await chat.say("dan", "足球比赛"))[0]


# -- idiom chain -------------------------------------------------------------------------------

async def test_idiom_chain_rules(make_chat, bank_dir) -> None:
    chat = await make_chat(config())
    start = texts(await chat.say("carol", "成语接龙 画蛇添足"))[0]
    assert "画蛇添足" in start and "「足」" in start
    assert "「足」" in texts(await chat.say("dan", "一心一意"))[0]  # an idiom, wrong start
    assert "不在成语词典" in texts(await chat.say("dan", "足球比赛"))[0]
    ok = texts(await chat.say("dan", "足智多谋"))
    assert "dan 接上「足智多谋」" in ok[0] and "「谋」" in ok[0]
    assert await points(chat, "dan") == 2
    assert texts(await chat.say("erin", "今天天气不错")) == []  # chat goes on around the game
    hint = texts(await chat.say("erin", "接龙提示"))[0]
    assert hint.startswith("💡") and hint.count("＿") == 2
    ended = texts(await chat.advance("61s"))
    assert any("成语接龙结束" in t for t in ended)
    assert any("dan — 1 个" in t for t in ended)


async def test_idiom_chain_wrong_start_repeat_and_same_sound(make_chat, bank_dir) -> None:
    chat = await make_chat(config(chain={"same_sound": "toneless", "timeout": "60s"}))
    await chat.say("carol", "成语接龙 一心一意")
    wrong = texts(await chat.say("dan", "画蛇添足"))
    assert "「意」" in wrong[0]
    assert "接上「义不容辞」" in texts(await chat.say("dan", "义不容辞"))[0]  # yì = yì
    assert "接上「词不达意」" in texts(await chat.say("erin", "词不达意"))[0]  # cí = cí
    assert "已经用过" in texts(await chat.say("fay", "一心一意"))[0]


async def test_idiom_chain_without_homophones_needs_the_same_character(make_chat,
                                                                      bank_dir) -> None:
    chat = await make_chat(config(chain={"same_sound": "none"}))
    await chat.say("carol", "成语接龙 一心一意")
    assert "「意」" in texts(await chat.say("dan", "义不容辞"))[0]
    assert "接上「意气风发」" in texts(await chat.say("dan", "意气风发"))[0]


async def test_idiom_chain_hints_are_limited_and_unknown_starts_refused(make_chat,
                                                                       bank_dir) -> None:
    chat = await make_chat(config(chain={"hints": 1}))
    assert "不在成语词典" in texts(await chat.say("carol", "成语接龙 不是成语啊"))[0]
    assert "没有进行中的成语接龙" in texts(await chat.say("carol", "接龙提示"))[0]
    await chat.say("carol", "成语接龙 画蛇添足")
    first = texts(await chat.say("dan", "接龙提示"))[0]
    assert first.startswith("💡") and first.count("＿") == 2
    assert "用完" in texts(await chat.say("dan", "接龙提示"))[0]


async def test_idiom_chain_concurrent_moves_take_one_turn(make_chat, bank_dir,
                                                          database_url) -> None:
    chat = await make_chat(config(), database_url=database_url)
    await chat.say("carol", "成语接龙 画蛇添足")
    await asyncio.gather(*(chat.say(f"m{n}", "足智多谋") for n in range(6)))
    accepted = [t for t in texts(chat.sent) if "接上" in t]
    assert len(accepted) == 1


async def test_digest_counts_right_answers_and_chain_moves_per_local_day(make_chat,
                                                                         bank_dir) -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from bot.plugin import DigestQuery
    from plugins.quiz import plugin as quiz

    chat = await make_chat(config(questions=1), now="2026-11-23 07:30")  # 23:30 UTC the 22nd
    question = texts(await chat.say("carol", "答题 1"))[1]
    await chat.say("dan", "北京" if "首都" in question else "长江")
    await chat.say("carol", "成语接龙 画蛇添足")
    await chat.say("dan", "足智多谋")
    day = date(2026, 11, 23)
    query = DigestQuery(("g",), (day,), {"g": ZoneInfo("Asia/Shanghai")})
    async with chat.runtime.db.transaction() as session:
        contribution = await quiz.digest(session, query)
    games, answered, moves = contribution.metrics
    assert games.values == {("g", day): 2}  # a quiz round and an idiom chain
    assert answered.values == {("g", day): 1} and moves.values == {("g", day): 1}
