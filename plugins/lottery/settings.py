"""What a group owner tunes for lottery draws."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import Duration, MemberId


class LotterySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_duration: Duration = timedelta(days=30)  # the latest deadline an admin may set
    excluded: list[MemberId] = Field(default_factory=list)  # may never join (e.g. staff)
    max_points: int = Field(5_000, ge=0, le=10_000_000)  # points prizes a draw may pay in all
