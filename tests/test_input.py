"""bot/input.py: what members type, read the way they mean it."""

from __future__ import annotations

import contextlib
import time as timer
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import cn2an
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import input as member_input
from bot.input import (
    TOO_BIG,
    DeadlinePassed,
    command_forms,
    parse_deadline,
    parse_duration,
    phrase_key,
    points_amount,
    read_int,
    split_multiplier,
    take_deadline,
    take_number,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23, 15:00 in the group's timezone
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "value"), [
    ("十", 10), ("一百", 100), ("两", 2), ("1千", 1000), ("５０", 50), ("1,000", 1000),
    ("1万", 10000), ("一万五", 15000), ("两千三百", 2300), ("1.5万", 15000), ("０", 0),
    ("-5", -5), ("一百零五", 105), ("廿", 20), ("１，０００", 1000),
])
def test_numbers_in_every_form_members_write(text: str, value: int) -> None:
    assert read_int(text) == value


@pytest.mark.parametrize("text", ["", "万", "百", "十十", "abc", "3.5", "1,00", "十块", "3或4"])
def test_what_is_not_a_whole_number(text: str) -> None:
    assert read_int(text) is None


def test_amounts_with_units_and_what_follows() -> None:
    assert take_number("１００积分 10个 周末快乐", ("积分",)) == (100, "10个 周末快乐")
    assert take_number("10 积分", member_input.POINT_UNITS) == (10, "")
    assert take_number("三号", ("号",)) == (3, "")
    assert take_number("十 奖品") == (10, "奖品")
    assert take_number("奖品 十") is None
    assert read_int("10分", member_input.POINT_UNITS) == 10
    assert points_amount("５０积分") == 50 and points_amount("五十积分") == 50
    assert points_amount("50 points") == 50 and points_amount("10分") == 10
    assert points_amount("奶茶") is None and points_amount("50元") is None
    assert points_amount("二等奖") is None and points_amount("50") is None


def test_a_sixty_digit_number_is_too_big_at_once() -> None:
    for text in ("1" * 60, "１" * 60, "9" * 100_000, "一" * 60):
        started = timer.perf_counter()
        assert read_int(text) == TOO_BIG
        assert timer.perf_counter() - started < 0.05
    assert take_number("-" + "9" * 60) == (-TOO_BIG, "")


@given(st.integers(min_value=0, max_value=10**12))
def test_round_trip_through_every_written_form(value: int) -> None:
    assert read_int(str(value)) == value
    assert read_int(f"{value:,}") == value
    full_width = str(value).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert read_int(full_width) == value
    chinese = cn2an.an2cn(value)
    if len(chinese) <= member_input.MAX_NUMBER_CHARS:
        assert read_int(chinese) == value


@given(st.text(max_size=30))
def test_anything_reads_as_a_number_or_none_never_an_error(text: str) -> None:
    assert read_int(text) is None or isinstance(read_int(text), int)
    assert parse_duration(text) is None or parse_duration(text) > timedelta(0)
    with contextlib.suppress(DeadlinePassed):
        parse_deadline(text, NOW)
    split_multiplier(text)
    command_forms(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("奶茶×三", ("奶茶", 3)), ("５０积分＊２", ("５０积分", 2)), ("书x3", ("书", 3)),
    ("一等奖*1", ("一等奖", 1)), ("一等奖", ("一等奖", 1)), ("iPhone X", ("iPhone X", 1)),
    ("Xbox", ("Xbox", 1)), ("奖品 × 两份", ("奖品", 2)), ("50积分X十", ("50积分", 10)),
])
def test_prize_multipliers(text: str, expected: tuple[str, int]) -> None:
    assert split_multiplier(text) == expected


def test_a_huge_multiplier_is_too_big() -> None:
    assert split_multiplier("奖*" + "9" * 60) == ("奖", TOO_BIG)
    started = timer.perf_counter()
    for word in ("x1" * 50_000, "十" * 100_000, "奖*" + "1" * 100_000):
        assert split_multiplier(word) == (word, 1)
    assert timer.perf_counter() - started < 0.05


@pytest.mark.parametrize(("text", "span"), [
    ("2小时", timedelta(hours=2)), ("30分钟", timedelta(minutes=30)),
    ("1小时", timedelta(hours=1)), ("半小时", timedelta(minutes=30)),
    ("一个半小时", timedelta(minutes=90)), ("两天半", timedelta(days=2.5)),
    ("1小时30分", timedelta(minutes=90)), ("2h", timedelta(hours=2)),
    ("1h30m", timedelta(minutes=90)), ("1.5小时", timedelta(minutes=90)),
    ("３天", timedelta(days=3)),
    ("一周", timedelta(days=7)), ("2个小时后", timedelta(hours=2)), ("90s", timedelta(seconds=90)),
    ("十分钟", timedelta(minutes=10)),
])
def test_durations(text: str, span: timedelta) -> None:
    assert parse_duration(text) == span


