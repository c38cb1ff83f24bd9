"""What a group owner tunes for quizzes and the idiom chain."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.config.files import KeyProblem
from bot.config.models import ClockTime, ContentPath, Duration, Weekday
from plugins.quiz.idioms import SameSound

DEFAULT_BANKS = ["quiz"]  # every *.yaml in config/quiz/
TIME_LIMIT = (timedelta(seconds=10), timedelta(hours=1))  # a question's, a chain move's
HINT_AFTER = (timedelta(seconds=5), timedelta(hours=1))


def _short(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def within(value: timedelta, bounds: tuple[timedelta, timedelta]) -> timedelta:
    """A time setting in a sane range: 0s would end every game at once."""
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"应在 {_short(low)} 到 {_short(high)} 之间 "
                         f"(must be between {_short(low)} and {_short(high)})")
    return value


class DailyQuiz(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: ClockTime
    weekdays: list[Weekday] = Field(default_factory=list)  # mon..sun or 周一..周日; empty = daily
    bank: str | None = None  # a bank's name or file stem; None = all banks
    questions: int = Field(5, ge=1, le=30)


class ChainSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    same_sound: SameSound = "toneless"  # none | tone | toneless (同音字 allowed)
    timeout: Duration = timedelta(seconds=60)  # nobody follows within this: game over
    points: int = Field(2, ge=0, le=1000)  # per idiom
    hints: int = Field(3, ge=0, le=50)  # per game

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        return within(value, TIME_LIMIT)


class QuizSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    banks: list[ContentPath] = Field(default_factory=lambda: list(DEFAULT_BANKS))  # config/
    questions: int = Field(5, ge=1, le=30)  # per round unless 答题 says otherwise
    hint_after: Duration = timedelta(seconds=20)
    time_limit: Duration = timedelta(seconds=45)  # per question; then the answer is shown
    points: dict[int, int] = Field(default_factory=lambda: {1: 5, 2: 10, 3: 15})  # by difficulty
    daily: list[DailyQuiz] = Field(default_factory=list)
    chain: ChainSettings = ChainSettings()

    @field_validator("time_limit")
    @classmethod
    def _time_limit(cls, value: timedelta) -> timedelta:
        return within(value, TIME_LIMIT)

    @field_validator("hint_after")
    @classmethod
    def _hint_after(cls, value: timedelta) -> timedelta:
        return within(value, HINT_AFTER)

    @model_validator(mode="after")
    def _times(self) -> QuizSettings:
        if self.hint_after >= self.time_limit:
            raise KeyProblem(("hint_after",), "hint_after 应短于 time_limit (hint_after must be "
                             "shorter than time_limit)")
        if any(not 1 <= d <= 3 or p < 0 for d, p in self.points.items()):
            raise KeyProblem(("points",), "points: difficulties 1-3, each worth 0 or more points")
        return self
