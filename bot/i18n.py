"""Texts members and owners see: Chinese by default, English as a per-group option."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.text import fill

Language = Literal["zh", "en"]
DEFAULT_LANGUAGE: Language = "zh"


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
        return fill(template, values) if values else template

    def missing_translations(self) -> set[str]:
        return set(self.zh) ^ set(self.en)
