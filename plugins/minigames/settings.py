"""What a group owner tunes for 骰子 and 扎气球."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MinigamesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dice_prize: str = Field("20积分", max_length=100)  # when the admin names none
    rolls_per_member: int = Field(3, ge=0, le=1000)  # per dice game; 0 = no limit
    max_balloons: int = Field(30, ge=2, le=100)
