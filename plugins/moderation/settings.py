"""A group's rules (群规), as the owner writes them in bot.yaml."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.models import Duration

RULES = ("banned_word", "pattern", "link", "phone", "wechat_id", "card", "flood", "repeat",
         "newcomer_link", "manual")
_ACTION = re.compile(r"^(warn|remove|deduct:\d{1,6}|blackroom:\d{1,3})$")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FloodSettings(_Block):
    messages: int = Field(8, ge=2)
    seconds: int = Field(10, ge=1)


class RepeatSettings(_Block):
    times: int = Field(3, ge=2)  # the same text this often …
    minutes: int = Field(10, ge=1)  # … within this many minutes


def _actions(value: list[str]) -> list[str]:
    for action in value:
        if not _ACTION.match(action):
            raise ValueError(f"unknown action {action!r}: use warn, deduct:N, remove or "
                             "blackroom:DAYS")
    return value


# Short replies members send again and again on purpose: never a repeat. A message made
# only of these (收到收到, 哈哈哈哈, +1, 666) counts as one; emoji-only messages never count.
ACKNOWLEDGEMENTS = (
    "收到", "好的", "好", "嗯", "嗯嗯", "哦", "哦哦", "哈", "嘿", "呵", "嘻", "h", "6", "1", "ok",
    "okay", "okk", "对", "对的", "是的", "是", "谢谢", "谢谢老师", "感谢", "辛苦了", "辛苦",
    "早", "早安", "早上好", "晚安", "赞", "加油", "同意", "明白", "了解", "知道了", "可以",
    "行", "没问题", "来了", "到", "在", "报名", "打卡", "冲", "顶", "yes", "thanks", "thx",
    "lol", "got it",
)


class ModerationSettings(_Block):
    rules_text: str = ""  # posted to new members
    banned_words: list[str] = Field(default_factory=list)
    word_files: list[str] = Field(default_factory=list)  # under config/, one word a line
    patterns: list[str] = Field(default_factory=list)  # regular expressions
    block_links: bool = False
    block_phones: bool = True
    block_wechat_ids: bool = True
    block_cards: bool = True  # shared contact cards and mini-programs
    flood: FloodSettings | None = Field(default_factory=FloodSettings)
    repeat: RepeatSettings | None = Field(default_factory=RepeatSettings)
    newcomer_hours: int = Field(24, ge=0)  # no links in a new member's first day
    allow: list[str] = Field(default_factory=list)  # member ids never moderated
    escalation: list[str] = Field(default_factory=lambda: [
        "warn", "warn", "deduct:10", "blackroom:3"])  # the n-th offence within warning_days
    per_rule: dict[str, list[str]] = Field(default_factory=dict)  # a ladder for one rule
    warning_days: int = Field(7, ge=1)
    acknowledgements: list[str] = Field(default_factory=lambda: list(ACKNOWLEDGEMENTS))
    welcome_within: Duration = timedelta(minutes=1)  # joins this close get one welcome

    _check_escalation = field_validator("escalation")(_actions)

    @field_validator("per_rule")
    @classmethod
    def _known_rules(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for rule, ladder in value.items():
            if rule not in RULES:
                raise ValueError(f"unknown rule {rule!r}; rules: {', '.join(RULES)}")
            _actions(ladder)
        return value

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return value
