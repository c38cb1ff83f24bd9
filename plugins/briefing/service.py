"""Composing a briefing: sources in order, nothing repeated, every item cut cleanly."""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Text, bindparam, cast, insert, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.almanac import fill, long_date, lunar_date, solar_term, weekday
from bot.config import ConfigIssue, files
from bot.storage import Prepared, dialect_insert
from plugins.briefing.content import TAGS_DIR, curated_items, tag_files
from plugins.briefing.feeds import clean, dated
from plugins.briefing.models import BriefingFeed, BriefingRun, BriefingShown
from plugins.briefing.settings import BriefingSettings
from plugins.briefing.texts import TEXTS

ELLIPSIS = "…"
_BREAKS = "，。、；：！？,.;:!? )）】」』"
_EXTENDERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}  # ZWJ, variation selectors, keycap


EMPTY = "empty"  # a BriefingRun's trigger when the day had nothing: posted nothing, noted
_RUNS, _SHOWN, _FEEDS = BriefingRun.__table__, BriefingShown.__table__, BriefingFeed.__table__


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


@dataclass(frozen=True)
class Curated:
    """A day's curated items, clipped and keyed, for the groups sharing the files, tags and
    item length: read once, not once for each of thousands of groups (issue 16.4)."""

    items: tuple[Item, ...]
    closing: str | None
    broken: dict[str, str]  # skipped file (under config/): problem
    kept: tuple[ConfigIssue, ...]


CACHED = 256  # versions of curated content and feeds kept (bounded; a new one is a new key)
_CURATED: dict[tuple[Any, ...], Curated] = {}
# A feed's items prepared for display, by (url, item length): the cached text they came from
# and each item with when it dates from.
_PREPARED: dict[tuple[str, int], tuple[str | None, list[tuple[Item, datetime | None]]]] = {}


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= CACHED and key not in cache:
        cache.pop(next(iter(cache)))  # the oldest
    cache[key] = value


def _version(path: str) -> tuple[int, int, int, int] | None:
    """What tells an edited, replaced or removed file (as load_content does, and its type)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mode, stat.st_ino, stat.st_mtime_ns, stat.st_size


def curated(settings: BriefingSettings, group_tags: tuple[str, ...], config_dir: Path,
            day: date) -> Curated:
    """The day's curated items: the owner's files, then the group's tag files. Cached by
    everything they depend on, each file's version included (a stat per file and group:
    the key is plain text, as Paths cost more to build and hash than the stats)."""
    base = os.path.join(config_dir, "config")
    tagged = [f"{TAGS_DIR}/{tag}.yaml" for tag in group_tags] if settings.tag_content else []
    key = (day, base, tuple(settings.files), group_tags, settings.tag_content,
           settings.item_length, files.max_file_bytes(),
           tuple([_version(os.path.join(base, name)) for name in settings.files + tagged]))
    found = _CURATED.get(key)
    if found is None:
        folder = config_dir / "config"
        paths = [folder / name for name in settings.files]
        if settings.tag_content:
            paths += tag_files(config_dir, group_tags)
        found = _read_curated(paths, folder, day, group_tags, settings.item_length)
        _remember(_CURATED, key, found)
    return found


def _read_curated(paths: list[Path], base: Path, day: date, group_tags: tuple[str, ...],
                  item_length: int) -> Curated:
    content = curated_items(paths, day, group_tags)
    items = tuple(Item(clip(chosen.text, item_length), item_key(chosen.text, chosen.link),
                       (chosen.link or "").strip() or None) for chosen in content.items)
    broken = {_as_named(path, base): problem for path, problem in content.broken.items()}
    return Curated(items, content.closing, broken, tuple(content.kept))


async def compose(
    session: AsyncSession,
    settings: BriefingSettings,
    group_tags: tuple[str, ...],
    config_dir: Path,
    day: date,
    now: datetime,
    shown: set[str],
) -> Briefing:
    """Curated items for the day first, then tag content, then the feeds taken in turn;
    none `shown` already. A curated file that no longer loads is left out and named in
    `broken`."""
    chosen = curated(settings, group_tags, config_dir, day)
    skip = set(shown)
    items: list[Item] = []

    def take(item: Item) -> bool:
        if item.key in skip or not item.text or len(items) >= settings.items:
            return False
        skip.add(item.key)
        items.append(item)
        return True

    for item in chosen.items:
        take(item)
    _round_robin(await _feed_queues(session, settings, now), take)
    return Briefing(day, items, chosen.closing or settings.closing, dict(chosen.broken),
                    chosen.kept)


def _as_named(path: Path, base: Path) -> str:
    """A file as the owner names it in bot.yaml: relative to config/."""
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)


# The cache as stored (its text: a new fetch is a new text), so a feed's items are prepared
# once per version, not for every group.
_FEED_TEXTS = Prepared(select(_FEEDS.c.url, cast(_FEEDS.c["items"], Text)).where(
    _FEEDS.c.url.in_(bindparam("urls", expanding=True))))


async def _feed_queues(
    session: AsyncSession, settings: BriefingSettings, now: datetime
) -> list[tuple[int, list[Item]]]:
    """Each feed's cached items (from the last good fetch) with its item limit; items older
    than `feed_max_age` are not news, whenever they were last shown."""
    if not settings.feeds:
        return []
    texts = dict(await _FEED_TEXTS.rows(session, {"urls": [f.url for f in settings.feeds]}))
    queues = []
    for feed in settings.feeds:
        prepared = _prepared(feed.url, texts.get(feed.url), settings.item_length)
        queues.append((feed.max_items, [item for item, since in prepared
                                        if since is None or now - since <= settings.feed_max_age]))
    return queues


def _prepared(url: str, text: str | None, item_length: int) -> list[tuple[Item, datetime | None]]:
    """The feed's cached items clipped and keyed, each with when it dates from."""
    found = _PREPARED.get((url, item_length))
    if found is not None and found[0] == text:
        return found[1]
    prepared = [(Item(clip(i["title"], item_length), item_key(i["title"], i.get("link"))),
                 dated(i)) for i in (json.loads(text) if text else [])]
    _remember(_PREPARED, (url, item_length), (text, prepared))
    return prepared


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


