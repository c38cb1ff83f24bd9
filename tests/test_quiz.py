"""有奖问答: banks, answer normalization, rounds with hints and timeouts, one winner."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from bot import ledger
from bot.app import PLUGINS as ALL
from bot.config import ConfigError, load_config
from bot.testing import texts, write_config
from plugins.quiz.answers import is_correct, normalize, without_mention
from plugins.quiz.bank import Question, bank_paths, read_bank
from plugins.quiz.handlers import parse_quiz_args
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


def test_a_decimal_point_between_digits_is_kept_and_numbers_match_by_value() -> None:
    terms = Question(q="节气", answers=["24"])
    assert all(is_correct(terms, m) for m in ("24.0", "二十四点零", "24。", "24.00"))
    assert not any(is_correct(terms, m) for m in ("2.4", "24.5", "2,4", "2 4", "二点四"))
    pi = Question(q="圆周率", answers=["3.14"])
    assert is_correct(pi, "3.14") and is_correct(pi, "３．１４")
    assert not is_correct(pi, "314") and not is_correct(pi, "3，14")
    assert normalize("2.4") == "2.4" and normalize("B. 长江") == "b长江"
    assert normalize("1,000,000") == "1000000" and normalize("3，4") == "3/4"


def test_a_number_answer_may_carry_a_unit_word() -> None:
    hours = Question(q="一天有多少个小时？", answers=["24"])
    assert all(is_correct(hours, m) for m in (
        "24小时", "24个小时", "二十四小时", "答案是24小时吧", "24天", "24岁", "24度", "24℃"))
    light = Question(q="光速每秒多少公里？", answers=["30万", "300000", "三十万"])
    assert all(is_correct(light, m) for m in ("30万公里", "三十万公里", "300000千米", "30万"))
    track = Question(q="标准跑道一圈多长？", answers=["400米"])
    assert all(is_correct(track, m) for m in ("400米", "四百米", "400"))
    assert not any(is_correct(track, m) for m in ("400公里", "40米", "米"))


@pytest.mark.parametrize("message", [
    "3或4", "24还是25", "24小时或25小时", "24小时25小时", "二十四个二十五个", "24，25", "24/25",
    "24小时还是25小时",
])
def test_a_number_among_several_still_does_not_count(message: str) -> None:
    assert not is_correct(Question(q="节气", answers=["24"]), message)
    assert not is_correct(Question(q="几", answers=["4"]), message)


def test_a_unit_word_does_not_turn_a_text_answer_into_a_number() -> None:
    assert not is_correct(CAPITAL, "北京个") and not is_correct(CAPITAL, "北京小时")
    single = Question(q="补全成语：一＿千金", answers=["字", "一字千金"])
    assert is_correct(single, "字") and not is_correct(single, "1字")


@pytest.mark.parametrize("message", ["北京[微笑]", "[捂脸]北京", "北京[捂脸][捂脸]",
                                     "答案是北京[Facepalm]", "北京吧[旺柴]"])
def test_wechat_emoji_codes_do_not_stop_a_right_answer(message: str) -> None:
    assert is_correct(CAPITAL, message)


def test_only_known_emoji_codes_are_dropped() -> None:
    assert not is_correct(CAPITAL, "北京[上海]")  # a bracketed second candidate
    assert is_correct(Question(q="水果", answers=["西瓜"]), "[西瓜]")  # the emoji alone


def test_a_hand_typed_mention_of_the_bot_is_dropped() -> None:
    assert without_mention("@小助手 北京", "小助手") == "北京"
    assert without_mention("＠小助手\u2005北京", "小助手") == "北京"
    assert without_mention("@小助手北京", "小助手") == "北京"
    assert without_mention("北京 @小助手", "小助手") == "北京 @小助手"  # only in front
    assert without_mention("@dan 北京", "小助手") == "@dan 北京"


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


def test_no_fill_in_idiom_has_a_valid_completion_left_out_of_its_answers() -> None:
    completions: dict[str, set[str]] = {}
    for word in dictionary().pinyin:
        for i in range(len(word)):
            completions.setdefault(word[:i] + "＿" + word[i + 1:], set()).add(word[i])
    idioms = read_bank(ROOT / "config" / "quiz" / "idioms.yaml").bank.questions
    fill = [q for q in idioms if "fill" in q.tags]
    assert len(fill) == 90
    for question in fill:
        shown = question.q.removeprefix("补全成语：")
        assert completions[shown] <= set(question.answers), shown
    upright = next(q for q in fill if q.q.endswith("正直无＿"))
    assert is_correct(upright, "邪") and is_correct(upright, "正直无私")


def test_the_generator_accepts_every_completion_and_names_the_others() -> None:
    spec = importlib.util.spec_from_file_location("build_quiz_data",
                                                  ROOT / "tools" / "build_quiz_data.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    blanks = tool.blank_index(["正直无私", "正直无邪", "画蛇添足"])
    row = {"word": "正直无私", "pinyin": "zhèng zhí wú sī", "explanation": "没有私心。"}
    question = tool.fill_question(row, 3, blanks)
    assert question["q"] == "补全成语：正直无＿"
    assert question["answers"] == ["私", "正直无私", "邪", "正直无邪"]
    assert question["explanation"].endswith("没有私心。也可填：邪（正直无邪）。")
    alone = tool.fill_question({**row, "word": "画蛇添足"}, 0, blanks)
    assert alone["answers"] == ["画", "画蛇添足"] and "也可填" not in alone["explanation"]


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
    with pytest.raises(ValueError, match=r"b\.yaml:\d+: .*YAML"):
        read_bank(path)


def _check(tmp_path: Path, bank: str, **quiz: object) -> str:
    """What `bot config check` says about a config with this bank: "" if nothing."""
    (tmp_path / "config" / "quiz").mkdir(parents=True, exist_ok=True)
    (tmp_path / "config" / "quiz" / "b.yaml").write_text(bank, encoding="utf-8")
    try:
        load_config(write_config(tmp_path, config(**quiz)), ALL, ())
    except ConfigError as error:
        return str(error)
    return ""


def test_every_problem_of_a_bank_is_reported_with_its_line(tmp_path: Path) -> None:
    broken = (BANK.replace("    answers: [长江]\n", "    answers: [长城]\n")
              .replace("    difficulty: 1\n", "    difficulty: 9\n"))
    message = _check(tmp_path, broken)
    assert "config/quiz/b.yaml:7: questions.0.difficulty" in message
    assert "config/quiz/b.yaml:8: questions.1" in message  # 长城 is none of the choices
    twice = BANK.replace("    explanation: 北京是首都。\n",
                         "    explanation: 北京是首都。\n    answers: [上海]\n")
    assert "config/quiz/b.yaml:7: questions.0.answers: 重复的键" in _check(tmp_path, twice)
    assert _check(tmp_path, BANK) == ""


def test_a_missing_or_outside_image_is_reported(tmp_path: Path) -> None:
    pictured = BANK.replace("    difficulty: 1\n", "    difficulty: 1\n    image: west-lake.jpg\n")
    assert "b.yaml:8: questions.0.image" in _check(tmp_path, pictured)
    (tmp_path / "config" / "quiz" / "west-lake.jpg").write_bytes(b"\xff\xd8")
    assert _check(tmp_path, pictured) == ""
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8")
    outside = pictured.replace("west-lake.jpg", "../../secret.jpg")
    assert "questions.0.image" in _check(tmp_path, outside)


def test_a_daily_quiz_must_name_a_bank_that_exists(tmp_path: Path) -> None:
    message = _check(tmp_path, BANK, daily=[{"at": "20:30", "bank": "火星文"}])
    assert "daily.0.bank" in message and "火星文" in message and "测试" in message
    assert _check(tmp_path, BANK, daily=[{"at": "20:30", "bank": "test"}]) == ""


@pytest.mark.parametrize(("quiz", "key"), [
    ({"chain": {"timeout": "0s"}}, "chain.timeout"),
    ({"chain": {"timeout": "5s"}}, "chain.timeout"),
    ({"time_limit": "0s"}, "time_limit"),
    ({"time_limit": "2h"}, "time_limit"),
    ({"hint_after": "0s"}, "hint_after"),
    ({"hint_after": "50s"}, "hint_after 应短于 time_limit"),
])
def test_time_settings_must_be_sane(tmp_path: Path, quiz: dict[str, object], key: str) -> None:
    assert key in _check(tmp_path, BANK, **quiz)


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


async def _killed() -> None:
    """The outbox's own write, in a process killed before it ran."""


