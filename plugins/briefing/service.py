"""Composing a briefing: sources in order, nothing repeated, every item cut cleanly."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.almanac import fill, long_date, lunar_date, solar_term, weekday
from bot.config import ConfigIssue
from bot.i18n import Texts
from bot.storage import insert_all_if_missing
from plugins.briefing.content import curated_items, tag_files
from plugins.briefing.feeds import age_of, clean
from plugins.briefing.models import BriefingFeed, BriefingRun, BriefingShown
from plugins.briefing.settings import BriefingSettings

ELLIPSIS = "…"
_BREAKS = "，。、；：！？,.;:!? )）】」』"
_EXTENDERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}  # ZWJ, variation selectors, keycap


EMPTY = "empty"  # a BriefingRun's trigger when the day had nothing: posted nothing, noted


@dataclass(frozen=True)
class Item:
    text: str
    key: str  # what "the same item" means: its link, else its text
    link: str | None = None  # shown after the text (the owner's curated items)


@dataclass(frozen=True)
class Briefing:
    day: date
    items: list[Item]
    closing: str | None
    broken: dict[str, str] = field(default_factory=dict)  # skipped file (under config/): problem
    kept: tuple[ConfigIssue, ...] = ()  # broken while running: last good version used


def item_key(text: str, link: str | None = None) -> str:
    basis = (link or "").strip() or " ".join(text.lower().split())
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()


def _extends(char: str) -> bool:
    """True for characters that belong to the one before (never cut in front of them)."""
    return (char in _EXTENDERS or unicodedata.combining(char) != 0
            or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin tones
            or "\U000e0020" <= char <= "\U000e007f")  # tag sequences (flags)


def clip(text: str, limit: int) -> str:
    """Cut to at most `limit` characters: at a punctuation mark or space when one is near
    the end, never inside an emoji or a combined character, marked with an ellipsis."""
    text = clean(text)
    if len(text) <= limit:
        return text
    end = limit - 1
    while end > 0 and (_extends(text[end]) or text[end - 1] == "\u200d"):
        end -= 1
    # Regional-indicator flags come in pairs: do not keep half of one.
    run = 0
    while run < end and "\U0001f1e6" <= text[end - 1 - run] <= "\U0001f1ff":
        run += 1
    end -= run % 2
    cut = text[:end]
    soft = max(cut.rfind(c) for c in _BREAKS)
    if soft >= limit * 0.6:
        cut = cut[: soft + 1]
    return cut.rstrip(" ,，、;；:：") + ELLIPSIS


async def recent_keys(
    session: AsyncSession, group_id: str, day: date, dedupe_days: int
) -> set[str]:
    """Items shown on the days before `day` within the window (today's may show again)."""
    if dedupe_days <= 0:
        return set()
    rows = await session.scalars(select(BriefingShown.item_key).where(
        BriefingShown.group_id == group_id, BriefingShown.day < day,
        BriefingShown.day >= day - timedelta(days=dedupe_days)))
    return set(rows)


async def compose(
    session: AsyncSession,
    settings: BriefingSettings,
    group_id: str,
    group_tags: tuple[str, ...],
    config_dir: Path,
    day: date,
    now: datetime,
) -> Briefing:
    """Curated items for the day first, then tag content, then the feeds taken in turn.
    A curated file that no longer loads is left out and named in `broken`."""
    base = config_dir / "config"
    files = [base / name for name in settings.files]
    if settings.tag_content:
        files += tag_files(config_dir, group_tags)
    curated = curated_items(files, day, group_tags)
    skip = await recent_keys(session, group_id, day, settings.dedupe_days)
    items: list[Item] = []

    def take(item: Item) -> bool:
        if item.key in skip or not item.text or len(items) >= settings.items:
            return False
        skip.add(item.key)
        items.append(item)
        return True

    for chosen in curated.items:
        take(Item(clip(chosen.text, settings.item_length), item_key(chosen.text, chosen.link),
                  (chosen.link or "").strip() or None))
    queues = await _feed_queues(session, settings, now)
    _round_robin(queues, take)
    broken = {_as_named(path, base): problem for path, problem in curated.broken.items()}
    return Briefing(day, items, curated.closing or settings.closing, broken, tuple(curated.kept))


def _as_named(path: Path, base: Path) -> str:
    """A file as the owner names it in bot.yaml: relative to config/."""
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)


