"""Posting to the members with a tag (`tags: [宝妈]` on a timed post or a briefing).

Used by timed_posts, briefing and check-in reminders: the text goes
out once, @-mentioning the tagged members in batches so no message carries hundreds of
mentions; later batches follow as short "↑" messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import JobContext
from bot.i18n import join_list
from plugins.tags import service
from plugins.tags.settings import TagsSettings


async def tagged_in(ctx: JobContext[Any], session: AsyncSession,
                    tags: Sequence[str]) -> tuple[str, ...]:
    """Members carrying any of `tags` in this group (by the group's tags settings, or the
    defaults when it does not enable the tags plugin), read in the caller's transaction:
    flush the activity counters before it (that opens a transaction of its own)."""
    found = await service.members_with(session, ctx.group, _settings(ctx), tags, ctx.now,
                                       ctx.services.blackroom)
    return tuple(found)


async def post_to_tagged(ctx: JobContext[Any], text: str, tags: Sequence[str]) -> int:
    """Post `text` mentioning only the members with one of `tags`; returns how many were
    mentioned (0: nothing posted — content meant for nobody here)."""
    await ctx.services.activity.flush_counts()
    async with ctx.transaction() as session:  # the posts written with the slot's completion
        return await post_to_tagged_in(ctx, session, text, tags)


async def post_to_tagged_in(ctx: JobContext[Any], session: AsyncSession, text: str,
                            tags: Sequence[str]) -> int:
    """`post_to_tagged` in the caller's transaction (the counters flushed before it)."""
    members = await tagged_in(ctx, session, tags)
    if not members:
        ctx.log.info("post for tags %s skipped: no member carries them", ",".join(tags))
        return 0
    size = _settings(ctx).batch
    batches = [members[i:i + size] for i in range(0, len(members), size)]
    await ctx.post(text, mentions=batches[0])
    for batch in batches[1:]:
        await ctx.post("↑ " + join_list(ctx.group.language, tags), mentions=batch)
    return len(members)


def _settings(ctx: JobContext[Any]) -> TagsSettings:
    enabled = ctx.group.enabled("tags")
    settings = enabled.settings if enabled is not None else TagsSettings()
    assert isinstance(settings, TagsSettings)
    return settings
