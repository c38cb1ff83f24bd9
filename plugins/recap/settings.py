"""What a group owner sets for the daily recap (昨日回顾) and the events preview."""

from __future__ import annotations

from datetime import date, time, timedelta

from pydantic import Field, field_validator, model_validator

from bot.config.models import ClockTime, ContentPath, Duration, Strict


class RecapSettings(Strict):
    at: ClockTime = time(8, 0)  # group time: yesterday's recap and today's events
    max_lines: int = Field(8, ge=2, le=20)  # lines about yesterday, at most
    highlights: int = Field(3, ge=0, le=10)  # most replied-to / quoted messages
    min_replies: int = Field(2, ge=1, le=100)  # a highlight drew at least this many
    questions: int = Field(2, ge=0, le=10)  # the day's most asked questions answered
    notes: int = Field(2, ge=0, le=10)  # best check-in notes (the longest)
    quiz_winners: int = Field(3, ge=0, le=10)
    events_file: ContentPath | None = "events.yaml"  # under config/; none: no preview
    announce_before: Duration = timedelta(minutes=30)  # 0: events are not announced

    @field_validator("announce_before")
    @classmethod
    def _before(cls, value: timedelta) -> timedelta:
        if not timedelta(0) <= value <= timedelta(hours=12):
            raise ValueError("announce_before must be between 0 and 12h")
        return value


class Event(Strict):
    """One entry of the curated events file."""

    date: date
    time: ClockTime
    title: str = Field(min_length=1, max_length=100)
    link: str | None = Field(None, max_length=500)
    groups: list[str] = Field(default_factory=list)  # ids or names; empty: every group


class EventsFile(Strict):
    events: list[Event] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _a_bare_list(cls, value: object) -> object:
        # The file may be just the list of events, without `events:` above it.
        return {"events": value} if isinstance(value, list) else value