@pytest.mark.parametrize(("start", "shown"), [("答题 测试 2", "第 1/2 题"),
                                             ("成语接龙 画蛇添足", "成语接龙开始")])
async def test_a_kill_right_after_a_game_starts_keeps_what_it_posted(make_chat, bank_dir,
                                                                      start, shown) -> None:
    """A game's posts are written with the game's rows (the transactional outbox): a kill
    before the outbox's next group commit can't leave a game running that nobody saw."""
    chat = await make_chat(config())
    outbox = chat.runtime.outbox
    outbox.hold()  # nothing goes out before the kill
    with pytest.MonkeyPatch.context() as patch:  # killed before the outbox writes anything
        patch.setattr(outbox, "flush", _killed)
        await chat.runtime.dispatcher.handle(chat.chat.message(chat.group, "carol", start))
    chat = await chat.crash()
    assert len([d for d in chat.sent if shown in d.text]) == 1


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
    started = texts(await chat.say("carol", "答题 test 30"))
    assert "共 2 题" in started[0]  # capped by the bank's size


@pytest.mark.parametrize(("args", "expected"), [
    ("", (None, 5)), ("常识 三", ("常识", 3)), ("三 常识", ("常识", 3)), ("十五", (None, 15)),
    ("５", (None, 5)), ("成语 5题", ("成语", 5)), ("五道题", (None, 5)), ("两", (None, 2)),
    ("三国", ("三国", 5)), ("百科", ("百科", 5)),
    ("0", (None, None)), ("零", (None, None)), ("31", (None, None)), ("99999", (None, None)),
    ("-3", (None, None)), ("常识 一百", ("常识", None)),
])
def test_quiz_arguments_take_chinese_numerals_and_flag_a_count_out_of_range(
        args: str, expected: tuple[str | None, int | None]) -> None:
    assert parse_quiz_args(args, 5) == expected


