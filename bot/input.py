"""Reading what members type: numbers, amounts, durations, deadlines, prize multipliers,
keyword phrases and keyword-command forms, in the forms Chinese members use.

Serves issue 13 ("Chinese input, everywhere": `十`, `一百`, `两`, `1千`, `５０`, `1,000`,
`10积分`, `2小时`, `半小时`, `今晚9点`, `周五20:00`, `奶茶×三`, `打卡：…`, `#打卡`, `【打卡】`,
`我要抽奖～`) and issue 14 point 6 (bounded work: a number longer than MAX_NUMBER_CHARS is
never converted, it reads as TOO_BIG, which every range check refuses).

Every plugin that reads a number, an amount, a duration or a deadline from a member uses
this module rather than a regular expression of its own; the dispatcher's split_command
uses `command_forms`. cn2an is imported on first use: importing it costs ~0.15 s at start.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

# A number written with more characters than this is not converted (a 60-digit amount
# costs nothing): it reads as TOO_BIG. Generous: "一万五千三百二十一" is 9 characters.
MAX_NUMBER_CHARS = 16
TOO_BIG = 10**18

CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟廿"
_D = "0-9０-９"
# A leading number: digits with thousands commas (1,000), or digits and Chinese numerals
# mixed (1千, 5万3, 一百), with an optional decimal part (1.5万).
_NUMBER = re.compile(
    rf"[+\-]?(?:[{_D}]{{1,3}}(?:[,，][{_D}]{{3}})+(?![{_D}])|[{_D}{CN_NUMERALS}]+)"
    rf"(?:[.．][{_D}]+[{CN_NUMERALS}]?)?")
POINT_UNITS = ("积分", "分", "points", "point", "pts", "pt")
COUNT_UNITS = ("个", "份", "名", "人", "位", "次", "shares", "share")


@cache
def _traditional_table() -> dict[int, str]:
    """OpenCC's character table (traditional → first simplified form) as a str.translate
    table: C speed on any length, where OpenCC's phrase segmentation costs about a second
    per 100 KB. Phrase-level choices don't matter for matching words. Read on first use."""
    import opencc

    table: dict[int, str] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        if len(traditional) == 1 and simplified:
            table[ord(traditional)] = simplified.split()[0]
    return table


def simplified(text: str) -> str:
    """Traditional characters as simplified ones (請問會費多少 → 请问会费多少): members in
    Hong Kong, Taiwan and abroad type them, and every reader of members' words folds them."""
    return text.translate(_traditional_table())


def load_numerals() -> None:
    """For the runtime's warm-up: the first Chinese numeral then costs no import."""
    _cn2an()


def _cn2an() -> Any:
    from bot.shims import import_cn2an

    # Lazily: start-up time matters, and most messages have no numeral; without
    # pkg_resources (~12 MB), which cn2an only uses to open its config file, and without
    # the parts of proces it does not use (~3 MB; bot/shims.py).
    return import_cn2an()


def number_value(token: str) -> float | None:
    """The value of a number written in any form (`24`, `２４`, `二十四`, `1千`, `1,000`,
    `1.5万`, `二十四点五`); None if `token` is not one. Over-long numbers are TOO_BIG."""
    if len(token) > 4 * MAX_NUMBER_CHARS:  # never normalized, converted or cached
        text = token.strip().lstrip("+-")
        if not _looks_numeric(unicodedata.normalize("NFKC", text[:100])):
            return None
        return float(-TOO_BIG if token.strip()[:1] == "-" else TOO_BIG)
    return _number_value(token)


@lru_cache(maxsize=4096)
def _number_value(token: str) -> float | None:
    text = unicodedata.normalize("NFKC", token).strip()
    negative = text[:1] == "-"
    text = text.lstrip("+-")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    if not text:
        return None
    if len(text) > MAX_NUMBER_CHARS:
        return None if not _looks_numeric(text) else float(-TOO_BIG if negative else TOO_BIG)
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        value = float(text)
    else:
        if not _looks_numeric(text):
            return None
        try:
            value = float(_cn2an().cn2an(text, "smart"))
        except (ValueError, KeyError, IndexError, TypeError):
            return None
    return -value if negative else value


def _looks_numeric(text: str) -> bool:
    return all(c.isdigit() or c in CN_NUMERALS or c in ".点," for c in text)


def _whole(value: float | None) -> int | None:
    if value is None or not value.is_integer():
        return None
    return int(value)


