"""What a group owner tunes for red packets (points only, never money)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.config.files import KeyProblem
from bot.config.models import ClockTime, Duration, Weekday


class SystemPacket(BaseModel):
    """A packet the bot sends on a schedule, paid from the group's pool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: ClockTime
    weekdays: list[Weekday] = Field(default_factory=list)  # mon..sun or 周一..周日; empty = daily
    total: int = Field(ge=1, le=1_000_000)
    count: int = Field(ge=1, le=200)
    greeting: str = Field("", max_length=50)

    @model_validator(mode="after")
    def _enough(self) -> SystemPacket:
        if self.total < self.count:
            raise KeyProblem(("total",), "total must be at least count (every share is at least 1)")
        return self


class RedPacketSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expires_after: Duration = timedelta(hours=24)  # then unclaimed shares go back
    max_total: int = Field(10_000, ge=1, le=1_000_000_000)
    max_count: int = Field(100, ge=1, le=500)
    scheduled: list[SystemPacket] = Field(default_factory=list)

    @model_validator(mode="after")
    def _positive_expiry(self) -> RedPacketSettings:
        if self.expires_after <= timedelta(0):
            raise KeyProblem(("expires_after",), "expires_after must be positive")
        return self
