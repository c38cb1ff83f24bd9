"""Recording replies (a passive that never consumes), the morning recap, and the events
announced before they start."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ConfigError
from bot.content import tell_operators_of_broken
from bot.context import Context, JobContext
from bot.events import MessageKind, Quote
from bot.plugin import Router, Schedule
from bot.text import excerpt
from plugins.recap import service
from plugins.recap.settings import Event, RecapSettings

router = Router()

QUOTE_EXCERPT = 30


def recap_schedules(settings: RecapSettings) -> list[Schedule]:
    return [Schedule("daily", at=settings.at, payload="recap"),
            Schedule("events", at=time(0, 1), payload="events")]


def _last_said(ctx: Any) -> dict[str, tuple[str, str]]:
    """Each member's last typed message in this group (member → (name, text)), so an @ to
    them can be credited to it. In memory: a restart loses only the reply credit."""
    return ctx.state.setdefault("last", {}).setdefault(ctx.group.id, {})


@router.passive
async def note_replies(ctx: Context[RecapSettings]) -> bool:
    """A quote credits the quoted message; an @ credits the mentioned member's last message."""
    message, day = ctx.message, ctx.message.time.astimezone(ctx.group.timezone).date()
    credited: list[tuple[str, str, str]] = []
    if message.kind == MessageKind.QUOTE and isinstance(message.content, Quote):
        quote = message.content
        author = quote.author_id or quote.author
        if author and author != ctx.sender_id and quote.quoted.strip():
            credited.append((author, quote.author, quote.quoted))
    elif message.mention_ids and not message.mentions_all:
        last = _last_said(ctx)
        credited += [(m, *last[m]) for m in message.mention_ids
                     if m != ctx.sender_id and m in last]
    if credited:
        async with ctx.transaction() as session:
            for author, name, text in credited:
                await service.record_reply(session, ctx.group.id, day, author, name, text)
    if message.text.strip():
        _last_said(ctx)[ctx.sender_id] = (ctx.sender_name, message.text)
    return False


async def post_recap(ctx: JobContext[RecapSettings]) -> None:
    today = ctx.slot.astimezone(ctx.group.timezone).date()
    yesterday = today - timedelta(days=1)
    preview = [_event_line(ctx, e, "event") for e in _events(ctx, today)]
    # One transaction: the recap is written with the slot's completion (bot/scheduler.py's
    # SlotUnit marks it in the job's first one), so a kill keeps both or neither.
    async with ctx.transaction() as session:
        lines, credited = await _yesterday(ctx, session, yesterday)
        if not lines and not preview:
            ctx.log.info("no recap for %s: nothing recorded and no events", yesterday)
            return
        text = [ctx.t("header", date=f"{yesterday:%m-%d}"), *lines] if lines else []
        if preview:
            text += [ctx.t("preview"), *preview]
        await ctx.post("\n".join(text), mentions=tuple(dict.fromkeys(credited)))


async def _yesterday(ctx: JobContext[RecapSettings], session: AsyncSession,
                     day: date) -> tuple[list[str], list[str]]:
    """Yesterday's lines by the rules, in order, cut to max_lines; and who they credit."""
    s, tz, group = ctx.settings, ctx.group.timezone, ctx.group.id
    found: list[tuple[str, str | None]] = []
    for c in await service.highlights(session, group, day, s):
        found.append((ctx.t("highlight", name=c.name, text=excerpt(c.text, QUOTE_EXCERPT),
                            count=c.count), c.member_id))
    asked = await service.answered_questions(session, group, day, tz, s.questions)
    wording = await service.faq_questions(session, ctx.group, ctx.services.config.base_dir)
    for c in asked:
        if c.text in wording:
            found.append((ctx.t("question", name=c.name,
                                text=excerpt(wording[c.text], QUOTE_EXCERPT)), c.member_id))
    count, notes = await service.checkins(session, group, day, s.notes)
    if count:
        found.append((ctx.t("checkins", count=count), None))
    for c in notes:
        found.append((ctx.t("note", name=c.name, text=excerpt(c.text, QUOTE_EXCERPT)),
                      c.member_id))
    for c in await service.quiz_winners(session, group, day, tz, s.quiz_winners):
        found.append((ctx.t("quiz", name=c.name, count=c.count), c.member_id))
    kept = found[: s.max_lines]
    return [line for line, _ in kept], [member for _, member in kept if member]


def _events(ctx: Any, day: date) -> list[Event]:
    path = service.events_path(ctx.settings, ctx.services.config.base_dir)
    if path is None or not path.exists():
        return []
    try:
        events, problems = service.load_events(path)
    except ConfigError as exc:  # broken, and no version of it loaded since the start
        ctx.log.error("events file %s not read: %s", path, exc)
        return []
    tell_operators_of_broken(ctx, problems)  # an edit broke it: the last good version counts
    return service.events_on(events, day, ctx.group.id, ctx.group.name)


def _event_line(ctx: Any, event: Event, key: str, **extra: object) -> str:
    values = {"time": f"{event.time:%H:%M}", "title": event.title, **extra}
    if event.link:
        return ctx.t(f"{key}.link", link=event.link, **values)
    return ctx.t(key, **values)


async def arm_event_announcements(ctx: JobContext[RecapSettings]) -> None:
    """Just after midnight (and at start): a timer for each of today's events, the
    `announce_before` ahead. Timers live in memory; at start only future ones are armed."""
    before = ctx.settings.announce_before
    if not before:
        return
    today = ctx.now.astimezone(ctx.group.timezone).date()
    for event in _events(ctx, today):
        starts = datetime.combine(event.date, event.time, tzinfo=ctx.group.timezone)
        when = starts - before
        if when < ctx.now:
            continue
        text = _event_line(ctx, event, "soon", minutes=int(before.total_seconds() // 60))

        async def announce(text: str = text) -> None:
            await ctx.post(text)

        key = f"recap.event:{ctx.group.id}:{starts.isoformat()}:{service.text_key(event.title)}"
        ctx.services.scheduler.call_at(when, key, announce)


async def run_job(ctx: JobContext[RecapSettings]) -> None:
    if ctx.payload == "events":
        await arm_event_announcements(ctx)
    else:
        await post_recap(ctx)