async def _feed_queues(
    session: AsyncSession, settings: BriefingSettings, now: datetime
) -> list[tuple[int, list[Item]]]:
    """Each feed's cached items (from the last good fetch) with its item limit; items older
    than `feed_max_age` are not news, whenever they were last shown."""
    if not settings.feeds:
        return []
    rows = {r.url: r for r in await session.scalars(
        select(BriefingFeed).where(BriefingFeed.url.in_([f.url for f in settings.feeds])))}
    queues = []
    for feed in settings.feeds:
        cached = rows[feed.url].items if feed.url in rows else []
        queues.append((feed.max_items, [Item(clip(i["title"], settings.item_length),
                                             item_key(i["title"], i.get("link")))
                                        for i in cached
                                        if age_of(i, now) <= settings.feed_max_age]))
    return queues


def _round_robin(queues: list[tuple[int, list[Item]]], take: Callable[[Item], bool]) -> None:
    """One new item from each feed in turn, so no feed crowds out the others."""
    positions, used = [0] * len(queues), [0] * len(queues)
    progress = True
    while progress:
        progress = False
        for index, (limit, queue) in enumerate(queues):
            while used[index] < limit and positions[index] < len(queue):
                positions[index] += 1
                if take(queue[positions[index] - 1]):
                    used[index] += 1
                    progress = True
                    break


def render(briefing: Briefing, texts: Texts, language: str, title: str | None,
           group_name: str) -> str:
    day = briefing.day
    lines = [
        texts.get(language, "header", title=title or texts.get(language, "title"),
                  date=long_date(day, language), weekday=weekday(day, language)),
        texts.get(language, "almanac", lunar=lunar_date(day, language),
                  term=solar_term(day, language)),
    ]
    lines += [f"{n}. {item.text}" + (f" {item.link}" if item.link else "")
              for n, item in enumerate(briefing.items, start=1)]
    if briefing.closing:
        lines.append("——")
        lines.append(fill(briefing.closing, day, language, {"group": group_name}))
    return "\n".join(lines)


def still_to_come(settings: BriefingSettings, local_now: datetime) -> bool:
    """Whether today is a briefing day (`weekdays`; empty: every day) and its time `at`
    (group time, as `local_now`) is still ahead."""
    today = not settings.weekdays or local_now.weekday() in settings.weekdays
    return today and local_now.time() < settings.at


async def posted(session: AsyncSession, group_id: str, day: date) -> bool:
    """Whether the group already had the day's briefing (scheduled or asked for)."""
    found = await session.scalar(select(BriefingRun.id).where(
        BriefingRun.group_id == group_id, BriefingRun.day == day,
        BriefingRun.trigger != EMPTY).limit(1))
    return found is not None


async def record_empty(session: AsyncSession, group_id: str, day: date, at: datetime) -> None:
    """The day's scheduled briefing had no items: nothing went to the group; the
    operators' digest says so (once a day, however often the job ran)."""
    found = await session.scalar(select(BriefingRun.id).where(
        BriefingRun.group_id == group_id, BriefingRun.day == day,
        BriefingRun.trigger == EMPTY).limit(1))
    if found is None:
        session.add(BriefingRun(group_id=group_id, day=day, trigger=EMPTY, at=at, items=0))


async def record(
    session: AsyncSession, group_id: str, briefing: Briefing, trigger: str, at: datetime,
    member_id: str | None = None, member_day: date | None = None,
) -> None:
    """Remember what the group was shown. `member_day` claims the group's one member
    request of that day: a second one raises IntegrityError."""
    # Core statements, not ORM objects: a fan-out records thousands of groups (issue 16.4).
    await session.execute(insert(BriefingRun).values(
        group_id=group_id, day=briefing.day, trigger=trigger, member_id=member_id,
        member_day=member_day, at=at, items=len(briefing.items)))
    await insert_all_if_missing(session, BriefingShown, [
        {"group_id": group_id, "day": briefing.day, "item_key": key}
        for key in dict.fromkeys(item.key for item in briefing.items)])
