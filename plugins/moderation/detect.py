"""Which rule a message breaks, if any. Content rules only: flood and repeat need history
and live in the handlers.

Per message the cost is one Aho–Corasick walk per clause (banned words and their
exception words together) and a handful of compiled regular expressions; nothing loops
over the word list in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ahocorasick
from publicsuffixlist import PublicSuffixList

from bot.events import IncomingMessage, Link, MessageKind, MiniProgram
from bot.input import simplified
from plugins.moderation.normalize import clause_text, clauses, prepare, squeeze, squeezed_clauses
from plugins.moderation.settings import ModerationSettings

# -- contact ads (rule wechat_id) -------------------------------------------------------------
# Matched on a clause's letters and digits, with "+" and "➕" read as 加 (+V, ➕薇).
_ID = r"(?:[a-z][a-z0-9]{5,19}|\d{5,11})"
# Names that only ever mean WeChat/QQ: followed by an id they are an ad.
_ALIAS = (r"(?:微信号?|威信|薇信|徽信|危信|维信|卫星号?|v信|微xin|wei信|weixin|vx|wx"
          r"|扣扣|企鹅号?|qq)")
# Spellings that exist only to dodge a filter: asking to be added through one is an ad,
# with or without an id (加薇, +V, 加卫星, 家薇); 薇薇 is a name, not an evasion.
_EVASIVE = r"(?:薇信|薇(?!薇)|v信|v(?![a-z])|vx|wx|威信|徽信|危信|卫星号?|扣扣|q(?=\d))"
_ADD = r"(?:加|家|联系|私聊|私信|找|扫|戳|滴滴)"
_CONTACT = re.compile(
    rf"(?<![a-z]){_ALIAS}(?:同号|号)?(?:是|为)?{_ID}"
    rf"|{_ADD}(?:我|个|一下)?{_EVASIVE}"
    rf"|{_ADD}(?:我|个)?(?:微|薇|v){_ID}"
    rf"|(?<![a-z])薇{_ID}")
# On the clause as typed: "V❤️：tianmi_520", "薇：abc_123" (a symbol between name and id).
_CONTACT_TYPED = re.compile(r"(?<![a-z])(?:v|薇|威|卫)[ \t]*[^\w\s]+[ \t]*[a-z][a-z0-9_-]{5,19}")
_NOT_WORD = re.compile(r"[^\w\n]|_")
_PLUS = str.maketrans({"+": "加", "➕": "加", "✚": "加", "✛": "加", "✜": "加", "🞡": "加"})

# -- phone numbers ----------------------------------------------------------------------------
# Chinese numerals (and the radio spellings 幺 洞 拐) read as digits; any separator inside a
# line may sit between the groups of a number (186，0001，2345).
_NUMERALS = str.maketrans("零〇洞一二三四五六七八九幺两拐壹贰叁肆伍陆柒捌玖",
                          "000123456789127123456789")
_NOT_DIGIT_OR_WORD = re.compile(r"[^\w\n]|_")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

# -- links --------------------------------------------------------------------------------------
_SCHEME = re.compile(r"h\s?t\s?t\s?p\s?s?\s?:\s?/\s?/\s?[^\s/]+")
_WWW = re.compile(r"(?<![a-z0-9])www\s*[.。]\s*[a-z0-9-]+")
# host.suffix with a real dot (after NFKC a full-width ． is one too); an e-mail's domain counts.
_DOTTED = re.compile(r"(?<![a-z0-9.-])((?:[a-z0-9-]+\.)+)([a-z]{2,24}|xn--[a-z0-9-]+)(?![a-z0-9-])")
# host 。 suffix, host 点 suffix, host dot suffix, host[.]suffix, host . suffix
_SPELLED = re.compile(
    r"(?<![a-z0-9-])([a-z0-9-]{1,63})"  # a DNS label (one with a letter: checked after)
    r"(?:\s*(?:。|点|\[\.\]|\(\.\)|\[dot\]|\(dot\))\s*|\s+dot\s+|\s+\.\s*)"
    r"([a-z]{2,24})(?![a-z0-9-])")
_LETTER = re.compile(r"[a-z]")
# Short-link hosts: their names are too short for the spelled-out rule's length floor.
SHORT_LINK_HOSTS = frozenset({
    "t.cn", "url.cn", "dwz.cn", "bit.ly", "ow.ly", "goo.gl", "is.gd", "t.co", "suo.im",
    "tinyurl.com", "reurl.cc", "w.url.cn", "u.nu", "v.gd", "rb.gy", "cutt.ly", "s.id",
    "t.ly", "tiny.cc", "b23.tv", "j.mp", "sohu.gg", "m6z.cn", "0x3.me", "xg.cn"})
# Public suffixes that are also everyday file extensions: "main.py", "README.md" and
# "报名表.zip" are files members talk about, not links.
_FILE_EXTENSIONS = frozenset({"md", "py", "sh", "zip", "mov", "pl", "rs", "so", "ai", "ps",
                              "cs", "mk", "ts", "pm", "rar"})


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List snapshot shipped inside the package; never fetched."""
    return PublicSuffixList(accept_unknown=False)