async def test_a_count_out_of_range_gets_the_allowed_range(make_chat, bank_dir) -> None:
    chat = await make_chat(config())
    for command in ("答题 0", "答题 测试 99999", "答题 零"):
        reply = texts(await chat.say("carol", command))
        assert len(reply) == 1 and "题数要在 1 到 30 之间" in reply[0]
        assert "答题 [题库] [题数]" in reply[0]
    assert "看图猜成语 [题数]" in texts(await chat.say("carol", "看图猜成语 0"))[0]
    started = texts(await chat.say("carol", "答题 测试 一"))
    assert "题库：测试，共 1 题" in started[0]


async def test_emoji_and_a_hand_typed_mention_of_the_bot_do_not_stop_an_answer(
        make_chat, bank_dir) -> None:
    chat = await make_chat(config(questions=2))
    question = texts(await chat.say("carol", "答题 测试 2"))[1]
    answer = "北京" if "首都" in question else "长江"
    assert "dan 答对了" in texts(await chat.say("dan", f"{answer}[微笑]"))[0]
    answer = "长江" if answer == "北京" else "北京"
    # WeChat strips a real mention; one typed by hand arrives as text (mentions_bot False).
    typed = chat.chat.message(chat.group, "erin", "x").model_copy(
        update={"text": f"@小助手 {answer}"})
    assert "erin 答对了" in texts(await chat.deliver(typed))[0]


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