def take_number(text: str, units: tuple[str, ...] = ()) -> tuple[int, str] | None:
    """A whole number at the start of `text` and, optionally, one of `units` after it:
    (the number, the rest, stripped); None without a leading whole number, or when a
    letter follows it (`3abc`, `三国` are words).

    `十 奖品` → (10, "奖品"), `１００积分 10个` with units 积分 → (100, "10个")."""
    stripped = text.lstrip()
    match = _NUMBER.match(stripped)
    if match is None:
        return None
    value = _whole(number_value(match.group(0)))
    if value is None:
        return None
    rest = stripped[match.end():]
    after = rest.lstrip()
    folded = after.casefold()
    for unit in sorted(units, key=len, reverse=True):
        if folded.startswith(unit.casefold()):
            rest = after[len(unit):]
            break
    if rest[:1].isalpha():  # "3abc", "三国", "3点奖品": a word, not a number
        return None
    return value, rest.strip()


def read_int(text: str, units: tuple[str, ...] = ()) -> int | None:
    """`text` is a whole number and nothing else (a unit from `units` may follow it)."""
    taken = take_number(text, units)
    return taken[0] if taken is not None and not taken[1] else None


def points_amount(text: str) -> int | None:
    """The points a prize or an amount names: `50积分`, `５０积分`, `五十积分`, `50 points`,
    `10分` → 50, 50, 50, 50, 10; None for anything else (`奶茶`, `50元`, `50`)."""
    for unit in POINT_UNITS:
        if text.rstrip().casefold().endswith(unit):
            return read_int(text.rstrip()[:-len(unit)])
    return None


# ---- prizes with a multiplier -------------------------------------------------------------

_TIMES = "*＊×✕✖xX"
MAX_PRIZE_WORD = 100
_MULTIPLIER = re.compile(rf"^(?P<name>.+?)\s*[{_TIMES}]\s*(?P<count>[+\-]?[{_D}{CN_NUMERALS}]+)"
                         rf"\s*(?:{'|'.join(COUNT_UNITS)})?$")


def split_multiplier(word: str) -> tuple[str, int]:
    """`奶茶×三` → ("奶茶", 3); `５０积分＊２` → ("５０积分", 2); `一等奖` → ("一等奖", 1).
    A count too long to read is TOO_BIG (the caller's range check refuses it)."""
    word = word.strip()
    if len(word) > MAX_PRIZE_WORD:  # bounded work; no prize is named at such length
        return word, 1
    match = _MULTIPLIER.match(word)
    if match is not None:
        count = _whole(number_value(match.group("count")))
        if count is not None:
            return match.group("name").strip(), count
    return word, 1


def _compact(text: str) -> str:
    """Width folded, spaces gone — except one between two digits (`1 2h` is no `12h`)."""
    text = unicodedata.normalize("NFKC", text[:200]).strip()
    kept = re.sub(r"(?<=\d)\s+(?=\d)", "\x00", text)
    return re.sub(r"\s+", "", kept).replace("\x00", " ")


# ---- durations ----------------------------------------------------------------------------

_SECOND, _MINUTE, _HOUR, _DAY = 1, 60, 3600, 86400
_DURATION_UNITS = {
    "秒钟": _SECOND, "秒": _SECOND, "seconds": _SECOND, "second": _SECOND, "secs": _SECOND,
    "sec": _SECOND, "s": _SECOND,
    "分钟": _MINUTE, "分": _MINUTE, "minutes": _MINUTE, "minute": _MINUTE, "mins": _MINUTE,
    "min": _MINUTE, "m": _MINUTE,
    "小时": _HOUR, "钟头": _HOUR, "hours": _HOUR, "hour": _HOUR, "hrs": _HOUR, "hr": _HOUR,
    "h": _HOUR,
    "天": _DAY, "日": _DAY, "days": _DAY, "day": _DAY, "d": _DAY,
    "星期": 7 * _DAY, "礼拜": 7 * _DAY, "周": 7 * _DAY, "weeks": 7 * _DAY, "week": 7 * _DAY,
    "w": 7 * _DAY,
}
_UNIT_PATTERN = "|".join(sorted(map(re.escape, _DURATION_UNITS), key=len, reverse=True))
_DURATION_PART = re.compile(
    rf"(?P<number>半|[0-9.]+|[{CN_NUMERALS}]+)(?P<piece>个)?(?P<half>半)?"
    rf"(?P<unit>{_UNIT_PATTERN})(?P<half_after>半)?")
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta | None:
    """`2小时`, `30分钟`, `半小时`, `一个半小时`, `两天半`, `1小时30分`, `2h`, `1h30m`, `1.5小时`
    → the span; None for anything else (and for spans of more than ten years)."""
    compact = _compact(text).casefold()
    compact = re.sub(r"(?:以后|之后|后)$", "", compact)
    if not compact or len(compact) > 40:
        return None
    seconds, position = 0.0, 0
    while position < len(compact):
        match = _DURATION_PART.match(compact, position)
        if match is None:
            return None
        number = match.group("number")
        value = 0.5 if number == "半" else number_value(number)
        if value is None or (number == "半" and (match.group("half") or match.group("piece"))):
            return None
        if match.group("half") or match.group("half_after"):
            value += 0.5
        seconds += value * _DURATION_UNITS[match.group("unit")]
        position = match.end()
    if not 0 < seconds <= MAX_DURATION.total_seconds():
        return None
    return timedelta(seconds=seconds)


