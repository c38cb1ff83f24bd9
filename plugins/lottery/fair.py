"""The provably fair draw: a commitment before, the seed after, winners anyone can recompute.

    commitment = SHA-256(seed)                       (hex of the seed's ASCII bytes)
    pool       = the participants' ids, sorted by Unicode code point, duplicates removed
    for each prize in the order given, for each of its winners, k = 0, 1, 2, …:
        index  = int(SHA-256(f"{seed}:{k}"), big-endian) mod len(pool)
        winner = pool.pop(index)

The seed is 32 random bytes (64 hex digits) kept secret until the deadline; since its hash is
posted when the draw opens, the bot cannot pick a seed after seeing who joined. The modulo bias
of a 256-bit number over a pool of thousands is below 2^-240.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence

from bot.input import MAX_PRIZE_WORD, split_multiplier

Prizes = Sequence[tuple[str, int]]


def new_seed() -> str:
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def winners(seed: str, participants: Iterable[str], prizes: Prizes) -> list[tuple[str, str]]:
    """(prize, member id) in draw order; fewer if there are fewer participants than prizes."""
    pool = sorted(set(participants))
    drawn: list[tuple[str, str]] = []
    k = 0
    for prize, count in prizes:
        for _ in range(count):
            if not pool:
                return drawn
            digest = hashlib.sha256(f"{seed}:{k}".encode()).digest()
            drawn.append((prize, pool.pop(int.from_bytes(digest, "big") % len(pool))))
            k += 1
    return drawn


def parse_prizes(words: Iterable[str]) -> list[tuple[str, int]]:
    """`一等奖*1 二等奖*3` (or ＊ / x / ×, the count in any form bot/input.py reads:
    `奶茶×三`, `５０积分＊２`; no count = 1). Raises ValueError on a bad item."""
    prizes = []
    for word in words:
        name, count = split_multiplier(word)
        if not name or name[0] in "*＊×" or "," in name or len(word) > MAX_PRIZE_WORD:
            raise ValueError(f"bad prize {word!r}")  # "," separates prizes in verify-draw
        if not 1 <= count <= 1000:
            raise ValueError(f"bad winner count in {word!r}")
        prizes.append((name[:40], count))
    return prizes


def format_prizes(prizes: Prizes) -> str:
    return ",".join(f"{name}*{count}" for name, count in prizes)
