"""What a group owner tunes for lottery draws."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.config.models import Duration, MemberId
from bot.scheduler import cron_trigger


class LotterySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_duration: Duration = timedelta(days=30)  # the latest deadline an admin may set
    excluded: list[MemberId] = Field(default_factory=list)  # may never join (e.g. staff)
    # How often the bot looks for draws past their deadline besides its exact timers (which
    # a restart forgets): a 5-field cron line.
    sweep_cron: str = "*/5 * * * *"

    @model_validator(mode="after")
    def _cron(self) -> LotterySettings:
        cron_trigger(self.sweep_cron, ZoneInfo("UTC"))  # raises ValueError with the reason
        return self