def warm_up(settings: ModerationSettings, config_dir: Path) -> None:
    """Parsing the suffix list takes ~0.1 s, reading the traditional-character table a
    little less: at start, not on the first message a member sends."""
    _suffixes()
    simplified("")


@dataclass(frozen=True)
class Violation:
    rule: str
    evidence: str  # what matched, shown to admins and kept in the log


@dataclass
class Allowances:
    """What 误判 allowed in one group: exact matches per rule (`rule:evidence`), and for
    banned words the phrase around the match (`phrase:<word>:<phrase>`)."""

    values: set[str] = field(default_factory=set)
    phrases: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: Iterable[str]) -> Allowances:
        allowed = cls()
        for value in stored:
            allowed.add(value)
        return allowed

    def add(self, value: str) -> None:
        kind, _, rest = value.partition(":")
        if kind == "phrase":
            word, _, phrase = rest.partition(":")
            self.phrases.setdefault(word, set()).add(phrase)
        elif kind != "banned_word":  # a blanket pass for a word is no longer honoured
            self.values.add(value)


@dataclass(frozen=True)
class WordEntry:
    """One line of a word list: `刷单 | 刷单车 | 刷单词` — the word, then the longer words
    that contain it and are fine (exceptions)."""

    word: str
    exceptions: tuple[str, ...] = ()

    @classmethod
    def parse(cls, line: str) -> WordEntry:
        word, *exceptions = (part.strip() for part in line.split("|"))
        return cls(word, tuple(e for e in exceptions if e))


def entry_problems(entry: WordEntry) -> list[str]:
    key = squeeze(prepare(entry.word))
    return [f"例外词「{e}」不包含「{entry.word}」(an exception must contain its word)"
            for e in entry.exceptions if key not in squeeze(prepare(e))]


class Detector:
    """Built once per word list: thousands of words cost one automaton walk per clause."""

    def __init__(self, settings: ModerationSettings, words: Iterable[str | WordEntry]) -> None:
        self.settings = settings
        self._automaton = ahocorasick.Automaton()
        for item in words:
            entry = item if isinstance(item, WordEntry) else WordEntry.parse(item)
            key = squeeze(prepare(entry.word))
            if not key:
                continue
            self._automaton.add_word(key, (entry.word, len(key), ()))
            for exception in entry.exceptions:
                longer = squeeze(prepare(exception))
                if key in longer and longer != key:
                    # where the word sits inside the exception: those spans are excused
                    inside = tuple(i for i in range(len(longer)) if longer.startswith(key, i))
                    self._automaton.add_word(longer, (entry.word, len(longer), inside))
        self._has_words = len(self._automaton) > 0
        if self._has_words:
            self._automaton.make_automaton()
        self._patterns = [re.compile(p, re.IGNORECASE) for p in settings.patterns]
        _suffixes()  # read the suffix list now (half a second), not on a member's message

    def check(self, message: IncomingMessage,
              allowed: Allowances | None = None) -> Violation | None:
        """The first content rule the message breaks. Only what a person typed or shared is
        read: the text of a message (the reply part of a quote), a link card's title and
        description; stickers, images, pats, recalls and system notices have no text."""
        allowed = allowed or Allowances()
        cards = (MessageKind.CARD, MessageKind.MINI_PROGRAM)
        if message.kind in cards and self.settings.block_cards:
            return Violation("card", _card_evidence(message))
        for text in typed_texts(message):
            found = self.check_text(text, allowed)
            if found:
                return found
        return None

    def check_text(self, text: str, allowed: Allowances) -> Violation | None:
        if not text:
            return None
        text = inspected(text)
        if self._has_words and (found := self._banned_word(squeezed_clauses(text), allowed)):
            return found
        prepared = prepare(text) if self._patterns else ""
        for pattern in self._patterns:
            hit = pattern.search(prepared)
            if hit and f"pattern:{hit.group(0)}" not in allowed.values:
                return Violation("pattern", hit.group(0))
        # (误判 on a number or an id allows exactly that one: the guard checks the evidence)
        if self.settings.block_phones and (number := phone_in(text)):
            return Violation("phone", number)
        if self.settings.block_wechat_ids and (contact := contact_in(text)):
            return Violation("wechat_id", contact)
        return None

    def _banned_word(self, squeezed: str, allowed: Allowances) -> Violation | None:
        hits = list(self._automaton.iter(squeezed))
        if not hits:
            return None
        excused = {(word, end - size + 1 + offset)
                   for end, (word, size, inside) in hits for offset in inside}
        for end, (word, size, inside) in hits:
            start, stop = end - size + 1, end + 1
            if inside or (word, start) in excused:
                continue
            if any(_phrase_covers(squeezed, phrase, start, stop)
                   for phrase in allowed.phrases.get(word, ())):
                continue
            return Violation("banned_word", word)
        return None

    def phrase_for(self, text: str, word: str) -> str | None:
        """The phrase around the first `word` in `text` (for 误判 on a stored message)."""
        for clause in clauses(text):
            squeezed = squeeze(clause)
            for end, (found, size, inside) in self._automaton.iter(squeezed):
                if found == word and not inside:
                    return phrase_around(squeezed, end - size + 1, end + 1)
        return None

    @staticmethod
    def link_in(message: IncomingMessage) -> str | None:
        if message.kind is MessageKind.LINK:
            content = message.content
            return (content.url or content.title or "link") if isinstance(content, Link) \
                else "link"
        if message.kind not in (MessageKind.TEXT, MessageKind.QUOTE):
            return None
        return link_in(message.text)


