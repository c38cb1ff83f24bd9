"""Which rule a message breaks, if any. Content rules only: flood and repeat need history
and live in the handlers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from bot.events import IncomingMessage, MessageKind
from plugins.moderation.normalize import canonical, readable
from plugins.moderation.settings import ModerationSettings

_LINK = re.compile(
    r"(https?://\S+|www\.\S+|\b[a-z0-9-]+\.(?:com|cn|net|org|top|xyz|cc|io|vip)\b\S*)")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# After canonical(): "加v信: abc_12345" reads "加v信abc12345"
_WECHAT_ID = re.compile(r"(微信号?|威信|薇信|v信|vx|wx|weixin|加v|加微)[a-z][a-z0-9]{5,19}")


@dataclass(frozen=True)
class Violation:
    rule: str
    evidence: str  # what matched, shown to admins and kept in the log


class Detector:
    """Built once per word list: thousands of words cost one automaton walk per message."""

    def __init__(self, settings: ModerationSettings, words: Iterable[str]) -> None:
        self.settings = settings
        self._automaton = ahocorasick.Automaton()
        for word in words:
            key = canonical(word)
            if key:
                self._automaton.add_word(key, word.strip())
        self._has_words = len(self._automaton) > 0
        if self._has_words:
            self._automaton.make_automaton()
        self._patterns = [re.compile(p, re.IGNORECASE) for p in settings.patterns]

    def check(self, message: IncomingMessage, exceptions: frozenset[str]) -> Violation | None:
        if self.settings.block_cards and message.kind in (MessageKind.CARD,
                                                          MessageKind.MINI_PROGRAM):
            return Violation("card", message.kind.value)
        squeezed = canonical(message.text)
        if self._has_words:
            for _, word in self._automaton.iter(squeezed):
                if f"banned_word:{word}" not in exceptions:
                    return Violation("banned_word", word)
        for pattern in self._patterns:
            found = pattern.search(readable(message.text))
            if found and f"pattern:{found.group(0)}" not in exceptions:
                return Violation("pattern", found.group(0))
        if self.settings.block_phones and (found := _PHONE.search(squeezed)):
            return Violation("phone", found.group(0))
        if self.settings.block_wechat_ids and (found := _WECHAT_ID.search(squeezed)):
            return Violation("wechat_id", found.group(0))
        return None

    @staticmethod
    def link_in(message: IncomingMessage) -> str | None:
        if message.kind is MessageKind.LINK:
            return "link"
        found = _LINK.search(readable(message.text))
        return found.group(0) if found else None


def load_words(settings: ModerationSettings, config_dir: Path) -> list[str]:
    words = list(settings.banned_words)
    for name in settings.word_files:
        text = (config_dir / "config" / name).read_text(encoding="utf-8")
        words += [line.strip() for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    return words
