"""A group's timed posts, as the owner writes them in bot.yaml."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.config.models import ClockTime, Weekday
from bot.scheduler import cron_trigger


class TimedPost(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: ClockTime | None = None
    cron: str | None = None
    weekdays: list[Weekday] = Field(default_factory=list)
    text: str = Field(min_length=1, max_length=4000)
    id: str | None = None  # keeps the delivery ledger's key stable if posts are reordered

    @model_validator(mode="after")
    def _one_schedule(self) -> TimedPost:
        if (self.at is None) == (self.cron is None):
            raise ValueError("give either `at` (HH:MM) or `cron` (5 fields), not both or neither")
        if self.cron is not None:
            if self.weekdays:
                raise ValueError("`weekdays` goes with `at`; a cron line has its own weekday field")
            cron_trigger(self.cron, ZoneInfo("UTC"))  # raises ValueError with the reason
        return self

    def key(self) -> str:
        if self.id:
            return self.id
        if self.cron is not None:
            return "cron " + self.cron
        days = ",".join(str(d) for d in sorted(set(self.weekdays)))
        return f"at {self.at:%H:%M}" + (f" on {days}" if days else "")


class TimedPostsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    posts: list[TimedPost] = Field(default_factory=list)
