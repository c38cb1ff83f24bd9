"""Who someone is in a group: member < admin < owner < operator.

Roles come from the config; the platform's own owner and admins count too, but only in
groups the config runs (listed, or enabled through `defaults:`) and only for that group's
own commands — anyone can create a room and invite the bot (issue 12). Bot-wide commands
(`/reload`) count only the roles bot.yaml gives. Platform roles are looked up at most once
per group every few minutes so the message hot path stays a dictionary lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.events import GroupInfo
from bot.groups import GroupSetup
from bot.plugin import Role

log = logging.getLogger("bot.roles")

GroupLookup = Callable[[str], Awaitable[GroupInfo | None]]


class Roles:
    def __init__(
        self,
        operators: Callable[[], frozenset[str]],
        lookup: GroupLookup,
        clock: Clock,
        ttl: timedelta = timedelta(minutes=10),
    ) -> None:
        self._operators, self._lookup, self._clock, self._ttl = operators, lookup, clock, ttl
        self._cache: dict[str, tuple[datetime, GroupInfo | None]] = {}

    async def role_of(self, group: GroupSetup, member_id: str, *, platform: bool = True) -> Role:
        """The member's role in `group`; platform=False: only what bot.yaml says."""
        if member_id in self._operators():
            return Role.OPERATOR
        if member_id == group.owner:
            return Role.OWNER
        configured = Role.ADMIN if member_id in group.admins else Role.MEMBER
        if not platform or not group.platform_roles:
            return configured
        info = await self.platform_info(group.id)
        if info is not None and info.owner_id == member_id:
            return Role.OWNER
        if info is not None and member_id in info.admin_ids:
            return Role.ADMIN
        return configured

    def renamed(self, group_id: str, name: str) -> None:
        """The platform renamed the group: the cached info shows the new name at once."""
        cached = self._cache.get(group_id)
        if cached is not None and cached[1] is not None:
            self._cache[group_id] = (cached[0], cached[1].model_copy(update={"name": name}))

    async def platform_info(self, group_id: str) -> GroupInfo | None:
        now = self._clock.now()
        cached = self._cache.get(group_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            info = await self._lookup(group_id)
        except Exception:
            log.warning("could not look up group %s on the platform", group_id, exc_info=True)
            info = None
        self._cache[group_id] = (now, info)
        return info
