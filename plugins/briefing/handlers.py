"""The briefing's jobs (fetch ahead, post) and the 早报 command: thin, logic in service."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import tell_operators_of_broken
from bot.context import Context, JobContext
from bot.plugin import Role, Router, Schedule
from plugins.briefing import feeds, service
from plugins.briefing.models import BriefingFeed
from plugins.briefing.settings import BriefingSettings, FeedSource
from plugins.briefing.texts import TEXTS
from plugins.tags.targeting import post_to_tagged

router = Router()

AnyContext = Context[BriefingSettings] | JobContext[BriefingSettings]


class Refused(Exception):
    """A member's request that posts nothing: they get the text `key` instead."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def post_schedules(settings: BriefingSettings) -> list[Schedule]:
    return [Schedule("daily", at=settings.at, weekdays=tuple(settings.weekdays))]


def refresh_schedules(settings: BriefingSettings) -> list[Schedule]:
    if not settings.feeds:
        return []
    ahead = datetime.combine(date(2000, 1, 2), settings.at) - settings.fetch_ahead
    return [Schedule("ahead", at=ahead.time(), background=True)]


async def refresh_feeds(ctx: AnyContext) -> None:
    """Fetch every feed into the cache; operators hear about a feed that starts failing."""
    await fill_saved(ctx)
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


async def fill_empty_caches(ctx: JobContext[BriefingSettings]) -> None:
    """At start: feeds never fetched yet are fetched now rather than before the next post,
    so an early 早报 has their items. URLs just after start, so a slow feed never holds the
    bot up; saved files as of start, but parsed with the group's first briefing or fetch
    (fill_saved): feedparser's import alone is ~10 MB an idle bot need not keep."""
    async with ctx.transaction() as session:
        cached = set(await session.scalars(select(BriefingFeed.url).where(
            BriefingFeed.url.in_([f.url for f in ctx.settings.feeds]))))
    missing = [f for f in ctx.settings.feeds if f.url not in cached]
    local = [f for f in missing if not feeds.is_url(f.url)]
    if local:
        _unfilled(ctx)[ctx.group.id] = (local, ctx.now)
    if len(local) < len(missing):
        ctx.services.scheduler.call_at(
            ctx.now, f"briefing.fill:{ctx.group.id}",
            lambda: refresh_feeds(replace(ctx, now=ctx.services.clock.now())))


def _unfilled(ctx: AnyContext) -> dict[str, tuple[list[FeedSource], datetime]]:
    """Per group: the saved feed files not cached at start, and when it started."""
    unfilled: dict[str, tuple[list[FeedSource], datetime]] = ctx.state.setdefault(
        "unfilled", {})
    return unfilled


async def fill_saved(ctx: AnyContext) -> None:
    """The saved feed files this group's start found uncached, parsed now and cached as of
    the start (when the bot first saw their items), before anything reads the cache."""
    pending = _unfilled(ctx).pop(ctx.group.id, None)
    if pending is None:
        return
    local, started = pending
    # unit=None: a message's claim stays in its own transaction, not this fill's.
    await refresh_feeds(replace(ctx, now=started, unit=None,
                                settings=ctx.settings.model_copy(update={"feeds": local})))


async def _tell_operators(ctx: AnyContext, feed: str, error: str) -> None:
    async with ctx.transaction() as session:
        row = await session.get(BriefingFeed, next(f.url for f in ctx.settings.feeds
                                                   if (f.name or f.url) == feed))
        cached = len(row.items) if row else 0
    language = ctx.services.config.config.bot.language
    text = TEXTS.get(language, "feed_failed", feed=feed, error=error, group=ctx.group.name,
                     cached=cached)
    for operator in ctx.services.config.operators_of(ctx.group.id):
        await ctx.dm(operator, text)


async def _report_broken(ctx: AnyContext, day: date, broken: dict[str, str]) -> None:
    """Log each curated file the briefing skipped; the group's operators hear once a day
    per file, however often the briefing is composed."""
    if not broken:
        return
    told = _told(ctx, day)
    language = ctx.services.config.config.bot.language
    for file, problem in broken.items():
        ctx.log.error("briefing file %s skipped: %s", file, problem)
        text = TEXTS.get(language, "file_broken", file=file, group=ctx.group.name,
                         problem=problem)
        for operator in ctx.services.config.operators_of(ctx.group.id):
            if (operator, file) not in told:
                told.add((operator, file))
                await ctx.dm(operator, text)


