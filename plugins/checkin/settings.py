"""What a group owner tunes for check-in (打卡)."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.models import ClockTime


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MakeupSettings(_Block):
    cost: int = Field(20, ge=0)  # points a 补签 costs
    per_month: int = Field(2, ge=0)


class AntiCopySettings(_Block):
    """Copying another member's note to fake a check-in is refused (要素三 机制)."""

    enabled: bool = True
    similarity: int = Field(90, ge=50, le=100)  # percent, after normalizing
    window_days: int = Field(7, ge=1, le=90)
    min_length: int = Field(4, ge=1)  # shorter notes ("打卡") are never compared
    # A note containing another's (or contained in it) is a copy once the shared part is
    # this long (normalized characters): "someone's note plus a sentence".
    min_contained_length: int = Field(8, ge=2)
    penalty_points: int = Field(5, ge=0)
    offences_before_blackroom: int = Field(3, ge=1)
    blackroom_days: int = Field(3, ge=1)


class ComebackSettings(_Block):
    """A surprise bonus for a member returning after their streak broke (要素五 惊喜)."""

    after_days: int = Field(3, ge=1)
    bonus: int = Field(10, ge=0)
    every_days: int = Field(30, ge=1)


class CheckinSettings(_Block):
    day_starts_at: ClockTime = time(0, 0)  # e.g. 04:00: a check-in at 01:30 counts for yesterday
    points: int = Field(5, ge=0)
    milestones: dict[int, int] = Field(default_factory=lambda: {3: 10, 7: 30, 15: 60, 21: 100})
    min_note_length: int = Field(0, ge=0)
    reminder_at: ClockTime | None = time(21, 0)
    reminder_batch: int = Field(20, ge=1, le=100)  # @-mentions per reminder message
    # Members who have not checked in for this many days are no longer reminded.
    reminder_inactive_days: int = Field(14, ge=1, le=365)
    praise_at: ClockTime | None = None  # e.g. 08:00: thank yesterday's completers
    freezes_per_month: int = Field(1, ge=0, le=10)
    makeup: MakeupSettings = Field(default_factory=MakeupSettings)
    anti_copy: AntiCopySettings = Field(default_factory=AntiCopySettings)
    comeback: ComebackSettings = Field(default_factory=ComebackSettings)
    # Levels (等级): days checked in (or made up) in all to reach level 1, 2, 3 …
    levels: list[int] = Field(default_factory=lambda: [1, 7, 21, 50, 100, 200, 365],
                              min_length=1, max_length=20)

    @field_validator("levels")
    @classmethod
    def _rising(cls, value: list[int]) -> list[int]:
        if any(days < 1 for days in value) or value != sorted(set(value)):
            raise ValueError("levels are rising day counts (≥ 1), e.g. [1, 7, 21, 50]")
        return value

    @field_validator("milestones")
    @classmethod
    def _positive_days(cls, value: dict[int, int]) -> dict[int, int]:
        if any(days < 1 or reward < 0 for days, reward in value.items()):
            raise ValueError("milestones map streak days (≥ 1) to reward points (≥ 0)")
        return dict(sorted(value.items()))
