"""Member activity over a window and the four segments (KOL, active, ordinary, lurker).

Reads the core's per-day counters (bot/activity.py); one query serves any number of groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activity import ActivityDaily, MemberEvent
from bot.storage import chunked
from plugins.activity.settings import ActivitySettings, SegmentRule

SEGMENTS = ("kol", "active", "ordinary", "lurker")


@dataclass
class MemberStats:
    name: str = ""
    messages: int = 0
    characters: int = 0
    commands: int = 0
    mentions: int = 0
    days: int = 0  # days with at least one message


def meets(stats: MemberStats, group_messages: int, rule: SegmentRule) -> bool:
    share = stats.messages / group_messages if group_messages else 0.0
    return (share >= rule.min_share and stats.messages >= rule.min_messages
            and stats.days >= rule.min_days and stats.mentions >= rule.min_mentions)


def segment_of(stats: MemberStats, group_messages: int, settings: ActivitySettings) -> str:
    """The first segment whose rule the member meets, checked from KOL down; else lurker.

    A lurker who never posted is never "ordinary", whatever the rule says."""
    if stats.messages == 0:
        return "lurker"
    for name, rule in (("kol", settings.kol), ("active", settings.active),
                       ("ordinary", settings.ordinary)):
        if meets(stats, group_messages, rule):
            return name
    return "lurker"


async def window_stats(
    session: AsyncSession, group_ids: Iterable[str], first: date, last: date,
    *, chatter: bool = False,
) -> dict[str, dict[str, MemberStats]]:
    """Per group, per member seen (posting or @-mentioned) between the two days. With
    `chatter`, commands to the bot are not messages (nor make a day active): asking the bot
    for /群画像 or /活跃 is not taking part in the group's talk (issue 13)."""
    result: dict[str, dict[str, MemberStats]] = {}
    for chunk in chunked(group_ids):
        rows = await session.execute(_window_statement(chatter),
                                     {"groups": chunk, "first": first, "last": last})
        for group, member, name, messages, chars, commands, mentions, days in rows:
            result.setdefault(group, {})[member] = MemberStats(
                name or "", int(messages), int(chars), int(commands), int(mentions), int(days))
    return result


@cache
def _window_statement(chatter: bool) -> Any:
    """Built once: building it cost more than SQLite's work for /活跃 (issue 14 point 6)."""
    a = ActivityDaily
    said = a.messages - a.commands if chatter else a.messages
    return (select(a.group_id, a.member_id, func.max(a.name), func.sum(said),
                   func.sum(a.characters), func.sum(a.commands), func.sum(a.mentions_received),
                   func.sum(case((said > 0, 1), else_=0)))
            .where(a.group_id.in_(bindparam("groups", expanding=True)),
                   a.day >= bindparam("first"), a.day <= bindparam("last"))
            .group_by(a.group_id, a.member_id))


Stats = dict[str, MemberStats]


def _split_statement() -> Any:
    a = ActivityDaily
    said = a.messages - a.commands
    # Grouped by their output names: PostgreSQL does not see two copies of an expression
    # with bound values as the same one.
    in_window = case((a.day >= bindparam("first"), 1), else_=0).label("in_window")
    in_split = case((a.day >= bindparam("split"), 1), else_=0).label("in_split")
    return (select(a.member_id, in_window, in_split, func.max(a.name), func.sum(said),
                   func.sum(a.characters), func.sum(a.commands), func.sum(a.mentions_received),
                   func.sum(case((said > 0, 1), else_=0)))
            .where(a.group_id == bindparam("group"), a.day >= bindparam("since"),
                   a.day <= bindparam("last"))
            .group_by(a.member_id, text("in_window"), text("in_split")))


_SPLIT = _split_statement()  # built once: /群画像's reads are mostly building statements


async def split_window_stats(session: AsyncSession, group_id: str, first: date, split: date,
                             last: date) -> tuple[Stats, Stats, Stats]:
    """`window_stats(chatter=True)` of one group for first..last, first..split-1 and
    split..last, read in one statement (a member's rows in two parts, added here: each
    day falls in exactly one part, so the sums and active days are the same)."""
    rows = await session.execute(_SPLIT, {"first": first, "split": split, "group": group_id,
                                          "since": min(first, split), "last": last})
    window: Stats = {}
    before: Stats = {}
    after: Stats = {}
    for member, windowed, split_part, name, messages, chars, commands, mentions, days in rows:
        part = MemberStats(name or "", int(messages), int(chars), int(commands),
                           int(mentions), int(days))
        places = [window] if windowed else []
        if split_part:
            places.append(after)
        elif windowed:
            places.append(before)
        for place in places:
            place[member] = _added(place.get(member), part)
    return window, before, after


def _added(one: MemberStats | None, other: MemberStats) -> MemberStats:
    if one is None:
        return other
    return MemberStats(max(one.name, other.name), one.messages + other.messages,
                       one.characters + other.characters, one.commands + other.commands,
                       one.mentions + other.mentions, one.days + other.days)


Event = tuple[str, str, datetime]  # member, "join" | "leave", when (UTC)


