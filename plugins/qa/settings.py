"""What a group owner tunes for answering questions (@提问者)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import ContentPath, Duration


class QaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    faq_files: list[ContentPath] = Field(default_factory=list)  # YAML files under config/
    # How well question and FAQ wording must cover each other (bench/qa_eval.py)
    threshold: float = Field(0.45, gt=0, le=1)
    # The group's own words for the same thing, e.g. [[打卡, 交作业]]: added to the FAQ
    # files' and the shipped list (plugins/qa/data/synonyms.yaml)
    synonyms: list[list[str]] = Field(default_factory=list)
    mention_admins_when_unsure: bool = False
    repeat_window: Duration = timedelta(minutes=1)  # same question again: a short pointer
    answers_per_hour: int = Field(60, ge=1)  # per group
    loop_guard_per_minute: int = Field(5, ge=1)  # one asker beyond this: probably a bot


class FaqEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    synonyms: list[list[str]] = Field(default_factory=list)  # merged with the file's


class FaqFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    synonyms: list[list[str]] = Field(default_factory=list)
    entries: list[FaqEntry] = Field(default_factory=list)
