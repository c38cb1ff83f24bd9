"""Who may not join a draw. A small interface so other blacklists can be added later.

Today's sources: members an owner lists under `excluded` in the lottery block, and members
in the moderation plugin's 小黑屋 (moderation_members.blackroom_until in the future).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.moderation.models import ModerationMember

# (session, group id, member id, now) → is the member barred?
Blacklist = Callable[[AsyncSession, str, str, datetime], Awaitable[bool]]


async def in_blackroom(session: AsyncSession, group_id: str, member_id: str,
                       now: datetime) -> bool:
    until = await session.scalar(select(ModerationMember.blackroom_until).where(
        ModerationMember.group_id == group_id, ModerationMember.member_id == member_id))
    return until is not None and until > now


BLACKLISTS: tuple[Blacklist, ...] = (in_blackroom,)


async def barred(session: AsyncSession, group_id: str, member_id: str, now: datetime) -> bool:
    for blacklist in BLACKLISTS:
        if await blacklist(session, group_id, member_id, now):
            return True
    return False