# A very long message is checked on its beginning and its end (where readers look and ads
# sit): bounded time per message whatever its length (about 40 ms at most).
INSPECT_HEAD, INSPECT_TAIL = 6_000, 2_000


def inspected(text: str) -> str:
    if len(text) <= INSPECT_HEAD + INSPECT_TAIL:
        return text
    return text[:INSPECT_HEAD] + "\n" + text[-INSPECT_TAIL:]


def typed_texts(message: IncomingMessage) -> Iterator[str]:
    if message.kind in (MessageKind.TEXT, MessageKind.QUOTE):
        yield message.text
    elif message.kind is MessageKind.LINK and isinstance(message.content, Link):
        yield message.content.title
        yield message.content.description
    elif message.kind is MessageKind.MINI_PROGRAM and isinstance(message.content, MiniProgram):
        yield message.content.title


def _card_evidence(message: IncomingMessage) -> str:
    if isinstance(message.content, MiniProgram):
        return message.content.title or message.content.app or message.kind.value
    return message.kind.value


def phrase_around(squeezed: str, start: int, stop: int) -> str:
    """The words (jieba's) that the match overlaps — 刷单车 for 刷单 in 我们刷单车去 — and,
    when those are just the banned word, one more word on each side (是spam邮件): what
    误判 allows, so the next spammer using the bare word is still caught."""
    from bot.activity import load_segmenter

    load_segmenter()  # loaded only when an admin says 误判, with the compact dictionary
    import jieba

    tokens = list(jieba.tokenize(squeezed))
    inside = [i for i, (_, s, e) in enumerate(tokens) if s < stop and e > start]
    if not inside:  # jieba covers every character; this is only a safety net
        return squeezed[max(0, start - 1):stop + 1]
    first, last = inside[0], inside[-1]
    if squeezed[tokens[first][1]:tokens[last][2]] == squeezed[start:stop]:
        first, last = max(0, first - 1), min(len(tokens) - 1, last + 1)
    return squeezed[min(tokens[first][1], start):max(tokens[last][2], stop)]


def _phrase_covers(squeezed: str, phrase: str, start: int, stop: int) -> bool:
    at = squeezed.find(phrase)
    while at != -1:
        if at <= start and stop <= at + len(phrase):
            return True
        at = squeezed.find(phrase, at + 1)
    return False


def phone_in(text: str) -> str | None:
    digits = _NOT_DIGIT_OR_WORD.sub("", prepare(text).translate(_NUMERALS))
    found = _PHONE.search(digits)
    return found.group(0) if found else None


def contact_in(text: str) -> str | None:
    prepared = clause_text(text)
    found = (_CONTACT.search(_NOT_WORD.sub("", prepared.translate(_PLUS)))
             or _CONTACT_TYPED.search(prepared))
    return found.group(0) if found else None


def link_in(text: str) -> str | None:
    """The first link in the text, however its dots are written; hosts count when their
    suffix is on the Public Suffix List (or they are a known short-link host)."""
    if not text:
        return None
    prepared = prepare(inspected(text))
    if found := _SCHEME.search(prepared) or _WWW.search(prepared):
        return found.group(0)
    for hit in _DOTTED.finditer(prepared):
        host = hit.group(1) + hit.group(2)
        if hit.group(1).count(".") == 1 and hit.group(2) in _FILE_EXTENSIONS:
            continue
        if host in SHORT_LINK_HOSTS or _suffixes().privatesuffix(host) is not None:
            return hit.group(0)
    for hit in _SPELLED.finditer(prepared):
        label, host = hit.group(1), f"{hit.group(1)}.{hit.group(2)}"
        if host in SHORT_LINK_HOSTS or (len(label) >= 3 and _LETTER.search(label)
                                        and _suffixes().privatesuffix(host) is not None):
            return hit.group(0)
    return None


def load_words(settings: ModerationSettings, config_dir: Path) -> list[WordEntry]:
    lines = list(settings.banned_words)
    for name in settings.word_files:
        text = (config_dir / "config" / name).read_text(encoding="utf-8")
        lines += [line for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    return [WordEntry.parse(line) for line in lines]