# ---- deadlines ----------------------------------------------------------------------------

class DeadlinePassed(ValueError):
    """A deadline that names a time already past (`今晚9点` at 22:00)."""

    def __init__(self, at: datetime) -> None:
        super().__init__(f"{at:%m-%d %H:%M} has passed")
        self.at = at


_N = rf"(?:\d{{1,2}}|[{CN_NUMERALS}]{{1,3}})"
_DEADLINE = re.compile(
    rf"^(?:(?P<relative>大后天|后天|明天|明日|明|今天|今日|今)"
    rf"|(?P<next>下个?|这个?|本)?(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天1-7])"
    rf"|(?:(?P<year>\d{{4}})[年\-/.])?(?P<month>{_N})[月\-/.](?P<day>{_N})[日号]?)?"
    rf" ?(?P<part>早上|早晨|上午|中午|下午|傍晚|晚上|夜里|夜间|凌晨|早|午|晚|夜)?"
    rf"(?P<hour>{_N})(?:[:：](?P<minute>\d{{2}})|[点时](?:(?P<half>半)|(?P<quarter>一刻|三刻)"
    rf"|(?P<minute2>{_N})分?)?)整?(?:之前|以前|前|截止)?$")
_RELATIVE_DAYS = {"今": 0, "今天": 0, "今日": 0, "明": 1, "明天": 1, "明日": 1, "后天": 2,
                  "大后天": 3}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_AFTERNOON = ("下午", "傍晚", "晚上", "夜里", "夜间", "晚", "夜")
_NIGHT = ("晚上", "夜里", "夜间", "晚", "夜")


def parse_deadline(text: str, local_now: datetime) -> datetime | None:
    """When `text` says a thing should end, in `local_now`'s timezone: a span from now
    (`2小时`, `30m`), or a time (`21:00`, `今晚9点`, `明天中午12点`, `周五20:00`, `下周一8点`,
    `11月30日 20:00`, `2026-11-30 20:00`). None when it is neither; DeadlinePassed when
    it names a time already past. A bare clock time already past today means tomorrow."""
    span = parse_duration(text)
    if span is not None:
        return local_now + span
    compact = _compact(text)
    if len(compact) > 30:
        return None
    match = _DEADLINE.match(compact)
    if match is None:
        return None
    clock = _clock(match)
    if clock is None:
        return None
    day, named = _day(match, local_now.date())
    if day is None:
        return None
    at = datetime.combine(day + timedelta(days=clock[1]), clock[0], tzinfo=local_now.tzinfo)
    if at > local_now:
        return at
    if not named:  # "21:00" at 22:00: tomorrow's
        return at + timedelta(days=1)
    raise DeadlinePassed(at)


def _small(text: str | None) -> int | None:
    return None if text is None else _whole(number_value(text))


def _clock(match: re.Match[str]) -> tuple[time, int] | None:
    """(the time of day, days to add): `今晚12点` is midnight, at the start of tomorrow."""
    hour = _small(match.group("hour"))
    minute = _small(match.group("minute") or match.group("minute2")) or 0
    if match.group("half"):
        minute = 30
    if match.group("quarter"):
        minute = 15 if match.group("quarter") == "一刻" else 45
    if hour is None or minute is None:
        return None
    part = match.group("part")
    if part in _NIGHT and hour == 12:
        return (time(0, minute), 1) if minute <= 59 else None
    evening = part in _AFTERNOON and hour < 12
    if evening or (part in ("中午", "午") and 1 <= hour <= 10):  # 中午1点 is 13:00
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute), 0