async def test_a_restart_after_the_deadline_closes_the_question_at_start(make_chat, bank_dir,
                                                                       database_url) -> None:
    chat = await make_chat(config(questions=1), database_url=database_url)
    await chat.say("carol", "答题 1")
    chat = await chat.restart(after="2m")
    at_start = texts(chat.sent)  # nobody spoke: the start-up hook closed it
    assert any("时间到" in t for t in at_start) and any("本轮问答结束" in t for t in at_start)
    assert texts(await chat.say("dan", "北京")) == []
    assert "共 1 题" in texts(await chat.say("dan", "答题 1"))[0]


async def test_a_restart_mid_question_re_arms_its_timers_in_a_silent_group(make_chat, bank_dir,
                                                                          database_url) -> None:
    chat = await make_chat(config(questions=1), database_url=database_url)
    question = texts(await chat.say("carol", "答题 1"))[1]
    chat = await chat.restart(after="10s")
    assert texts(chat.sent) == []
    assert "提示" in texts(await chat.advance("10s"))[0]
    ended = texts(await chat.advance("25s"))  # nobody speaks: the time limit still ends it
    assert "时间到" in ended[0] and ("北京是首都" in ended[0]) == ("首都" in question)
    assert "本轮问答结束" in ended[-1]
    assert "共 1 题" in texts(await chat.say("dan", "答题 1"))[0]


async def test_a_short_outage_goes_on_with_the_next_question_a_long_one_ends_the_round(
        make_chat, bank_dir) -> None:
    chat = await make_chat(config(questions=2))
    await chat.say("carol", "答题 2")
    chat = await chat.restart(after="5m")
    at_start = texts(chat.sent)
    assert "时间到" in at_start[0] and "离线太久" in at_start[1] and len(at_start) == 2
    await chat.say("carol", "答题 2")
    chat = await chat.restart(after="1m")  # 15 s past the deadline: less than a time limit
    at_start = texts(chat.sent)
    assert "时间到" in at_start[0] and "第 2/2 题" in at_start[1]
    assert "本轮问答结束" in texts(await chat.advance("45s"))[-1]


async def test_starting_a_game_settles_a_stale_one_first(make_chat, bank_dir) -> None:
    """A group the config does not list has no start-up hook: 答题 itself settles."""
    cfg = config(questions=1)
    cfg["defaults"] = {"plugins": {"quiz": {"banks": ["quiz"], "questions": 1}}}
    chat = await make_chat(cfg)
    chat.chat.add_group("other", "散步群", chat.chat.groups[chat.group].timezone)
    await chat.say("carol", "答题 1", group="other")
    chat = await chat.restart(after="2m")
    assert texts(chat.sent) == []
    started = texts(await chat.say("dan", "成语接龙 画蛇添足", group="other"))
    assert "时间到" in started[0] and "本轮问答结束" in started[1]
    assert "成语接龙开始" in started[2]


async def test_a_restart_mid_chain_re_arms_its_timeout(make_chat, bank_dir) -> None:
    chat = await make_chat(config())
    await chat.say("carol", "成语接龙 画蛇添足")
    chat = await chat.restart(after="30s")
    assert texts(chat.sent) == []
    assert texts(await chat.advance("29s")) == []  # a silent group: the timeout comes back
    assert any("成语接龙结束" in t for t in texts(await chat.advance("1s")))
    await chat.say("carol", "成语接龙 一心一意")
    chat = await chat.restart(after="2m")
    assert any("成语接龙结束" in t for t in texts(chat.sent))  # ended at start
    assert "共 2 题" in texts(await chat.say("dan", "答题"))[0]


