"""Undoing the evasions spammers use before matching: one canonical form for any text.

NFKC folds full-width and compatibility forms; invisible characters go; case is folded;
traditional characters become simplified (OpenCC's t2s tables); and everything that is
not a letter or a digit is dropped, so "傻 瓜", "傻*瓜" and "s.h.a.b.i" read as written.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad\u180e]")
_T2S = OpenCC("t2s")


@lru_cache(maxsize=4096)
def canonical(text: str) -> str:
    """Letters and digits only, simplified, lower-case, half-width."""
    folded = _T2S.convert(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold())
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def readable(text: str) -> str:
    """NFKC without invisible characters: for patterns that need the punctuation (links)."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
