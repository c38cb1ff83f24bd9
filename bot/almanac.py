"""Dates as members read them: weekday, lunar date and solar term (节气), in zh or en,
and the placeholders owners put in timed texts.

lunar-python computes the lunar calendar and the 24 solar terms offline (pure Python, no
data files), so a briefing's header needs no network.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from lunar_python import Solar

from bot.text import fill as text_fill

WEEKDAYS_ZH = "一二三四五六日"
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

SOLAR_TERMS_EN = {
    "立春": "Start of Spring", "雨水": "Rain Water", "惊蛰": "Awakening of Insects",
    "春分": "Spring Equinox", "清明": "Pure Brightness", "谷雨": "Grain Rain",
    "立夏": "Start of Summer", "小满": "Grain Buds", "芒种": "Grain in Ear",
    "夏至": "Summer Solstice", "小暑": "Minor Heat", "大暑": "Major Heat",
    "立秋": "Start of Autumn", "处暑": "End of Heat", "白露": "White Dew",
    "秋分": "Autumn Equinox", "寒露": "Cold Dew", "霜降": "Frost's Descent",
    "立冬": "Start of Winter", "小雪": "Minor Snow", "大雪": "Major Snow",
    "冬至": "Winter Solstice", "小寒": "Minor Cold", "大寒": "Major Cold",
}


def weekday(day: date, language: str) -> str:
    if language == "en":
        return WEEKDAYS_EN[day.weekday()]
    return "星期" + WEEKDAYS_ZH[day.weekday()]


def long_date(day: date, language: str) -> str:
    if language == "en":
        return f"{day.day} {day:%B} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


@lru_cache(maxsize=512)
def _lunar(day: date) -> tuple[int, str, str, str, str]:
    """(month number, negative if leap; month name; day name; today's term; current term)."""
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    current = lunar.getPrevJieQi(True).getName()
    return (lunar.getMonth(), lunar.getMonthInChinese(), lunar.getDayInChinese(),
            lunar.getJieQi(), current)


def lunar_date(day: date, language: str) -> str:
    """农历十月十五 / Lunar 10/15 (leap months marked)."""
    month, month_zh, day_zh, _, _ = _lunar(day)
    if language == "en":
        leap = "leap " if month < 0 else ""
        return f"Lunar {leap}{abs(month)}/{_lunar_day_number(day_zh)}"
    return f"农历{month_zh}月{day_zh}"


def solar_term(day: date, language: str) -> str:
    """The solar term the day falls in; "今日小雪" on the day a term begins."""
    _, _, _, today, current = _lunar(day)
    if language == "en":
        name = SOLAR_TERMS_EN.get(current, current)
        return f"{name} begins today" if today else name
    return f"今日{today}" if today else current


_DIGITS = "一二三四五六七八九十"


def _lunar_day_number(day_zh: str) -> int:
    """初五 → 5, 十五 → 15, 二十 → 20, 廿三 → 23, 三十 → 30."""
    if day_zh in ("二十", "三十"):
        return 20 if day_zh == "二十" else 30
    head, tail = day_zh[0], day_zh[1]
    units = _DIGITS.index(tail) + 1
    if head == "初":
        return units
    if head == "十":
        return 10 + units
    return 20 + units  # 廿


def fill(text: str, day: date, language: str, values: dict[str, str]) -> str:
    """Owners' placeholders: {date} {weekday} {lunar} {term} plus `values`, through the one
    safe filler. Anything else — unknown names, stray or doubled braces — stays as typed."""
    if "{" not in text:
        return text  # the lunar calendar is only computed when a placeholder may need it
    known = {"date": day.isoformat(), "weekday": weekday(day, language),
             "lunar": lunar_date(day, language), "term": solar_term(day, language), **values}
    return text_fill(text, known)
