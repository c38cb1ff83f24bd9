"""What a group owner sets for member tags (标签化运营) and the join questionnaire."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator, model_validator

from bot.config.files import KeyProblem
from bot.config.models import Duration, Strict

Tag = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[^\s@#,，、]+$")]


class Choice(Strict):
    text: str = Field(min_length=1, max_length=40)
    tag: Tag


def _choice(value: object) -> object:
    """`- 宝妈` is a choice whose text is its tag."""
    return {"text": value, "tag": value} if isinstance(value, str) else value


class Question(Strict):
    text: str = Field(min_length=1, max_length=200)
    choices: list[Annotated[Choice, BeforeValidator(_choice)]] = Field(min_length=2, max_length=9)


class TagsSettings(Strict):
    # Asked one after another when a member joins, answered by number; each answer a tag.
    questions: list[Question] = Field(default_factory=list, max_length=3)
    answer_within: Duration = timedelta(days=1)  # then the questionnaire lapses, unasked again
    auto: bool = True  # automatic tags: segment, check-in streak, top inviter, 小黑屋
    streak_days: int = Field(7, ge=2, le=365)  # a check-in streak this long tags 连续打卡
    top_inviters: int = Field(3, ge=0, le=20)  # this many best inviters are tagged 邀请达人
    batch: int = Field(20, ge=1, le=100)  # members @-mentioned per message of a tagged post

    @field_validator("answer_within")
    @classmethod
    def _within(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=10) <= value <= timedelta(days=7):
            raise ValueError("answer_within must be between 10m and 7d")
        return value

    @model_validator(mode="after")
    def _distinct_choices(self) -> TagsSettings:
        for n, question in enumerate(self.questions):
            tags = [c.tag for c in question.choices]
            if len(set(tags)) != len(tags):
                raise KeyProblem(("questions", n, "choices"),
                                 f"question {n + 1} gives one tag to two choices")
        return self
