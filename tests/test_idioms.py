"""The compact idiom dictionary answers exactly as the plain one it replaced (issue 16)."""

from __future__ import annotations

from plugins.quiz.idioms import SameSound, dictionary, read_rows, toneless

RULES: tuple[SameSound, ...] = ("none", "tone", "toneless")


class Reference:
    """The former IdiomDictionary: dicts and lists of strings (~11 MB), built from the same
    rows."""

    def __init__(self) -> None:
        self.pinyin: dict[str, tuple[str, ...]] = {}
        self.common: set[str] = set()
        self.by_char: dict[str, list[str]] = {}
        self.by_tone: dict[str, list[str]] = {}
        self.by_sound: dict[str, list[str]] = {}
        for word, pinyin, common in read_rows():
            syllables = tuple(pinyin.split())
            self.pinyin[word] = syllables
            if common:
                self.common.add(word)
            self.by_char.setdefault(word[0], []).append(word)
            self.by_tone.setdefault(syllables[0], []).append(word)
            self.by_sound.setdefault(toneless(syllables[0]), []).append(word)

    def follows(self, previous: str, word: str, rule: SameSound) -> bool:
        if word[0] == previous[-1]:
            return True
        if rule == "none" or word not in self.pinyin or previous not in self.pinyin:
            return False
        first, last = self.pinyin[word][0], self.pinyin[previous][-1]
        return first == last if rule == "tone" else toneless(first) == toneless(last)

    def continuations(self, previous: str, rule: SameSound, used=()) -> list[str]:
        found = list(self.by_char.get(previous[-1], []))
        if rule != "none" and previous in self.pinyin:
            last = self.pinyin[previous][-1]
            found += self.by_tone.get(last, []) if rule == "tone" else self.by_sound.get(
                toneless(last), [])
        unique = [w for w in dict.fromkeys(found) if w not in used and w != previous]
        return sorted(unique, key=lambda w: (w not in self.common, len(w) != 4, w))


def test_the_data_file_is_in_hint_order() -> None:
    keys = [(not common, len(word) != 4, word) for word, _, common in read_rows()]
    assert keys == sorted(keys)


def test_every_idiom_answers_as_before() -> None:
    old, new = Reference(), dictionary()
    assert len(new.pinyin) == len(old.pinyin) and set(new.pinyin) == set(old.pinyin)
    assert len(new.common) == len(old.common) and set(new.common) == old.common
    words = list(old.pinyin)
    for i, word in enumerate(words):
        assert word in new and word in new.pinyin and (word in new.common) == (word in old.common)
        assert new.pinyin[word] == old.pinyin[word]
        assert new.last_sound(word) == old.pinyin[word][-1]
        for rule in RULES:
            options = old.continuations(word, rule)
            assert new.continuations(word, rule) == options
            used = set(options[::2])
            assert new.continuations(word, rule, used) == old.continuations(word, rule, used)
            for other in (words[i - 1], *options[-1:], *old.by_sound.get(
                    toneless(old.pinyin[word][-1]), [])[:2]):
                assert new.follows(word, other, rule) == old.follows(word, other, rule)


def test_unknown_words_answer_as_before() -> None:
    old, new = Reference(), dictionary()
    for text in ("画蛇添足吧", "你好", "abc", "一", "龘龘龘", "画蛇添"):
        assert text not in new and text not in new.pinyin and text not in new.common
        for rule in RULES:
            assert new.continuations(text, rule) == old.continuations(text, rule)
            assert new.follows(text, "足智多谋", rule) == old.follows(text, "足智多谋", rule)
            assert new.follows("画蛇添足", text, rule) == old.follows("画蛇添足", text, rule)
    assert 5 not in new and None not in new.common
    for missing in ("你好", "画蛇添"):
        try:
            new.last_sound(missing)
        except KeyError:
            pass
        else:
            raise AssertionError(missing)


def test_every_idiom_is_in_the_basic_multilingual_plane() -> None:
    """The loader counts offsets in UTF-16 code units."""
    assert all(ord(c) <= 0xFFFF for word, _, _ in read_rows() for c in word)
