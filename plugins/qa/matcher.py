"""Finding the FAQ answer for a member's question, in Chinese, English or both.

A question is read as content words: A-not-A forms folded (`收不收费` → `收费`), synonym
phrases taken out first (the shipped list, the FAQ file's, an entry's, the group's), the
rest cut by jieba (Chinese) or split on spaces (English, stop words dropped), every
synonym folded to its group's first word. Each Chinese word also gives its characters:
members' paraphrases often share characters, not words (`车停哪儿` / `停车场在哪`).

BM25 over words and characters picks a few candidate variants; the answer is the
candidate that best *covers* the question and is covered by it, both weighted by idf, so a
word the FAQ never uses (`口号`) weighs heavily against an answer, and the words of the
group's name (`跑团` in 跑团) weigh little and are never enough on their own. The acceptance
score means the same for any FAQ size; the group's `threshold` is compared with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from types import ModuleType

import yaml

from bot.input import CN_NUMERALS, simplified
from plugins.qa.bm25 import BM25

_STOPWORDS_TEXT = """
的 了 吗 呢 啊 吧 呀 嘛 么 哦 喔 哈 啦 呗 嘞 是 在 有 和 与 及 我 你 他 她 它 我们 你们 咱们 大家
这 那 这个 那个 这里 那里 这儿 请问 请 问 问下 一下 一个 想 想问 想知道 能 可以 会 要 需要 得
怎么 怎么样 怎样 如何 咋 咋办 怎么办 怎么弄 怎么搞 弄 搞 办 什么 啥 哪 哪些 为什么 多少 几 就 都
也 还 又 地 着 过 给 让 被 把 对 从 到 不 没 没有 吗 自己 现在 一般 平时 到底 应该 该 可 些
群 群里 本群 这个群 群聊 东西 小助手 助手 bot 谢谢 麻烦 各位 大佬 亲 宝子们 哪位 谁 干嘛 干啥 好
哪个 哪本 哪种 哪款 哪家 哪一个
请教 求助 求问 打扰 打扰一下 你好 您好 大家好 各位好 在吗 在不在 问问 问个 急 在线等 拜托 求求
能否 可否 是否 能够 行吗 成吗 好吗 对吗 可以吗 有没 没得 咋样 咋整 咋弄 怎么整 怎么做 如何做
啥样 什么样 咋回事 怎么回事 一些 有点 这么 那么 然后 但是 因为 所以 如果 的话 其实 还是 或者
已经 比较 真的 感觉 觉得 知道 了解 告诉 说 说说 有人 有谁 操作 好像 似乎 貌似 大概 可能 究竟
具体 通常 经常 平常 一直 总是 完全 根本 很 太 挺 蛮 非常 特别 有些 不想
嗯 哎 唉 诶 哇 噢 呐 咧 哒 滴 捏 撒 之类 啥的 等等
"""
# Function and question words: every question has them, no answer is about them.
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_EN_STOPWORDS_TEXT = """
a an the i me my we our us you your he she it its they them this that these those there here
is am are was were be been being do does did doing have has had can could will would shall
should may might must to of in on at for with from by about as into than then so if or and
but not no any some what which who whom whose why how much many please hi hello hey thanks
just also get got there's what's it's i'm can't don't anyone someone know tell chat group
club community team
"""
EN_STOPWORDS = frozenset(_EN_STOPWORDS_TEXT.split())

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
# A-not-A questions ask the same as A: 收费不收费, 收不收费, 能不能, 有没有, 可不可以.
_A_NOT_A_WORD = re.compile(rf"([{_CJK}]{{2}})[不没]\1")
_A_NOT_A = re.compile(rf"([{_CJK}])[不没]\1")
# A trailing 不 / 没(有) is a question particle: 要掏钱不？ 交了没有？
_TRAILING_NOT = re.compile(rf"(?<=[{_CJK}])(?:不|没有|没)(?=\s*(?:[?？!！。.,，~～]|$))")
# Spaces typed between Chinese characters (`跑团 收费 吗`) separate nothing.
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
# A number before a unit reads the same in any form (两岁 as 2岁, 三公里 as 3公里): the
# number goes, the unit stays. Before a classifier (一节课, 两个孩子, 一本书) both go:
# 节课 and 本书 would otherwise be cut as words the question is not about.
_UNITS = ("周岁|岁|个月|个星期|个小时|个钟头|月|天|周|星期|公里|千米|米|点钟|点|号|元|块钱|块|"
          "页|章|分钟|小时|年|度|斤|公斤|期")
_CLASSIFIERS = "个|节|次|遍|本|位|名|件|张|份|条|只|双|门|家"
# Not an ordinal or a question (第一次, 哪一天, 每一周).
_QUANTITY = re.compile(
    rf"(?<![第哪每这那])([0-9{CN_NUMERALS}]+)(?:({_UNITS})|(?:{_CLASSIFIERS}))")
_RUNS = re.compile(rf"[a-z][a-z']*|[{_CJK}]+")  # numbers never tell two answers apart
# When and where say what is asked about a topic, not which topic: a question sharing only
# these with an FAQ variant (`what time is it`) is not answered by it.
ASPECTS = frozenset({"时间", "地点"})
# A question word found only in an entry's answer (`闲置` in "闲置转让每周五可以发") counts
# for that entry at this share of its weight: members ask in the answer's words too.
ANSWER_WEIGHT = 0.75


@dataclass(frozen=True)
class Match:
    entry: int  # index of the answer
    variant: str  # the question variant that matched
    coverage: float  # acceptance score in [0, 1]: how well question and variant cover each other


@cache
def shipped_synonyms() -> tuple[tuple[str, ...], ...]:
    """plugins/qa/data/synonyms.yaml, read once."""
    text = files("plugins.qa").joinpath("data/synonyms.yaml").read_text(encoding="utf-8")
    return tuple(tuple(str(word) for word in group) for group in yaml.safe_load(text))


def _quantity(found: re.Match[str]) -> str:
    number, unit = found.group(1), found.group(2)
    if (number == "一" and unit == "点") or number in ("千", "百", "万", "亿"):
        return found.group()  # 一点 is "a bit" as often as one o'clock; 千米 is a unit
    return f" {unit}" if unit else " "


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, traditional characters simplified, spaces
    between Chinese characters and invisible ones dropped, Chinese numbers before a unit
    read as digits are (dropped), A-not-A folded to A."""
    text = simplified(unicodedata.normalize("NFKC", text).lower())
    text = _CJK_SPACE.sub("", _INVISIBLE.sub("", text))
    text = _QUANTITY.sub(_quantity, text)
    text = _A_NOT_A_WORD.sub(r"\1", text)
    text = _A_NOT_A.sub(r"\1", text)
    return _TRAILING_NOT.sub("", text)


