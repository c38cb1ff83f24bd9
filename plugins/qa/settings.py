"""What a group owner tunes for answering questions (@提问者)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import ContentPath, Duration


class QaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    faq_files: list[ContentPath] = Field(default_factory=list)  # YAML files under config/
    threshold: float = Field(0.5, gt=0, le=1)  # share of the question's words an FAQ must cover
    mention_admins_when_unsure: bool = False
    repeat_window: Duration = timedelta(minutes=1)  # same question again: a short pointer
    answers_per_hour: int = Field(60, ge=1)  # per group
    loop_guard_per_minute: int = Field(5, ge=1)  # one asker beyond this: probably a bot


class FaqEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


class FaqFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    synonyms: list[list[str]] = Field(default_factory=list)
    entries: list[FaqEntry] = Field(default_factory=list)
