"""A group's timed posts, as the owner writes them in bot.yaml."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.config.models import ClockTime
from bot.scheduler import cron_trigger

_WEEKDAYS = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(("一", "二", "三", "四", "五", "六", "日"))},
    **{f"周{name}": i for i, name in enumerate(("一", "二", "三", "四", "五", "六", "日"))},
    "天": 6,
    "周天": 6,
    "星期天": 6,
    "星期日": 6,
    **{f"星期{name}": i for i, name in enumerate(("一", "二", "三", "四", "五", "六"))},
}


def _weekday(value: object) -> int:
    key = str(value).strip().lower()
    if key not in _WEEKDAYS:
        raise ValueError(f"unknown weekday {value!r}: use mon..sun or 周一..周日")
    return _WEEKDAYS[key]


Weekday = Annotated[int, BeforeValidator(_weekday)]


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
