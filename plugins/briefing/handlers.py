"""The briefing's jobs (fetch ahead, post) and the 早报 command: thin, logic in service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from bot.context import Context, JobContext
from bot.plugin import Role, Router, Schedule
from plugins.briefing import feeds, service
from plugins.briefing.models import BriefingFeed
from plugins.briefing.settings import BriefingSettings
from plugins.briefing.texts import TEXTS

router = Router()

AnyContext = Context[BriefingSettings] | JobContext[BriefingSettings]


class AlreadyPosted(Exception):
    """Today's briefing is already in the chat: a member's request would repeat it."""


def post_schedules(settings: BriefingSettings) -> list[Schedule]:
    return [Schedule("daily", at=settings.at, weekdays=tuple(settings.weekdays))]


def refresh_schedules(settings: BriefingSettings) -> list[Schedule]:
    if not settings.feeds:
        return []
    ahead = datetime.combine(date(2000, 1, 2), settings.at) - settings.fetch_ahead
    return [Schedule("ahead", at=ahead.time())]


async def refresh_feeds(ctx: JobContext[BriefingSettings]) -> None:
    """Fetch every feed into the cache; operators hear about a feed that starts failing."""
    transport = ctx.state.get("transport")  # tests hand in an httpx.MockTransport
    for feed in ctx.settings.feeds:
        try:
            error, newly_failing = await feeds.refresh(
                ctx.transaction, feed.url, ctx.services.config.base_dir, ctx.now,
                ctx.settings.fetch_timeout.total_seconds(), transport, ctx.group.id)
        except IntegrityError:  # another group's job cached the same feed at this moment
            continue
        if newly_failing:
            await _tell_operators(ctx, feed.name or feed.url, error or "")


async def _tell_operators(ctx: JobContext[BriefingSettings], feed: str, error: str) -> None:
    async with ctx.transaction() as session:
        row = await session.get(BriefingFeed, next(f.url for f in ctx.settings.feeds
                                                   if (f.name or f.url) == feed))
        cached = len(row.items) if row else 0
    language = ctx.services.config.config.bot.language
    text = TEXTS.get(language, "feed_failed", feed=feed, error=error, group=ctx.group.name,
                     cached=cached)
    for operator in ctx.services.config.config.operators:
        await ctx.dm(operator.id, text)


async def post_briefing(ctx: JobContext[BriefingSettings]) -> None:
    day = ctx.slot.astimezone(ctx.group.timezone).date()
    async with ctx.transaction() as session:
        if await service.posted(session, ctx.group.id, day):  # asked for earlier today
            ctx.log.info("briefing for %s already in the chat; not posted again", day)
            return
    text = await _compose_and_record(ctx, day, "scheduled")
    if text is None:
        ctx.log.warning("no briefing content for %s", day)
        return
    await ctx.post(text)


async def _compose_and_record(
    ctx: AnyContext, day: date, trigger: str, member_id: str | None = None
) -> str | None:
    """The briefing's text, recorded as shown; None when there is nothing to post.

    A member's request is refused once the day's briefing is in the chat (AlreadyPosted),
    and claims the group's one member request of the day in the same transaction
    (IntegrityError when two members ask at once)."""
    async with ctx.transaction() as session:
        if trigger == "member" and await service.posted(session, ctx.group.id, day):
            raise AlreadyPosted
        briefing = await service.compose(
            session, ctx.settings, ctx.group.id, ctx.group.tags, ctx.services.config.base_dir,
            day)
        if not briefing.items and not briefing.closing:
            return None
        await service.record(session, ctx.group.id, briefing, trigger, ctx.now, member_id,
                             member_day=day if trigger == "member" else None)
    return service.render(briefing, TEXTS, ctx.group.language, ctx.settings.title,
                          ctx.group.name)


@router.command("briefing", "早报", help="发今天的早报（成员每群每天一次）",
                help_en="post today's briefing (members: once a day per group)")
async def briefing_now(ctx: Context[BriefingSettings]) -> None:
    trigger = "admin" if ctx.role >= Role.ADMIN else "member"
    try:
        text = await _compose_and_record(ctx, ctx.local_now.date(), trigger, ctx.sender_id)
    except (AlreadyPosted, IntegrityError):
        await ctx.reply(ctx.t("member_limit"))
        return
    if text is None:
        await ctx.reply(ctx.t("empty"))
        return
    await ctx.reply(text, mention=False)
