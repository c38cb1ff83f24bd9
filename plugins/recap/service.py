"""The recap's rules, as plain functions over a session: what drew replies (recorded here),
the questions answered (qa's tables), check-ins and their best notes (checkin's), the quiz
winners (quiz's) — read through small queries, never through those plugins' handlers —
and the curated events file."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ConfigError, ConfigIssue, load_content, load_content_kept
from bot.groups import GroupSetup
from bot.storage import dialect_insert
from plugins.checkin.models import CheckinMember, CheckinRecord
from plugins.qa import service as qa
from plugins.qa.models import QaAnswer
from plugins.qa.settings import QaSettings
from plugins.quiz.models import QuizAsked
from plugins.recap.models import RecapReplied
from plugins.recap.settings import Event, EventsFile, RecapSettings

TEXT_KEPT = 200


def text_key(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()


async def record_reply(session: AsyncSession, group_id: str, day: date, author_id: str,
                       author_name: str, text: str) -> None:
    """One more reply (a quote, or an @ after it) to `author_id`'s message `text`."""
    insert = dialect_insert(session.bind.dialect.name)
    statement = insert(RecapReplied).values(
        group_id=group_id, day=day, author_id=author_id, text_key=text_key(text),
        author_name=author_name[:128], text=" ".join(text.split())[:TEXT_KEPT], replies=1)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["group_id", "day", "author_id", "text_key"],
        set_={"replies": RecapReplied.replies + 1}))


@dataclass(frozen=True)
class Credit:
    """One recap line's facts: who is credited (@), what, how many."""

    member_id: str
    name: str
    text: str = ""
    count: int = 0


def _span(day: date, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=timezone)
    return start, start + timedelta(days=1)


async def highlights(session: AsyncSession, group_id: str, day: date,
                     settings: RecapSettings) -> list[Credit]:
    r = RecapReplied
    rows = await session.execute(
        select(r.author_id, r.author_name, r.text, r.replies)
        .where(r.group_id == group_id, r.day == day, r.replies >= settings.min_replies)
        .order_by(r.replies.desc(), r.author_id).limit(settings.highlights))
    return [Credit(author, name or author, text, count) for author, name, text, count in rows]


async def answered_questions(session: AsyncSession, group_id: str, day: date,
                             timezone: ZoneInfo, limit: int) -> list[Credit]:
    """The questions the bot answered from its FAQ most often that day (qa's answer log:
    `faq:N` keys; other keys were questions it could not answer). The first asker is
    credited; `text` is the key, resolved to the question by `faq_questions`."""
    start, end = _span(day, timezone)
    rows = await session.execute(
        select(QaAnswer.question_key, QaAnswer.member_id)
        .where(QaAnswer.group_id == group_id, QaAnswer.at >= start, QaAnswer.at < end,
               QaAnswer.question_key.like("faq:%"))
        .order_by(QaAnswer.at, QaAnswer.id))
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for question, member in rows:
        counts[question] += 1
        first.setdefault(question, member)
    order = list(first)
    ranked = sorted(order, key=lambda q: (-counts[q], order.index(q)))[:limit]
    return [Credit(first[q], first[q], q, counts[q]) for q in ranked]


async def faq_questions(session: AsyncSession, group: GroupSetup,
                        config_dir: Path) -> dict[str, str]:
    """`faq:N` → the entry's first wording, by the group's qa settings (none: empty)."""
    enabled = group.enabled("qa")
    if enabled is None or not isinstance(enabled.settings, QaSettings):
        return {}
    paths = [config_dir / "config" / name for name in enabled.settings.faq_files]
    try:
        faq = await qa.faq_for(session, group.id, paths, group.tags)
    except (OSError, ValueError):
        return {}
    return {f"faq:{n}": entry.questions[0] for n, entry in enumerate(faq.entries)}


async def checkins(session: AsyncSession, group_id: str, day: date,
                   limit: int) -> tuple[int, list[Credit]]:
    """How many checked in on `day`, and the best notes (the longest, one per member)."""
    c = CheckinRecord
    rows = list(await session.execute(
        select(c.member_id, c.note).where(c.group_id == group_id, c.day == day,
                                          c.kind == "checkin")))
    names = dict(list(await session.execute(
        select(CheckinMember.member_id, CheckinMember.name)
        .where(CheckinMember.group_id == group_id))))
    noted = sorted(((m, n.strip()) for m, n in rows if n and n.strip()),
                   key=lambda item: (-len(item[1]), item[0]))[:limit]
    return len(rows), [Credit(m, names.get(m) or m, note) for m, note in noted]


async def quiz_winners(session: AsyncSession, group_id: str, day: date, timezone: ZoneInfo,
                       limit: int) -> list[Credit]:
    start, end = _span(day, timezone)
    q = QuizAsked
    rows = await session.execute(
        select(q.winner_id, func.max(q.winner_name), func.count())
        .where(q.group_id == group_id, q.winner_id.is_not(None), q.closed_at >= start,
               q.closed_at < end)
        .group_by(q.winner_id).order_by(func.count().desc(), q.winner_id).limit(limit))
    return [Credit(member, name or member, count=int(count)) for member, name, count in rows]


# -- the curated events file --------------------------------------------------------------

def load_events(path: Path) -> tuple[list[Event], list[ConfigIssue]]:
    """The events file through the core's checker, and — when an edit broke it while the
    bot runs — its last good version with the new one's problems (raises ConfigError
    when no version ever loaded)."""
    loaded, problems = load_content_kept(path, EventsFile)
    return loaded.events, problems


def events_path(settings: RecapSettings, config_dir: Path) -> Path | None:
    return config_dir / "config" / settings.events_file if settings.events_file else None


def events_on(events: list[Event], day: date, group_id: str, group_name: str) -> list[Event]:
    mine = [e for e in events if e.date == day
            and (not e.groups or group_id in e.groups or group_name in e.groups)]
    return sorted(mine, key=lambda e: (e.time, e.title))


def check_content(settings: RecapSettings, config_dir: Path) -> list[ConfigIssue]:
    path = events_path(settings, config_dir)
    if path is None or not path.exists():
        return []  # no events file yet: the recap simply has no preview
    try:
        load_content(path, EventsFile)
    except ConfigError as exc:
        return exc.issues
    return []
