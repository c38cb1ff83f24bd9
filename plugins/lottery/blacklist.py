"""Who may not join a draw. A small interface so other blacklists can be added later.

Today's sources: members an owner lists under `excluded` in the lottery block, and members
in the group's one 小黑屋 (the core's, bot/blackroom.py), whoever put them there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.blackroom import Blackroom

# (blackroom, session, group id, member id, now) → is the member barred?
Blacklist = Callable[[Blackroom, AsyncSession, str, str, datetime], Awaitable[bool]]


async def in_blackroom(blackroom: Blackroom, session: AsyncSession, group_id: str,
                       member_id: str, now: datetime) -> bool:
    return await blackroom.is_in(group_id, member_id, now, session=session)


BLACKLISTS: tuple[Blacklist, ...] = (in_blackroom,)


async def barred(blackroom: Blackroom, session: AsyncSession, group_id: str, member_id: str,
                 now: datetime) -> bool:
    for blacklist in BLACKLISTS:
        if await blacklist(blackroom, session, group_id, member_id, now):
            return True
    return False
