"""Undoing the evasions spammers use before matching, without inventing words members
never wrote.

`prepare` folds full-width and compatibility forms (NFKC), drops invisible characters,
folds case and turns traditional characters into simplified ones (OpenCC's t2s tables).

`clauses` first cuts the text, as typed, where a sentence ends: a line break always;
sentence punctuation (，。！？；… and ASCII , ! ? ;) unless it sits between two single
characters, which is someone spelling a word out letter by letter (刷，单); ". " between
an English word and a capitalised one ("spa. Massage"). Inside a clause every other
separator is an evasion and is dropped (刷.单, 刷 单, 刷*单, 刷、单, s.p.a.m), so
"卡不够刷，单位" stays two clauses and never reads 刷单.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

_INVISIBLE = re.compile(
    r"[\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad\u180e\ufe00-\ufe0f]")
_T2S = OpenCC("t2s")
_WORD = re.compile(r"[^\W_]+")  # letters and digits
_SEPARATORS = re.compile(r"([\W_]+)")  # a run of anything else, kept by split
_LINE_BREAK = re.compile(r"[\n\r\u2028\u2029]")
# Marks that end a sentence, as typed (before full-width forms are folded): the Chinese
# ones, and the ASCII ones Chinese keyboards also give (an ASCII "." is not among them:
# between Chinese characters it is decoration, 刷.单).
_SENTENCE_MARK = re.compile(r"[，。！？；…,!?;｡︐︒︕︖]")
# An English sentence ending and the next one starting: "spa. Massage", "ok. Me too".
_ENGLISH_LEFT = re.compile(r"[a-z]{2}$")
_ENGLISH_RIGHT = re.compile(r"^[A-Z][a-z]")


@lru_cache(maxsize=4096)
def prepare(text: str) -> str:
    """NFKC, no invisible characters, case folded, simplified."""
    return _T2S.convert(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold())


def canonical(text: str) -> str:
    """Letters and digits only, simplified, lower-case, half-width (across the whole
    text: for comparing short messages, not for finding words)."""
    return "".join(_WORD.findall(prepare(text)))


def readable(text: str) -> str:
    """Prepared text with its punctuation: for links, which need their dots."""
    return prepare(text)


@lru_cache(maxsize=4096)
def clauses(text: str) -> tuple[str, ...]:
    """The text cut where its sentences end, each clause prepared (separators kept)."""
    parts = _SEPARATORS.split(text)  # word, separator, word, separator, …
    found: list[str] = []
    current = parts[0]
    for i in range(1, len(parts) - 1, 2):
        separator, left, right = parts[i], parts[i - 1], parts[i + 1]
        if _ends_sentence(separator, left, right):
            found.append(current)
            current = right
        else:
            current += separator + right
    found.append(current)
    return tuple(prepared for clause in found if (prepared := prepare(clause)))


def _ends_sentence(separator: str, left: str, right: str) -> bool:
    if _LINE_BREAK.search(separator):
        return True
    if _SENTENCE_MARK.search(separator):
        return not (len(left) == 1 and len(right) == 1)  # 刷，单: spelled out, not a sentence
    # "spa. Massage": two English sentences; "刷. 单", "sp. am", "S. P. A. M": decoration
    return "." in separator and separator[-1].isspace() and bool(
        _ENGLISH_LEFT.search(left) and _ENGLISH_RIGHT.search(right))


def squeeze(clause: str) -> str:
    """A clause's letters and digits: what words are matched against."""
    return "".join(_WORD.findall(clause))
