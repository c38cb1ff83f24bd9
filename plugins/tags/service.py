"""Tags as plain functions over a session: set by admins, answered by newcomers, and
computed from what the bot already knows (segments, check-in streaks, invitations, 小黑屋).

Other plugins' tables are read through small queries here; their handlers are never
imported, and a plugin a group does not use simply contributes no automatic tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blackroom import Blackroom
from bot.groups import GroupSetup
from bot.storage import insert_if_missing
from plugins.activity import service as activity
from plugins.activity.settings import ActivitySettings
from plugins.checkin.models import CheckinRecord
from plugins.invites import service as invites
from plugins.tags.models import MemberTag, TagQuestionnaire
from plugins.tags.settings import TagsSettings
from plugins.tags.texts import AUTO_KEYS, TEXTS

_MENTION = re.compile(r"@\S+")
_SEPARATORS = re.compile(r"[\s,，、;；]+")
MAX_TAG = 16


def tag_words(args: str) -> list[str]:
    """The tags named in a command's arguments (mentions removed; `#新人` is 新人)."""
    words = (w.strip().lstrip("#＃") for w in _SEPARATORS.split(_MENTION.sub(" ", args)))
    return list(dict.fromkeys(w[:MAX_TAG] for w in words if w))


def auto_names(language: str) -> dict[str, str]:
    """Automatic tag key → its name in the group's language."""
    return {key: TEXTS.get(language, f"auto.{key}") for key in AUTO_KEYS}


def auto_key(tag: str) -> str | None:
    """The automatic tag a word names, in either language (case-insensitive)."""
    for language in ("zh", "en"):
        for key, name in auto_names(language).items():
            if name.lower() == tag.lower():
                return key
    return None


# -- tags set by hand or by answers ---------------------------------------------------------

async def add(session: AsyncSession, group_id: str, member_id: str, name: str,
              tags: Iterable[str], source: str, now: datetime) -> None:
    for tag in tags:
        await insert_if_missing(session, MemberTag, group_id=group_id, member_id=member_id,
                                tag=tag, name=name[:128], source=source, at=now)


async def remove(session: AsyncSession, group_id: str, member_id: str,
                 tags: Iterable[str]) -> int:
    result = await session.execute(delete(MemberTag).where(
        MemberTag.group_id == group_id, MemberTag.member_id == member_id,
        MemberTag.tag.in_(list(tags))))
    return int(result.rowcount or 0)


async def forget_member(session: AsyncSession, group_id: str, member_id: str) -> None:
    """A member left: their tags and any open questionnaire go (a post must not @ them)."""
    for model in (MemberTag, TagQuestionnaire):
        await session.execute(delete(model).where(model.group_id == group_id,
                                                  model.member_id == member_id))


async def stored_tags(session: AsyncSession, group_id: str, member_id: str) -> list[str]:
    rows = await session.scalars(select(MemberTag.tag).where(
        MemberTag.group_id == group_id, MemberTag.member_id == member_id)
        .order_by(MemberTag.at, MemberTag.tag))
    return list(rows)