_EVENTS = (select(MemberEvent.group_id, MemberEvent.member_id, MemberEvent.kind, MemberEvent.at)
           .where(MemberEvent.group_id.in_(bindparam("groups", expanding=True)))
           .order_by(MemberEvent.at, MemberEvent.id))  # built once, as _window_statement


async def member_events(session: AsyncSession, group_ids: Iterable[str]) -> dict[str, list[Event]]:
    """Each group's joins and leaves, oldest first."""
    events: dict[str, list[Event]] = {}
    for chunk in chunked(group_ids):
        rows = await session.execute(_EVENTS, {"groups": chunk})
        for group, member, kind, at in rows:
            events.setdefault(group, []).append((member, kind, at))
    return events


def membership_of(events: list[Event], until: datetime | None = None) -> tuple[set[str], set[str]]:
    """(still in the group after joining, left the group) as of `until` (default: now)."""
    inside: set[str] = set()
    gone: set[str] = set()
    for member, kind, at in events:
        if until is not None and at >= until:
            break  # oldest first: the rest came later too
        (inside if kind == "join" else gone).add(member)
        (gone if kind == "join" else inside).discard(member)
    return inside, gone


async def membership(
    session: AsyncSession, group_ids: Iterable[str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(still in the group after joining, left the group) per group, from join/leave events."""
    events = await member_events(session, group_ids)
    pairs = {group: membership_of(group_events) for group, group_events in events.items()}
    return ({g: inside for g, (inside, _) in pairs.items()},
            {g: gone for g, (_, gone) in pairs.items()})


def members_then(member_count: int, events: list[Event], until: datetime) -> int:
    """The platform's member count as it was at `until`: the joins and leaves recorded
    since then are undone (members silent since before the bot came cannot be)."""
    later = [kind for _, kind, at in events if at >= until]
    return member_count - later.count("join") + later.count("leave")


def count_segments(
    stats: dict[str, MemberStats], joined: set[str], left: set[str], settings: ActivitySettings
) -> dict[str, int]:
    total = sum(s.messages for s in stats.values())
    counts = dict.fromkeys(SEGMENTS, 0)
    for member, member_stats in stats.items():
        if member not in left:
            counts[segment_of(member_stats, total, settings)] += 1
    counts["lurker"] += len(joined - set(stats))  # joined and never seen since
    return counts


def members_at(room: set[str], events: list[Event], until: datetime) -> set[str]:
    """Who was in the room at `until`, from who is in it now: the joins recorded since
    then are undone, and the leaves."""
    then = set(room)
    for member, kind, at in reversed(events):  # newest first: undo back to `until`
        if at < until:
            break
        (then.discard if kind == "join" else then.add)(member)
    return then


def count_room(stats: dict[str, MemberStats], room: set[str],
               settings: ActivitySettings) -> dict[str, int]:
    """The segments of the members in the room: each by their figures, and every member who
    never spoke (nor only talked to the bot) a lurker. Members gone are not counted, though
    their messages still make up the group's total."""
    total = sum(s.messages for s in stats.values())
    counts = dict.fromkeys(SEGMENTS, 0)
    for member in room:
        counts[segment_of(stats.get(member, MemberStats()), total, settings)] += 1
    return counts


def with_silent_members(counts: dict[str, int], member_count: int | None) -> dict[str, int]:
    """Lurkers by the platform's member count as well: members silent since before the bot
    came were never seen (no join recorded), and lurk too."""
    if member_count is None:
        return counts
    speaking = counts["kol"] + counts["active"] + counts["ordinary"]
    return {**counts, "lurker": max(counts["lurker"], member_count - speaking)}


async def segment_counts(
    session: AsyncSession, group_id: str, day: date, settings: ActivitySettings,
    joined: set[str], left: set[str],
) -> dict[str, int]:
    """The segments over the window ending with `day`, given who had joined and left."""
    return count_segments(await window_until(session, group_id, day, settings), joined, left,
                          settings)


async def window_until(session: AsyncSession, group_id: str, day: date,
                       settings: ActivitySettings) -> dict[str, MemberStats]:
    """Each member's chatter over the plugin's window ending with `day`."""
    first = day - timedelta(days=settings.window_days - 1)
    return (await window_stats(session, [group_id], first, day, chatter=True)).get(group_id, {})


_DAILY = (select(ActivityDaily.day, func.sum(ActivityDaily.messages - ActivityDaily.commands))
          .where(ActivityDaily.group_id == bindparam("group"),
                 ActivityDaily.day >= bindparam("first"), ActivityDaily.day <= bindparam("last"))
          .group_by(ActivityDaily.day))


async def daily_messages(
    session: AsyncSession, group_id: str, first: date, last: date
) -> dict[date, int]:
    rows = await session.execute(_DAILY, {"group": group_id, "first": first, "last": last})
    return {day: int(total) for day, total in rows}


def falling(before: dict[str, MemberStats], recent: dict[str, MemberStats],
            min_days: int = 3) -> list[str]:
    """Members who posted on several days before, and not at all lately (活跃度下降)."""
    quiet = [(stats.days, member) for member, stats in before.items()
             if stats.days >= min_days and recent.get(member, MemberStats()).messages == 0]
    return [member for _, member in sorted(quiet, reverse=True)]


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, round(v / top * (len(BARS) - 1)))] for v in values)
