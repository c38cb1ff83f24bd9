"""How members are sorted into KOL / active / ordinary / lurker (用户分层)."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import ClockTime


class SegmentRule(BaseModel):
    """Every threshold given must be met (0 = not required)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_share: float = Field(0, ge=0, le=1)  # share of the group's messages in the window
    min_messages: int = Field(0, ge=0)
    min_days: int = Field(0, ge=0)  # days with at least one message
    min_mentions: int = Field(0, ge=0)  # times others @-mentioned them (replies received)


class ActivitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_days: int = Field(30, ge=3, le=90)
    kol: SegmentRule = SegmentRule(min_share=0.05, min_days=10, min_mentions=5)
    active: SegmentRule = SegmentRule(min_days=8)
    ordinary: SegmentRule = SegmentRule(min_messages=1)
    # The day before's segment counts for the digest (and any of the 7 before left without).
    snapshot_at: ClockTime = time(0, 10)
