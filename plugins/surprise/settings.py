"""What a group owner sets for surprises (要素五 惊喜) to members whose activity drops."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field

from bot.config.models import ClockTime, Strict


class SurpriseSettings(Strict):
    at: ClockTime = time(19, 0)  # group time: when the day's surprises go out
    mode: Literal["mention", "dm"] = "mention"  # a friendly @ in the group, or a private message
    bonus: int = Field(20, ge=0, le=10_000)  # points through the ledger (0: just the words)
    every_days: int = Field(30, ge=1, le=365)  # at most one surprise per member this often
    min_weekly: float = Field(3, ge=1, le=1000)  # "active before": messages a week, on average
    drop: float = Field(0.5, gt=0, lt=1)  # this week under this share of the 4-week average
    max_per_day: int = Field(3, ge=1, le=50)  # the biggest drops first
