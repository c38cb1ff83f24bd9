"""Filling texts: the one way any template — the bot's own or an owner's — gets its values.

Serves issue 12 (members' and owners' text is data: no `str.format` on it, ever) and
issue 13 (`定时` shows what will be sent). Only `{name}` with a name the caller knows is
replaced; every other brace — `{0}`, `{}`, JSON, `{x.__class__}`, width specs — stays
exactly as typed. Also the two bounds on what the bot says: a marked excerpt of member
input, and a length cap for every outgoing message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

ELLIPSIS = "…"
# WeChat cuts very long texts itself; a few thousand characters is already a wall of text.
MESSAGE_LIMIT = 2000
EXCERPT_LIMIT = 20


def fill(template: str, values: Mapping[str, object]) -> str:
    """`template` with each `{name}` whose name is in `values` replaced by its value."""
    if "{" not in template:
        return template

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(value, template)


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """At most `limit` characters of member input, marked as cut when it was."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def cap(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """A message cut cleanly to `limit` characters: at a line break when one is near."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", limit // 2, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip() + ELLIPSIS


def with_mentions(text: str, labels: Sequence[str], at: Sequence[int] = ()) -> str:
    """`text` with each mention label ("@name ") placed: at its offset in `at`, or all of
    them in front when `at` is empty (how WeChat shows a mention)."""
    if not at:
        return "".join(labels) + text
    parts, start = [], 0
    for offset, label in zip(at, labels, strict=True):
        parts += [text[start:offset], label]
        start = offset
    return "".join(parts) + text[start:]
