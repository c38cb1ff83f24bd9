"""Is a message a correct answer? Normalization first, then an exact comparison.

Chinese has no spaces, so substring matching would count "北京上海广州" as 北京. Instead a
message is reduced to its letters and digits (width, case, spaces and punctuation gone,
traditional characters simplified), filler words around the answer are peeled off ("答案是",
"我猜", "吧"), and what is left must equal an accepted answer. A message listing several
candidates leaves more than one answer and so never matches.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import cn2an
from opencc import OpenCC

from plugins.quiz.bank import LETTERS, Question

# Longest first: "答案是" before "答案", "我猜是" before "我猜".
PREFIXES = tuple(sorted((
    "我觉得答案是", "我觉得是", "我觉得", "答案应该是", "答案是", "答案", "应该是", "我猜是",
    "我猜", "我选", "选择", "选", "是", "答", "the answer is", "answer", "its", "it is",
), key=len, reverse=True))
SUFFIXES = ("吧", "吗", "呀", "啊", "呢", "哦", "嘛", "了", "对吧", "吧吧")
MEASURE_WORDS = "个只位名条座种次年岁天人本首句"
NUMBER = re.compile(r"^[0-9零〇一二两三四五六七八九十百千万亿点.]+$")

_to_simplified = OpenCC("t2s").convert


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Full width to half, lower case, simplified; only letters, digits and marks kept."""
    text = _to_simplified(unicodedata.normalize("NFKC", text)).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] in "LNM")


def _strip_prefix(text: str) -> str:
    for prefix in PREFIXES:
        key = normalize(prefix)
        if text.startswith(key) and len(text) > len(key):
            return text[len(key):]
    return text


def forms(message: str) -> set[str]:
    """The message as typed (normalized) and with filler words peeled off."""
    text = normalize(message[:200])
    found = {text}
    for _ in range(2):  # "我猜答案是北京吧"
        text = _strip_prefix(text)
        for suffix in sorted(SUFFIXES, key=len, reverse=True):
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        found.add(text)
    return found


def as_number(text: str) -> float | None:
    """`24`, `二十四`, `２４` → 24.0; a measure word after it is allowed (`四个`)."""
    if len(text) > 1 and text[-1] in MEASURE_WORDS:
        text = text[:-1]
    if not text or not NUMBER.match(text):
        return None
    try:
        return float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, IndexError):
        return None


def is_correct(question: Question, message: str) -> bool:
    candidates = forms(message)
    if question.choices:
        picked = picked_choices(question.choices, candidates)
        if picked:  # a letter or a choice's text: right only if every choice named is right
            return all(question.choices[i] in question.answers for i in picked)
    accepted = {normalize(a) for a in question.answers}
    if candidates & accepted:
        return True
    numbers = {n for n in map(as_number, accepted) if n is not None}
    return bool(numbers) and any(as_number(c) in numbers for c in candidates)


def picked_choices(choices: list[str], candidates: set[str]) -> set[int]:
    """The options a message names: by letter (`B`), text (`长江`) or both (`B. 长江`)."""
    picked = set()
    for index, choice in enumerate(choices):
        letter, text = LETTERS[index].casefold(), normalize(choice)
        if candidates & {letter, text, letter + text}:
            picked.add(index)
    return picked