def _day(match: re.Match[str], today: date) -> tuple[date | None, bool]:
    """(the day meant, whether the text named it)."""
    if (relative := match.group("relative")) is not None:
        return today + timedelta(days=_RELATIVE_DAYS[relative]), True
    if (weekday_text := match.group("weekday")) is not None:
        weekday = _WEEKDAYS.get(weekday_text)
        if weekday is None:
            weekday = int(weekday_text) - 1
        if match.group("next") and match.group("next").startswith("下"):
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
            return monday + timedelta(days=weekday), True
        return today + timedelta(days=(weekday - today.weekday()) % 7), True
    if match.group("month") is not None:
        return _calendar_day(match, today), True
    return today, False


def _calendar_day(match: re.Match[str], today: date) -> date | None:
    month, day = _small(match.group("month")), _small(match.group("day"))
    if month is None or day is None:
        return None
    year = int(match.group("year")) if match.group("year") else today.year
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if not match.group("year") and (today - found).days > 180:  # "1月3日" said in December
        found = found.replace(year=year + 1)
    return found


def take_deadline(words: list[str], local_now: datetime,
                  most: int = 3) -> tuple[datetime, int] | None:
    """A deadline written in the first one to `most` words (`11月30日 20:00`, `明天 中午12点`):
    (the deadline, how many words it took), longest reading first; None if none reads.
    DeadlinePassed when the longest reading names a time already past."""
    for count in range(min(most, len(words)), 0, -1):
        at = parse_deadline(" ".join(words[:count]), local_now)
        if at is not None:
            return at, count
    return None


# ---- keyword phrases and command forms ----------------------------------------------------

# WeChat sends its own emoji as text codes ("[合十]"); in a phrase they are decoration.
_EMOJI_CODE = re.compile(r"\[[^\[\]\s]{1,12}\]")
_DECORATION = frozenset("\ufe0e\ufe0f\u20e3")  # variation selectors and the keycap mark


def phrase_key(text: str) -> str:
    """What a keyword phrase (a lottery's 口令) is compared by: width, case, spaces,
    punctuation, `～`, emoji and WeChat emoji codes do not matter (`我要抽奖～`,
    `我要抽奖🙏`, `我要抽奖[合十]` all read as 我要抽奖)."""
    folded = unicodedata.normalize("NFKC", _EMOJI_CODE.sub("", text)).casefold()
    return "".join(c for c in folded
                   if unicodedata.category(c)[0] in "LNM" and c not in _DECORATION)


COMMAND_SEPARATORS = "：:，,~～"
_HASHES = "#＃"
MAX_COMMAND_WORD = 24  # characters looked at for a command word: bounded work per message
_WORD = re.compile(rf"(\S{{1,{MAX_COMMAND_WORD}}})(?:\s+|$)")


def command_forms(text: str) -> list[tuple[str, str]]:
    """The (command word, rest) readings of a message written in a keyword-command form:
    `打卡：今天读了10页`, `打卡~今天…`, `#打卡 …`, `＃打卡`, `【打卡】今天…`. The dispatcher
    tries them in order after the plain `word rest` reading found no command. Only the
    first MAX_COMMAND_WORD characters are searched, whatever the message's length."""
    text = text.strip()
    forms: list[tuple[str, str]] = []
    if text[:1] == "【" and (end := text.find("】", 0, MAX_COMMAND_WORD + 2)) > 1:
        forms.append((text[1:end].strip(), text[end + 1:].strip()))
    if text[:1] in _HASHES and len(text) > 1:
        unhashed = text[1:].lstrip()
        if word := _WORD.match(unhashed):
            forms.append((word.group(1), unhashed[word.end():].strip()))
        forms += _separated(unhashed)
    forms += _separated(text)
    return [(word, rest) for word, rest in forms if word]


def _separated(text: str) -> list[tuple[str, str]]:
    """`打卡：今天…` → [("打卡", "今天…")]: split at the first separator of the first word."""
    for cut, char in enumerate(text[:MAX_COMMAND_WORD + 1]):
        if char.isspace():
            return []
        if char in COMMAND_SEPARATORS:
            if cut == 0:
                return []
            return [(text[:cut], text[cut + 1:].lstrip(COMMAND_SEPARATORS).strip())]
    return []
