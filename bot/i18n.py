"""Texts members and owners see: Chinese by default, English as a per-group option."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.text import fill

Language = Literal["zh", "en"]
DEFAULT_LANGUAGE: Language = "zh"

# English nouns after a number placeholder agree with it: "{days} days" with days=1 reads
# "1 day" (issue 13: "1 days", "1 points"). Only the template changes, never member text.
SINGULAR = {"days": "day", "points": "point", "shares": "share", "members": "member",
            "times": "time", "questions": "question", "balloons": "balloon",
            "winners": "winner", "makeups": "makeup", "check-ins": "check-in",
            "people": "person", "hours": "hour", "minutes": "minute", "groups": "group",
            "messages": "message", "characters": "character", "invitees": "invitee",
            "hints": "hint", "replies": "reply"}
_COUNTED_NOUN = re.compile(r"\{(\w+)\}(\s+(?:(?:more|bonus)\s+)?)("
                           + "|".join(map(re.escape, SINGULAR)) + r")\b")


# Han ideographs, CJK punctuation (【】「」、。) and full-width forms (（），：): what an English
# group must never be shown in the bot's own words (issue 13).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
LIST_SEPARATOR = {"zh": "、", "en": ", "}


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None


def join_list(language: str, items: Iterable[object]) -> str:
    """A list as the language writes it: 甲、乙、丙 / a, b, c."""
    return LIST_SEPARATOR.get(language, LIST_SEPARATOR["zh"]).join(map(str, items))


def agree(template: str, values: Mapping[str, object]) -> str:
    """`{n} points` → `{n} point` where n is 1 (English templates)."""
    return _COUNTED_NOUN.sub(
        lambda m: m.group(1).join("{}") + m.group(2) + SINGULAR[m.group(3)]
        if str(values.get(m.group(1))) == "1" else m.group(0), template)


@dataclass(frozen=True)
class Texts:
    """One catalog per plugin: the same keys in every language (a test checks that)."""

    zh: Mapping[str, str]
    en: Mapping[str, str] = field(default_factory=dict)

    def get(self, language: str, key: str, **values: object) -> str:
        catalog = self.en if language == "en" else self.zh
        template = catalog.get(key) or self.zh.get(key)
        if template is None:
            raise KeyError(f"no text {key!r}")
        if language == "en" and values:
            template = agree(template, values)
        return fill(template, values) if values else template

    def missing_translations(self) -> set[str]:
        return set(self.zh) ^ set(self.en)
