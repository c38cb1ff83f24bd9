"""Undoing the evasions spammers use before matching, without inventing words members
never wrote.

`prepare` folds full-width and compatibility forms (NFKC), drops invisible characters,
folds case and turns traditional characters into simplified ones (OpenCC's character
table).

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
from collections.abc import Callable
from functools import lru_cache

from bot.input import simplified

_INVISIBLE = re.compile(
    r"[\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad\u180e\ufe00-\ufe0f]")


_WORD = re.compile(r"[^\W_]+")  # letters and digits
_NOT_WORD = re.compile(r"[^\w\n]|_")  # what squeezing drops (clause ends stay)
_W, _S = r"[^\W_]", r"[\W_]"  # a letter or digit; anything else
# Marks that end a sentence, as typed (before full-width forms are folded): the Chinese
# ones, and the ASCII ones Chinese keyboards also give (an ASCII "." is not among them:
# between Chinese characters it is decoration, 刷.单).
_MARK = r"[，。！？；…,!?;｡︐︒︕︖]"
_MARK_RUN = rf"(?:(?!{_MARK}){_S})*{_MARK}{_S}*"  # a separator run holding such a mark
_SENTENCE_END = re.compile(
    rf"(?<!{_S}){_S}*?[\n\r\u2028\u2029]{_S}*"  # a line break, always
    rf"|(?<={_W}{_W}){_MARK_RUN}"  # a mark after a word of two or more characters …
    rf"|(?<={_W}){_MARK_RUN}(?={_W}{_W})"  # … or before one (刷，单 is spelled out)
    r"|(?<=[a-z]{2})[^\w\s]*\.\s+(?=[A-Z][a-z])")  # "spa. Massage": English sentences
# Texts up to this long are cached (a message is prepared by several rules); longer ones
# are not, so a run of 100 KB messages keeps no memory (issue 14).
CACHED_LENGTH = 500


def _last_one(function: Callable[[str], str]) -> Callable[[str], str]:
    """For texts over CACHED_LENGTH: the last one's result is kept (one text, bounded
    memory), since the rules read one message several times in a row."""
    last: tuple[str | None, str] = (None, "")

    def remembered(text: str) -> str:
        nonlocal last
        if text != last[0]:
            last = (text, function(text))
        return last[1]

    return remembered


def prepare(text: str) -> str:
    """NFKC, no invisible characters, case folded, simplified."""
    return _prepare_cached(text) if len(text) <= CACHED_LENGTH else _prepare_long(text)


def _prepare(text: str) -> str:
    return simplified(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold())


_prepare_cached = lru_cache(maxsize=4096)(_prepare)
_prepare_long = _last_one(_prepare)


def canonical(text: str) -> str:
    """Letters and digits only, simplified, lower-case, half-width (across the whole
    text: for comparing short messages, not for finding words)."""
    return "".join(_WORD.findall(prepare(text)))


def clause_text(text: str) -> str:
    """The prepared text with one line per clause: found by regular expressions on the
    text as typed, so a 100 KB message costs a few C passes, not a Python loop."""
    return _clauses_cached(text) if len(text) <= CACHED_LENGTH else _clauses_long(text)


def _clause_text(text: str) -> str:
    return prepare(_SENTENCE_END.sub("\n", text))


_clauses_cached = lru_cache(maxsize=1024)(_clause_text)
_clauses_long = _last_one(_clause_text)


def clauses(text: str) -> tuple[str, ...]:
    """The text cut where its sentences end, each clause prepared (separators kept)."""
    return tuple(clause for clause in clause_text(text).split("\n") if clause)


def squeezed_clauses(text: str) -> str:
    """Each clause's letters and digits, one clause a line: words are matched within a
    line and never across one."""
    return _NOT_WORD.sub("", clause_text(text))


def squeeze(clause: str) -> str:
    """A clause's letters and digits: what words are matched against."""
    return "".join(_WORD.findall(clause))