async def stored_counts(
    session: AsyncSession, group_ids: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Members per tag set by hand or by answers, per group."""
    counts: dict[str, dict[str, int]] = {}
    rows = await session.execute(
        select(MemberTag.group_id, MemberTag.tag, func.count())
        .where(MemberTag.group_id.in_(list(group_ids)))
        .group_by(MemberTag.group_id, MemberTag.tag))
    for group, tag, count in rows:
        counts.setdefault(group, {})[tag] = int(count)
    return counts


async def stored_members(session: AsyncSession, group_id: str,
                         tags: Iterable[str]) -> dict[str, str]:
    rows = await session.execute(select(MemberTag.member_id, MemberTag.name).where(
        MemberTag.group_id == group_id, MemberTag.tag.in_(list(tags)))
        .order_by(MemberTag.at, MemberTag.member_id))
    return {member: name or member for member, name in rows}


# -- automatic tags -------------------------------------------------------------------------

@dataclass
class AutoTags:
    """Who carries each automatic tag right now (member id → display name)."""

    members: dict[str, dict[str, str]]

    def of(self, member_id: str) -> list[str]:
        return [key for key, found in self.members.items() if member_id in found]


async def compute_auto(session: AsyncSession, group: GroupSetup, settings: TagsSettings,
                       now: datetime, blackroom: Blackroom) -> AutoTags:
    found: dict[str, dict[str, str]] = {key: {} for key in AUTO_KEYS}
    if not settings.auto:
        return AutoTags(found)
    today = now.astimezone(group.timezone).date()
    found.update(await _segments(session, group, today))
    began = await blackroom.latest_starts(session, group.id)  # a stay breaks a streak
    cuts = {member: at.astimezone(group.timezone).date() for member, at in began.items()}
    found["streak"] = await _streaks(session, group.id, today, settings.streak_days, cuts)
    found["blackroom"] = {stay.member_id: stay.name or stay.member_id  # the core's 小黑屋
                          for stay in await blackroom.list(session, group.id, now)}
    found["inviter"] = await _top_inviters(session, group.id, settings.top_inviters)
    return AutoTags(found)


async def _segments(session: AsyncSession, group: GroupSetup,
                    today: date) -> dict[str, dict[str, str]]:
    """KOL / 活跃 / 普通 / 潜水 by the group's activity rules (defaults if it has none)."""
    enabled = group.enabled("activity")
    rules = enabled.settings if enabled is not None else ActivitySettings()
    assert isinstance(rules, ActivitySettings)
    first = today - timedelta(days=rules.window_days - 1)
    stats = (await activity.window_stats(session, [group.id], first, today)).get(group.id, {})
    joined, left = await activity.membership(session, [group.id])
    gone = left.get(group.id, set())
    total = sum(s.messages for s in stats.values())
    result: dict[str, dict[str, str]] = {name: {} for name in activity.SEGMENTS}
    for member, figures in stats.items():
        if member not in gone:
            result[activity.segment_of(figures, total, rules)][member] = figures.name or member
    for member in joined.get(group.id, set()) - set(stats):
        result["lurker"][member] = member
    return result


async def _streaks(session: AsyncSession, group_id: str, today: date, length: int,
                   cuts: dict[str, date]) -> dict[str, str]:
    """Members whose check-in streak (through today, or through yesterday if they have not
    checked in yet today) is at least `length` days; days up to a member's latest 小黑屋
    stay (`cuts`) do not count."""
    rows = await session.execute(select(CheckinRecord.member_id, CheckinRecord.day).where(
        CheckinRecord.group_id == group_id, CheckinRecord.day >= today - timedelta(days=length)))
    days: dict[str, set[date]] = {}
    for member, day in rows:
        if member not in cuts or day > cuts[member]:
            days.setdefault(member, set()).add(day)
    result = {}
    for member, kept in days.items():
        day, run = (today if today in kept else today - timedelta(days=1)), 0
        while day in kept:
            run, day = run + 1, day - timedelta(days=1)
        if run >= length:
            result[member] = member
    return result


async def _top_inviters(session: AsyncSession, group_id: str, count: int) -> dict[str, str]:
    """The best inviters by invitees counted (still in the group, past stay_days)."""
    if count == 0:
        return {}
    best = invites.ranked(await invites.counted(session, group_id), count)
    return {inviter: inviter for inviter, _ in best}


# -- both kinds together --------------------------------------------------------------------

async def members_with(session: AsyncSession, group: GroupSetup, settings: TagsSettings,
                       tags: Iterable[str], now: datetime,
                       blackroom: Blackroom) -> dict[str, str]:
    """Members carrying any of `tags` (set by hand, answered, or automatic)."""
    wanted = list(tags)
    found = await stored_members(session, group.id, wanted)
    keys = [key for tag in wanted if (key := auto_key(tag)) is not None]
    if keys:
        auto = await compute_auto(session, group, settings, now, blackroom)
        for key in keys:
            for member, name in auto.members[key].items():
                found.setdefault(member, name)
    return found


# -- the join questionnaire -----------------------------------------------------------------

async def open_questionnaire(session: AsyncSession, group_id: str, member_id: str,
                             now: datetime) -> None:
    await session.execute(delete(TagQuestionnaire).where(
        TagQuestionnaire.group_id == group_id, TagQuestionnaire.member_id == member_id))
    session.add(TagQuestionnaire(group_id=group_id, member_id=member_id, question=0,
                                 asked_at=now))


async def open_questionnaires(session: AsyncSession, group_id: str,
                              since: datetime) -> list[str]:
    rows = await session.scalars(select(TagQuestionnaire.member_id).where(
        TagQuestionnaire.group_id == group_id, TagQuestionnaire.asked_at > since))
    return list(rows)


@dataclass(frozen=True)
class Answered:
    tag: str
    next_question: int | None  # index of the question to ask now, None when done


def choice_number(text: str) -> int | None:
    """A lone number (ASCII or full-width digits): an answer to a questionnaire."""
    word = text.strip().rstrip("。.!！")
    return int(word) if word.isdigit() and len(word) <= 2 else None


async def answer(session: AsyncSession, group_id: str, member_id: str, name: str, number: int,
                 settings: TagsSettings, now: datetime) -> Answered | None:
    """Records the answer to the waiting question; None when no question waits (lapsed or
    answered) or the number is not one of its choices."""
    row = await session.get(TagQuestionnaire, (group_id, member_id))
    if row is None:
        return None
    if row.asked_at + settings.answer_within <= now or row.question >= len(settings.questions):
        await session.delete(row)  # lapsed: no tag, and never asked again
        return None
    choices = settings.questions[row.question].choices
    if not 1 <= number <= len(choices):
        return None
    tag = choices[number - 1].tag
    await add(session, group_id, member_id, name, [tag], "answer", now)
    following = row.question + 1
    if following < len(settings.questions):
        row.question, row.asked_at = following, now
        return Answered(tag, following)
    await session.delete(row)
    return Answered(tag, None)
