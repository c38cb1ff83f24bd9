"""Finding the FAQ answer for a Chinese question: jieba words, synonyms, BM25, coverage.

BM25 ranks the question variants; the best one is accepted only if it covers enough of
the question's content words (stop words removed, synonyms folded to one word), which
gives a threshold that means the same for every FAQ size.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import jieba
from rank_bm25 import BM25Okapi

jieba.setLogLevel(logging.WARNING)

_STOPWORDS_TEXT = """
的 了 吗 呢 啊 吧 呀 嘛 么 哦 喔 是 在 有 和 与 及 我 你 他 她 它 我们 你们 大家 这 那 这个 那个
请问 请 问 一下 一个 想 想问 能 能不能 可以 可不可以 会 要 需要 怎么 怎么样 怎样 如何 什么 啥
哪 哪里 哪儿 哪些 为什么 多少 几 就 都 也 还 又 得 地 着 过 给 让 被 把 对 从 到
群 东西 小助手 助手 bot
"""
# Function words and question words: every question has them, no answer is about them.
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True)
class Match:
    entry: int  # index of the answer
    variant: str  # the question variant that matched
    coverage: float  # share of the question's words found in that variant


class FaqIndex:
    def __init__(self, variants: Sequence[tuple[str, int]], synonyms: Sequence[Sequence[str]]):
        self._canonical: dict[str, str] = {}
        for group in synonyms:
            for word in group:
                jieba.add_word(word)  # segment "退出群聊" as one word
                self._canonical[word] = group[0]
        self._variants = list(variants)
        self._docs = [self.words(text) for text, _ in self._variants]
        self._bm25 = BM25Okapi(self._docs) if any(self._docs) else None

    def words(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        words = []
        for word in jieba.lcut(text):
            word = word.strip()
            if not word or word in STOPWORDS or _punctuation(word):
                continue
            words.append(self._canonical.get(word, word))
        return words

    def best(self, question: str) -> Match | None:
        query = self.words(question)
        if not query or self._bm25 is None:
            return None
        scores = self._bm25.get_scores(query)
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        top = ranked[0]
        wanted = set(query)
        coverage = len(wanted & set(self._docs[top])) / len(wanted)
        text, entry = self._variants[top]
        return Match(entry, text, coverage)


def _punctuation(word: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PSZ" for ch in word)
