"""What a group owner sets for the morning briefing (每日早报), and the curated file's shape."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from bot.config.models import ClockTime, ContentPath, Duration, Strict, Weekday
from plugins.tags.settings import Tag


class FeedSource(Strict):
    # An http(s) URL, or a file path under config/ (a feed saved by hand, or in tests).
    url: ContentPath
    name: str = Field("", max_length=40)  # shown to operators when the feed fails
    max_items: int = Field(5, ge=1, le=50)  # at most this many of the briefing's items


class BriefingSettings(Strict):
    at: ClockTime = time(9, 0)  # group time
    weekdays: list[Weekday] = Field(default_factory=list)  # empty: every day
    title: str | None = Field(None, max_length=40)  # default 每日早报 / Morning briefing
    items: int = Field(10, ge=1, le=30)  # numbered items at most
    item_length: int = Field(60, ge=10, le=500)  # characters per item; longer ones are cut
    closing: str | None = Field(None, max_length=500)  # last line unless the file has one
    files: list[str] = Field(default_factory=list)  # curated YAML under config/
    tag_content: bool = True  # also config/briefing/tags/<tag>.yaml for this group's tags
    tags: list[Tag] = Field(default_factory=list, max_length=10)  # @ only members with these
    feeds: list[FeedSource] = Field(default_factory=list)
    dedupe_days: int = Field(7, ge=0, le=90)  # an item posted within this many days is skipped
    # A feed item older than this (its date, else when the bot first saw it) is not news,
    # however long ago it was last shown.
    feed_max_age: Duration = timedelta(days=3)
    fetch_ahead: Duration = timedelta(minutes=30)  # feeds are fetched this long before `at`
    fetch_timeout: Duration = timedelta(seconds=10)

    @field_validator("fetch_ahead")
    @classmethod
    def _ahead(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= value <= timedelta(hours=12):
            raise ValueError("fetch_ahead must be between 1m and 12h")
        return value

    @field_validator("feed_max_age")
    @classmethod
    def _max_age(cls, value: timedelta) -> timedelta:
        if not timedelta(hours=1) <= value <= timedelta(days=90):
            raise ValueError("feed_max_age must be between 1h and 90d")
        return value

    @field_validator("fetch_timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(minutes=2):
            raise ValueError("fetch_timeout must be between 1s and 2m")
        return value


class CuratedItem(Strict):
    text: str = Field(min_length=1, max_length=1000)
    link: str | None = Field(None, max_length=500)
    tags: list[str] = Field(default_factory=list)  # only groups sharing one of these tags


def _item(value: object) -> object:
    return {"text": value} if isinstance(value, str) else value


class CuratedDay(Strict):
    items: list[Annotated[CuratedItem, BeforeValidator(_item)]] = Field(default_factory=list)
    closing: str | None = Field(None, max_length=500)


class CuratedFile(Strict):
    """config/briefing/*.yaml: items by date (the owner's picks come before feed items)."""

    days: dict[date, CuratedDay] = Field(default_factory=dict)