def render(briefing: Briefing, language: str, title: str | None, group_name: str) -> str:
    day = briefing.day
    lines = [_heading(language, title, day)]
    lines += [f"{n}. {item.text}" + (f" {item.link}" if item.link else "")
              for n, item in enumerate(briefing.items, start=1)]
    if briefing.closing:
        lines.append("——")
        lines.append(fill(briefing.closing, day, language, {"group": group_name}))
    return "\n".join(lines)


@lru_cache(maxsize=64)
def _heading(language: str, title: str | None, day: date) -> str:
    """The title and almanac lines: the same for every group of the language and title on
    the day (a fan-out's thousands share a few)."""
    return "\n".join([
        TEXTS.get(language, "header", title=title or TEXTS.get(language, "title"),
                  date=long_date(day, language), weekday=weekday(day, language)),
        TEXTS.get(language, "almanac", lunar=lunar_date(day, language),
                  term=solar_term(day, language))])


def still_to_come(settings: BriefingSettings, local_now: datetime) -> bool:
    """Whether today is a briefing day (`weekdays`; empty: every day) and its time `at`
    (group time, as `local_now`) is still ahead."""
    today = not settings.weekdays or local_now.weekday() in settings.weekdays
    return today and local_now.time() < settings.at


@dataclass(frozen=True)
class Seen:
    """What a group has had: the day's briefing already (`posted`), and the items shown on
    the days before within the repeat window (today's may show again)."""

    posted: bool
    shown: set[str]


# Both in one statement per briefing (a fan-out composes thousands): a NULL key for each
# briefing of the day in the chat already, then the keys shown in the window.
_SEEN = Prepared(select(_SHOWN.c.item_key).where(
    _SHOWN.c.group_id == bindparam("group"), _SHOWN.c.day < bindparam("day"),
    _SHOWN.c.day >= bindparam("since"),
).union_all(select(null()).where(
    _RUNS.c.group_id == bindparam("group"), _RUNS.c.day == bindparam("day"),
    _RUNS.c.trigger != EMPTY)))


async def seen(session: AsyncSession, group_id: str, day: date, dedupe_days: int) -> Seen:
    shown = {key for (key,) in await _SEEN.rows(session, {
        "group": group_id, "day": day, "since": day - timedelta(days=dedupe_days)})}
    posted = None in shown
    shown.discard(None)
    return Seen(posted, shown)


_RUN = Prepared(insert(_RUNS))
_NOTED_EMPTY = Prepared(select(_RUNS.c.id).where(
    _RUNS.c.group_id == bindparam("group"), _RUNS.c.day == bindparam("day"),
    _RUNS.c.trigger == EMPTY).limit(1))
_SHOWN_INSERT = Prepared(lambda dialect: dialect_insert(dialect)(_SHOWN).on_conflict_do_nothing())


async def record_empty(session: AsyncSession, group_id: str, day: date, at: datetime) -> None:
    """The day's scheduled briefing had no items: nothing went to the group; the
    operators' digest says so (once a day, however often the job ran)."""
    if not await _NOTED_EMPTY.rows(session, {"group": group_id, "day": day}):
        await _RUN.run(session, _run_row(group_id, day, EMPTY, at, 0))


def _run_row(group_id: str, day: date, trigger: str, at: datetime, items: int,
             member_id: str | None = None, member_day: date | None = None) -> dict[str, Any]:
    return {"group_id": group_id, "day": day, "trigger": trigger, "member_id": member_id,
            "member_day": member_day, "at": at, "items": items}


async def record(
    session: AsyncSession, group_id: str, briefing: Briefing, trigger: str, at: datetime,
    member_id: str | None = None, member_day: date | None = None,
) -> None:
    """Remember what the group was shown. `member_day` claims the group's one member
    request of that day: a second one raises IntegrityError."""
    # Prepared statements, not ORM objects: a fan-out records thousands of groups.
    await _RUN.run(session, _run_row(group_id, briefing.day, trigger, at, len(briefing.items),
                                     member_id, member_day))
    keys = dict.fromkeys(item.key for item in briefing.items)
    if keys:
        await _SHOWN_INSERT.run_many(session, [
            {"group_id": group_id, "day": briefing.day, "item_key": key} for key in keys])
