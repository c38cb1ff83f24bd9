"""Okapi BM25 over token lists: an FAQ has tens to hundreds of question variants, where a
few lines of Python beat a dependency (rank-bm25 pulled in numpy for this alone)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence


class BM25:
    """Scores documents (token lists) against a query; k1 and b as in Robertson's Okapi.

    idf is the always-positive form log(1 + (N - df + 0.5) / (df + 0.5)), so a word found in
    most documents still counts a little instead of pushing scores below zero.
    """

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = k1, b
        self._tf = [Counter(doc) for doc in docs]
        self._len = [len(doc) for doc in docs]
        self._avg = (sum(self._len) / len(docs)) if docs else 0.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        self._df = df

    def idf(self, token: str) -> float:
        """A token no document has gets the highest weight: an unknown word is specific."""
        n = len(self._tf)
        return math.log(1 + (n - self._df.get(token, 0) + 0.5) / (self._df.get(token, 0) + 0.5))

    def scores(self, query: Iterable[str]) -> list[float]:
        terms = list(query)
        out = []
        for tf, length in zip(self._tf, self._len, strict=True):
            norm = self.k1 * (1 - self.b + self.b * length / self._avg) if self._avg else self.k1
            out.append(sum(self.idf(t) * tf[t] * (self.k1 + 1) / (tf[t] + norm)
                           for t in terms if t in tf))
        return out
