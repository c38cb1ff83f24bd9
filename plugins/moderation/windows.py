"""What flood and repeat remember of each member's recent messages, bounded in time and
in size: a member's history expires once it can no longer matter, and the least recently
active members go first when the cap is reached (issue 14: no map grows without end)."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Far above the members who can post within one flood or repeat window in every group a
# bot serves; each history is at most a few hundred bytes.
DEFAULT_CAP = 20_000
TEXTS_KEPT = 50  # the repeat rule looks at a member's last 50 texts at most


@dataclass
class History:
    expires: datetime
    sent: deque[datetime] = field(default_factory=deque)  # for flood: the latest times
    # for repeat: when, and a hash of the text
    texts: deque[tuple[datetime, int]] = field(default_factory=lambda: deque(maxlen=TEXTS_KEPT))


class RecentMessages:
    """Histories keyed by (group, member), oldest touch first."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        self.cap = cap
        self._histories: OrderedDict[tuple[str, str], History] = OrderedDict()

    def __len__(self) -> int:
        return len(self._histories)

    def history(self, group_id: str, member_id: str, now: datetime,
                keep_for: timedelta) -> History:
        """The member's history, kept at least `keep_for` from now."""
        self._expire(now)
        key = (group_id, member_id)
        found = self._histories.pop(key, None)
        if found is None or found.expires <= now:
            found = History(expires=now)
        found.expires = max(found.expires, now + keep_for)
        self._histories[key] = found
        while len(self._histories) > self.cap:
            self._histories.popitem(last=False)
        return found

    def _expire(self, now: datetime) -> None:
        # Front to back is least to most recently touched; stop at the first live one.
        while self._histories:
            key, oldest = next(iter(self._histories.items()))
            if oldest.expires > now:
                return
            del self._histories[key]