def _stem(word: str) -> str:
    """Just enough English: plurals (rules, fees, slides) read as the singular."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _lemmas(word: str) -> list[str]:
    """What an English word may be a form of: -s, -es, -ies, -ing, -ed, with the final e
    dropped (leaving) or the consonant doubled (quitting, cancelled) — tried in turn."""
    forms = []
    for ending, back in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"),
                         ("ed", ""), ("ed", "e"), ("d", "")):
        base = word.removesuffix(ending)
        if base != word and len(base) >= 2:
            forms.append(base + back)
            if not back and len(base) > 2 and base[-1] == base[-2]:
                forms.append(base[:-1])  # quitting → quit, cancelled → cancel
    return forms


class Synonyms:
    """Synonym groups merged (a word in two groups joins them), each read as one word."""

    def __init__(self, groups: Iterable[Sequence[str]]):
        parent: dict[str, str] = {}

        def root(word: str) -> str:
            while parent[word] != word:
                parent[word] = parent[parent[word]]
                word = parent[word]
            return word

        for group in groups:
            words = [normalise(str(w)).strip() for w in group]
            words = [w for w in words if w]
            for word in words:
                parent.setdefault(word, word)
            for word in words[1:]:
                a, b = root(words[0]), root(word)
                if a != b:
                    parent[b] = a  # the first group's first word stays the name
        self.canonical = {word: root(word) for word in parent}
        # Phrases are taken out of the text before jieba cuts it (longest first), so
        # `退出群聊` stays whole without touching jieba's global dictionary.
        phrases = sorted((w for w in self.canonical if _is_phrase(w)), key=len, reverse=True)
        self.pattern = re.compile("|".join(_phrase_pattern(p) for p in phrases)
                                  ) if phrases else None

    def lookup(self, found: str) -> str:
        """The group's name for a phrase as found: `打了卡` is `打卡`."""
        return self.canonical.get(found) or self.canonical[found[0] + found[-1]]