@pytest.mark.parametrize("text", ["", "2", "小时", "半半小时", "9" * 60 + "天", "两年", "1 2h"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "expected"), [
    ("2小时", "2026-11-23 17:00"), ("30m", "2026-11-23 15:30"),
    ("今晚9点", "2026-11-23 21:00"), ("今晚9点半", "2026-11-23 21:30"),
    ("明天中午12点", "2026-11-24 12:00"), ("明天中午1点", "2026-11-24 13:00"),
    ("明早8点", "2026-11-24 08:00"), ("周五20:00", "2026-11-27 20:00"),
    ("星期五 晚上8点", "2026-11-27 20:00"), ("下周一9点", "2026-11-30 09:00"),
    ("11月30日 20:00", "2026-11-30 20:00"), ("11月30号20点", "2026-11-30 20:00"),
    ("2026-11-30 20:00", "2026-11-30 20:00"), ("十二月一日 八点", "2026-12-01 08:00"),
    ("21:00", "2026-11-23 21:00"), ("２１：００", "2026-11-23 21:00"),
    ("9:00", "2026-11-24 09:00"),  # a bare clock time already past: tomorrow's
    ("下午3点一刻", "2026-11-23 15:15"), ("晚上8点前", "2026-11-23 20:00"),
    ("1月3日 10:00", "2027-01-03 10:00"), ("今晚12点", "2026-11-24 00:00"),
    ("周五晚上12点", "2026-11-28 00:00"), ("明天中午12点半", "2026-11-24 12:30"),
])
def test_deadlines_in_the_groups_timezone(text: str, expected: str) -> None:
    assert parse_deadline(text, NOW) == at(expected)


@pytest.mark.parametrize("text", ["今天9点", "今天上午10点", "周一10:00", "11月20日 20:00",
                                  "2026-11-23 14:59"])
def test_a_deadline_already_past_is_refused(text: str) -> None:
    with pytest.raises(DeadlinePassed):
        parse_deadline(text, NOW)


@pytest.mark.parametrize("text", ["明天", "25:00", "今晚", "周八8点", "2月30日 8点", "9", "奖品"])
def test_not_deadlines(text: str) -> None:
    assert parse_deadline(text, NOW) is None


def test_a_deadline_may_span_several_words() -> None:
    assert take_deadline(["11月30日", "20:00", "一等奖*1"], NOW) == (at("2026-11-30 20:00"), 2)
    assert take_deadline(["明天", "中午", "12点", "书"], NOW) == (at("2026-11-24 12:00"), 3)
    assert take_deadline(["2小时", "50积分*2"], NOW) == (at("2026-11-23 17:00"), 1)
    assert take_deadline(["奖品"], NOW) is None


@pytest.mark.parametrize("text", ["我要抽奖", "我要抽奖～", "我要抽奖🙏", "我要抽奖！！",
                                  " 我要 抽奖 ", "我要抽奖[合十]", "我要抽奖❤️", "我要抽奖👍🏻"])
def test_keyword_phrases_ignore_decoration(text: str) -> None:
    assert phrase_key(text) == "我要抽奖"
    assert phrase_key("ＪＯＩＮ now!") == "joinnow"


@pytest.mark.parametrize(("text", "form"), [
    ("打卡：今天读了10页", ("打卡", "今天读了10页")), ("打卡:读书", ("打卡", "读书")),
    ("打卡，读书", ("打卡", "读书")), ("打卡,读书", ("打卡", "读书")),
    ("打卡~读书", ("打卡", "读书")),
    ("打卡～读书 很开心", ("打卡", "读书 很开心")), ("#打卡", ("打卡", "")),
    ("＃打卡 今天", ("打卡", "今天")), ("【打卡】今天读了", ("打卡", "今天读了")),
    ("#打卡：今天", ("打卡", "今天")),
])
def test_keyword_command_forms(text: str, form: tuple[str, str]) -> None:
    assert form in command_forms(text)


def test_command_forms_cost_the_same_for_a_long_message() -> None:
    started = timer.perf_counter()
    long = "字" * 100_000
    for text in (long, "#" + long, "【" + long, "打卡：" + long, "#打卡 " + long):
        forms = command_forms(text)
        assert all(len(word) <= member_input.MAX_COMMAND_WORD for word, _ in forms)
    assert timer.perf_counter() - started < 0.05


def test_ordinary_chat_has_no_command_form() -> None:
    assert command_forms("今天天气不错") == []
    assert command_forms("【】") == []


@given(st.integers(min_value=2, max_value=60 * 24 * 29))
def test_every_future_minute_round_trips_through_a_written_deadline(minutes: int) -> None:
    target = NOW + timedelta(minutes=minutes)
    for text in (f"{target.month}月{target.day}日 {target:%H:%M}",
                 f"{cn2an.an2cn(target.month)}月{cn2an.an2cn(target.day)}号{target.hour}点"
                 f"{target.minute}分", f"{target:%Y-%m-%d %H:%M}"):
        assert parse_deadline(text, NOW) == target, text


@given(st.integers(min_value=1, max_value=99), st.sampled_from(["小时", "分钟", "天", "h", "m"]))
def test_durations_round_trip_in_digits_and_numerals(count: int, unit: str) -> None:
    span = parse_duration(f"{count}{unit}")
    assert span is not None and span == parse_duration(f"{cn2an.an2cn(count)}{unit}")
    assert parse_duration(f"{count}个半{unit}") in (None, span + span / count / 2)
