"""Time for the whole bot: handlers and jobs read `now` from here, never from datetime.now().

A manual clock makes midnight, streaks and daily jobs testable without sleeping.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, transcripts)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = instant.astimezone(UTC)


class RunningClock(ManualClock):
    """Real time plus an offset the user can push forward (the interactive console)."""

    def __init__(self) -> None:
        super().__init__()
        self._offset = timedelta()
        self._base = time.monotonic()
        self._start = datetime.now(UTC)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._base) + self._offset

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._offset += instant - self.now()


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '2h', '1d' → timedelta; raises ValueError with the accepted forms."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"invalid duration {text!r}: use a number and s/m/h/d, e.g. 30m or 1d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