# A two-character verb phrase said with an aspect particle or 个 inside it: 打了卡, 报过名,
# 交了钱, 打个卡, 签了到 are 打卡, 报名, 交钱, 签到.
_INFIX = "[了过个着]"


def _phrase_pattern(phrase: str) -> str:
    """English phrases end where letters end, also beside Chinese (`有ebook吗`: no \\b
    between `k` and `吗`); a two-character Chinese one may have an infix."""
    if phrase.isascii():
        return rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])"
    if len(phrase) == 2:
        return f"{re.escape(phrase[0])}{_INFIX}?{re.escape(phrase[1])}"
    return re.escape(phrase)


@lru_cache(maxsize=64)
def _synonyms(groups: tuple[tuple[str, ...], ...]) -> Synonyms:
    """Groups sharing FAQ files share the merged list and its compiled pattern."""
    return Synonyms(groups)


def _is_phrase(word: str) -> bool:
    """Multi-character Chinese words and multi-word English ones (`check in`, `e-book`);
    single characters and single English words are looked up after cutting, so `关` does
    not split `关于`."""
    return (" " in word or "-" in word) if word.isascii() else len(word) >= 2


# Words that jieba's statistical model glues to a neighbour it does not know (能带, 能拉,
# 能发, 分能): a two-character word outside its dictionary holding one of them is read as
# two characters, so 能拉 is 拉 (invite) and 能发 is 发.
_GLUE = frozenset("能可会要想该来去的了吗呢也都就还再先")


def _unglued(piece: str) -> list[str]:
    if len(piece) == 2 and (piece[0] in _GLUE or piece[1] in _GLUE) and not (
            _jieba().dt.FREQ.get(piece)):
        return list(piece)
    return [piece]


@cache
def _jieba() -> ModuleType:
    """jieba is imported on the first question, not when the plugin loads (through the
    core's segmenter first: it imports jieba lightly, with the compact dictionary)."""
    from bot.activity import load_segmenter

    load_segmenter()
    import jieba

    return jieba


