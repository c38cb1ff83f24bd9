"""What a group owner sets for invitations (邀请有奖)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bot.config.models import Strict


class InvitesSettings(Strict):
    stay_days: int = Field(3, ge=1, le=30)  # an invitee counts once in the group this long
    points: int = Field(10, ge=0, le=1000)  # per counted invitee, paid to the inviter at join
    thresholds: dict[int, int] = Field(default_factory=dict)  # counted invitees → bonus points
    silent: Literal["half", "none"] = "half"  # an invitee who never spoke in stay_days counts…
    announce: bool = True  # thank the inviter in the group when someone joins
    board_size: int = Field(10, ge=1, le=30)  # names per list of /邀请榜

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[int, int]) -> dict[int, int]:
        for count, bonus in value.items():
            if not 1 <= count <= 10_000 or not 0 < bonus <= 100_000:
                raise ValueError("thresholds map an invitee count (1-10000) to bonus points "
                                 "(1-100000), e.g. {3: 20, 10: 100}")
        return dict(sorted(value.items()))