def _told(ctx: AnyContext, day: date) -> set[tuple[str, str]]:
    """(operator, file) pairs told about on `day`. In memory: a broken file is a passing
    state, and at worst a restart tells them once more."""
    by_day: dict[date, set[tuple[str, str]]] = ctx.state.setdefault("broken_told", {})
    for old in [d for d in by_day if d < day - timedelta(days=1)]:  # groups' days differ by ≤1
        del by_day[old]
    return by_day.setdefault(day, set())


async def post_briefing(ctx: JobContext[BriefingSettings]) -> None:
    day = ctx.slot.astimezone(ctx.group.timezone).date()
    try:
        text = await _compose_and_record(ctx, day, "scheduled")
    except Refused:  # asked for earlier today
        ctx.log.info("briefing for %s already in the chat; not posted again", day)
        return
    if text is None:
        ctx.log.warning("no briefing content for %s", day)
        return
    if ctx.settings.tags:  # only the members with these tags are @-mentioned, in batches
        await post_to_tagged(ctx, text, ctx.settings.tags)
        return
    await ctx.post(text)


async def _compose_and_record(
    ctx: AnyContext, day: date, trigger: str, member_id: str | None = None
) -> str | None:
    """The briefing's text, recorded as shown; None when there is nothing to post.

    Only an admin's request posts the day's briefing again: a scheduled one, or a member's,
    is refused (Refused) once it is in the chat. A member's request claims the group's one
    member request of the day in the same transaction (IntegrityError when two members ask
    at once)."""
    await fill_saved(ctx)
    async with ctx.transaction() as session:
        briefing = await _brief(session, ctx, day, trigger, member_id)
        tell_operators_of_broken(ctx, briefing.kept)
    await _report_broken(ctx, day, briefing.broken)
    if not briefing.items:  # a header and a closing line are no briefing
        return None
    return service.render(briefing, ctx.group.language, ctx.settings.title, ctx.group.name)


async def _brief(session: AsyncSession, ctx: AnyContext, day: date, trigger: str,
                 member_id: str | None) -> service.Briefing:
    """Whether the day's briefing is in the chat and what is not to be repeated (one read,
    in the transaction that records this one), the briefing, and what it showed."""
    seen = await service.seen(session, ctx.group.id, day, ctx.settings.dedupe_days)
    if trigger != "admin":
        _check(ctx, seen.posted, trigger)
    briefing = await service.compose(session, ctx.settings, ctx.group.tags,
                                     ctx.services.config.base_dir, day, ctx.now, seen.shown)
    if briefing.items:
        await service.record(session, ctx.group.id, briefing, trigger, ctx.now, member_id,
                             member_day=day if trigger == "member" else None)
    elif trigger == "scheduled":  # nothing goes to the group; the operators' digest says so
        await service.record_empty(session, ctx.group.id, day, ctx.now)
    return briefing


def _check(ctx: AnyContext, posted: bool, trigger: str) -> None:
    """One briefing a day unless an admin asks: none once the day's is in the chat, and a
    member's not before it is due (posting early would use up the day's briefing before
    the feeds are fetched for it)."""
    if posted:
        raise Refused("member_limit")
    if trigger == "member" and service.still_to_come(ctx.settings, ctx.local_now):
        raise Refused("member_early")


@router.command("briefing", "早报", help="发今天的早报（成员：到点后每群每天一次）",
                help_en="post today's briefing (members: after its time, once a day per group)")
async def briefing_now(ctx: Context[BriefingSettings]) -> None:
    trigger = "admin" if ctx.role >= Role.ADMIN else "member"
    try:
        text = await _compose_and_record(ctx, ctx.local_now.date(), trigger, ctx.sender_id)
    except Refused as refused:
        await ctx.reply(ctx.t(refused.key, at=ctx.settings.at.strftime("%H:%M")))
        return
    except IntegrityError:  # another member's request took the day's one
        await ctx.reply(ctx.t("member_limit"))
        return
    if text is None:
        await ctx.reply(ctx.t("empty"))
        return
    await ctx.reply(text, mention=False)
