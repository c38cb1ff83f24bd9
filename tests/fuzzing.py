"""Hostile input for the fuzz test and bench/fuzz.py (issue 12 point 9): one generator,
driven by a `random.Random` (Hypothesis hands in a shrinkable one)."""

from __future__ import annotations

import random

CONTROL = [chr(c) for c in (*range(0, 32), 0x7F, 0x85)]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c",
             "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\ufe0f",
             "\u2028", "\u2029", "\u00ad", "\u180e"]
EMOJI = ["👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "👍🏽", "🇨🇳", "🧧", "🎲", "❤️", "1️⃣",
         "🙏🏻", "😂" * 5, "🫠", "[微笑]", "[捂脸]"]
ODD = ["a\u0301\u0301\u0301", "Ｚ", "／", "＠", "①", "½", "٣", "𝟗", "〇", "廿", "兆", "e", "∞",
       "\U0001d7d8", "ﷺ", "𒀱", "\u0e47" * 8, "Ⅻ", "㊿", " ", "\u3000", "\t", "\n"]
PAYLOADS = [
    "{0}", "{}", "{name.__class__.__mro__}", "{group.__init__.__globals__}", "{name:>999999999}",
    '{"km": 5}', "{{name}}", "%s%s%s%n", "%(name)s", "'; DROP TABLE points; --", "1' OR '1'='1",
    "\\x00", "${jndi:ldap://x/a}", "<script>alert(1)</script>", "../../../../etc/passwd",
    "9" * 60, "-" + "9" * 40, "1e999", "NaN", "-0", "0x7fffffff", "1" + "0" * 30 + "积分",
    "九" * 60, "一亿亿亿亿", "二十四", "十万八千", "@小助手", "@所有人", "=>", "＝>", "*99999",
    "奖品*999999999999", "99999999999分钟", "2026-13-40", "25:99", "明天25点", "\\", "\"", "'",
]
WORDS = ["打卡", "积分", "抢", "红包", "答题", "成语", "抽奖", "早报", "你好", "哈哈", "收到"]


def chunk(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.25:
        return rng.choice(PAYLOADS)
    if kind < 0.4:
        return "".join(rng.choice(CONTROL + INVISIBLE) for _ in range(rng.randint(1, 6)))
    if kind < 0.55:
        return rng.choice(EMOJI)
    if kind < 0.7:
        return rng.choice(ODD)
    if kind < 0.85:
        return rng.choice(WORDS)
    return "".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 12)))


def text(rng: random.Random, max_chunks: int = 6) -> str:
    parts = [chunk(rng) for _ in range(rng.randint(1, max_chunks))]
    return rng.choice(["", " ", "\u3000"]).join(parts)


def message(rng: random.Random, commands: list[str], prefixes: list[str]) -> str:
    """One hostile message: mostly commands with hostile arguments, else hostile chatter."""
    return valid_text(_message(rng, commands, prefixes))


def _message(rng: random.Random, commands: list[str], prefixes: list[str]) -> str:
    kind = rng.random()
    if kind < 0.55:
        word = rng.choice(commands)
        head = rng.choice(["", *prefixes]) + word + rng.choice(["", "", "！", "~", "🧧", "\u200d"])
        return (head + " " + text(rng, 4)).strip() if rng.random() < 0.8 else head
    if kind < 0.65:
        return "@小助手 " + text(rng)
    if kind < 0.67:
        piece, size = rng.choice([*PAYLOADS, "刷", "9", "{0}", "😂"]), rng.randint(20_000, 100_000)
        return (piece * (size // len(piece) + 1))[:size]  # up to 100 KB
    return text(rng)


def valid_text(value: str) -> str:
    """What a platform can deliver: valid UTF-8 (no lone surrogates)."""
    return value.encode("utf-8", "replace").decode("utf-8")