class FaqIndex:
    def __init__(self, variants: Sequence[tuple[str, int]],
                 synonyms: Iterable[Sequence[str]] = (), topic: str = "",
                 answers: Sequence[str] = (), candidates: int = 8):
        """`topic`: the group's name; its words weigh little (see _weight). `answers`, by
        entry: the words an answer uses count, at a discount, as the entry's."""
        self.synonyms = _synonyms((*shipped_synonyms(), *(tuple(g) for g in synonyms)))
        named = self.words(topic) if topic else []
        self._topic_words = set(named)
        self._variants = list(variants)
        self._docs = [self.tokens(text) for text, _ in self._variants]
        self._bm25 = BM25(self._docs)
        self._candidates = candidates
        self._unknown = self._bm25.idf("")  # the weight of a word no variant has
        # What any wording of an entry says: a question may mix words of two variants.
        entry_tokens: dict[int, set[str]] = {}
        for (_, entry), doc in zip(self._variants, self._docs, strict=True):
            entry_tokens.setdefault(entry, set()).update(doc)
        self._entry_tokens = entry_tokens
        self._answer_tokens = {i: set(self.tokens(text)) - entry_tokens.get(i, set())
                               for i, text in enumerate(answers)}

    def words(self, text: str) -> list[str]:
        """The content words, synonyms folded: also the key of "the same question"."""
        text = normalise(text)
        words: list[str] = []
        start = 0
        pattern = self.synonyms.pattern
        for found in pattern.finditer(text) if pattern else ():
            words += self._cut(text[start:found.start()])
            words.append(self.synonyms.lookup(found.group()))
            start = found.end()
        words += self._cut(text[start:])
        return words

    def _cut(self, text: str) -> list[str]:
        out = []
        for run in _RUNS.findall(text):
            if run.isascii():
                run = run.removesuffix("'s").strip("'")  # where's → where
                pieces = [] if run in EN_STOPWORDS else [self._english(run)]
            else:
                pieces = [part for piece in _jieba().lcut(run) for part in _unglued(piece)]
            for piece in pieces:
                word = self.synonyms.canonical.get(piece, piece)
                if word and word not in STOPWORDS and word not in EN_STOPWORDS:
                    out.append(word)
        return out

    def _english(self, word: str) -> str:
        """A known word as it is; an inflected one (quitting, leaving, cancelled, changed)
        as the synonym list's word it is a form of; anything else without its plural s."""
        known = self.synonyms.canonical
        return next((form for form in (word, *_lemmas(word)) if form in known), _stem(word))

    def tokens(self, text: str) -> list[str]:
        """Words, and the characters of the Chinese ones (marked with '#')."""
        words = self.words(text)
        return words + [f"#{ch}" for word in words if not word.isascii() for ch in word
                        if ch not in STOPWORDS]

    def best(self, question: str) -> Match | None:
        query = self.tokens(question)
        if not query or not self._docs:
            return None
        scores = self._bm25.scores(query)
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        shortlist = [i for i in ranked[: self._candidates] if scores[i] > 0]
        if not shortlist:
            return None
        agreement = {i: self._agreement(query, i) for i in shortlist}
        top = max(shortlist, key=lambda i: agreement[i])
        text, entry = self._variants[top]
        return Match(entry, text, round(agreement[top], 4))

    def _subject(self, tokens: Sequence[str]) -> set[str]:
        """What a question is about: its words and their characters, without the aspect
        words (when, where) and, unless it is nothing else, the group's name."""
        words = {t for t in tokens if not t.startswith("#")} - ASPECTS
        words = (words - self._topic_words) or words
        return words | {f"#{ch}" for word in words if not word.isascii() for ch in word
                        if ch not in STOPWORDS}

    def _weight(self, token: str) -> float:
        """idf, halved for a lone Chinese character the FAQ also uses (`看`, `好`): rarely
        the point; one it never uses (`人` in `跑团有多少人`) keeps its full weight. A
        word of the group's own name (`跑团` in 跑团) is what every question is about,
        not what tells one answer from another: a quarter."""
        idf = self._bm25.idf(token)
        if token in self._topic_words:
            return idf / 4
        if len(token.lstrip("#")) == 1 and not token.isascii() and idf < self._unknown:
            return idf / 2
        return idf

    def _agreement(self, query: Sequence[str], variant: int) -> float:
        """Weighted share of the question the entry covers and of the variant the question
        covers (their geometric mean), on words and on characters alike."""
        doc = self._docs[variant]
        entry = self._entry_tokens[self._variants[variant][1]]
        if not self._subject(query) & entry:
            return 0.0  # nothing shared but "when" / "where" or the group's name
        parts = []
        for chars in (False, True):
            q = {t for t in query if t.startswith("#") == chars}
            d = {t for t in doc if t.startswith("#") == chars}
            if not q or not d:
                continue
            answer = self._answer_tokens.get(self._variants[variant][1], set())
            q_cov = (sum(self._weight(t) for t in q & entry)
                     + ANSWER_WEIGHT * sum(self._weight(t) for t in q & answer)
                     ) / sum(self._weight(t) for t in q)
            d_cov = sum(self._weight(t) for t in q & d) / sum(self._weight(t) for t in d)
            parts.append((q_cov * d_cov) ** 0.5)
        return sum(parts) / len(parts) if parts else 0.0