async def test_a_daily_quiz_caught_up_at_start_ends_a_stale_round_first(make_chat,
                                                                        bank_dir) -> None:
    chat = await make_chat(config(daily=[{"at": "20:30", "bank": "测试", "questions": 1}]),
                           now="2026-11-23 20:00")
    await chat.say("carol", "答题 1")
    chat = await chat.restart(after="31m")  # down over 20:30: the daily quiz is caught up
    at_start = texts(chat.sent)
    assert any("本轮问答结束" in t for t in at_start)
    assert any("有奖问答开始" in t for t in at_start)


async def test_a_daily_quiz_starts_at_its_time(make_chat, bank_dir) -> None:
    chat = await make_chat(config(daily=[{"at": "20:30", "bank": "测试", "questions": 1}]),
                           now="2026-11-23 20:00")
    sent = texts(await chat.advance("31m"))
    assert any("有奖问答开始" in t for t in sent) and any("第 1/1 题" in t for t in sent)


async def test_english_groups_see_english(make_chat, bank_dir) -> None:
    cfg = config()
    cfg["groups"]["g"]["language"] = "en"  # type: ignore[index]
    chat = await make_chat(cfg)
    [banks] = texts(await chat.say("carol", "/quizbanks"))
    assert banks == "Question banks:\n· Test (2 questions)"  # name_en, not 测试
    started = texts(await chat.say("carol", "/quiz 测试 1"))[0]  # either name picks it
    assert "Quiz time" in started and "Bank: Test," in started and "测试" not in started
    assert "A quiz is running" in texts(await chat.say("dan", "/quiz"))[0]
    timed_out = texts(await chat.advance("45s"))
    assert "Hint" in timed_out[0] and "Time's up" in timed_out[1]
    assert "The quiz is over" in timed_out[-1]
    assert "Idiom chain!" in texts(await chat.say("carol", "成语接龙 画蛇添足"))[0]
    assert "is not in the idiom dictionary" in texts(await chat.say("dan", "足球比赛"))[0]
    english = texts(await chat.say("dan", "/quiz 0"))[0]
    assert "must be from 1 to 30" in english and "quiz [bank] [count]" in english


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


@pytest.mark.parametrize("message", [
    "足球比赛今天谁赢了", "足球 比赛", "足球，比赛", "足球比赛！", "足球赛", "足球比赛abc",
    "足球比赛[捂脸]哈哈",
])
async def test_idiom_chain_ignores_chat_that_merely_starts_right(make_chat, bank_dir,
                                                                 message: str) -> None:
    chat = await make_chat(config())
    await chat.say("carol", "成语接龙 画蛇添足")  # every idiom after 足 has four characters
    assert texts(await chat.say("dan", message)) == []
    assert "不在成语词典" in texts(await chat.say("dan", "足球比赛[捂脸]"))[0]


async def test_idiom_chain_answers_a_try_as_long_as_an_idiom_that_may_follow(
        make_chat, bank_dir) -> None:
    chat = await make_chat(config())
    await chat.say("carol", "成语接龙 一应俱全")  # after 全: idioms of 4, 5, 8 and 12
    assert "不在成语词典" in texts(await chat.say("dan", "全民健身运动会好"))[0]  # 8
    assert texts(await chat.say("dan", "全家今天都去看电影")) == []  # 9
    assert texts(await chat.say("dan", "全家一起去玩")) == []  # 6
    assert "接上「全心全意」" in texts(await chat.say("dan", "@小助手 全心全意"))[0]


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


async def test_repeated_chain_hints_show_different_idioms(make_chat, bank_dir) -> None:
    chat = await make_chat(config(chain={"hints": 3}))
    await chat.say("carol", "成语接龙 画蛇添足")
    hints = [texts(await chat.say("dan", "接龙提示"))[0] for _ in range(3)]
    assert hints[0] == "💡 提示：足智＿＿"  # the most common first
    assert len(set(hints)) == 3 and all(h.count("＿") == 2 for h in hints)


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
