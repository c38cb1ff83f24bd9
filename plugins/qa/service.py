"""Q&A as plain functions: loading FAQs, teaching, remembering what was asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ConfigError, ConfigIssue, load_content, load_content_kept
from plugins.qa.models import QaAnswer, QaTaught, QaUnanswered
from plugins.qa.settings import FaqEntry, FaqFile

if TYPE_CHECKING:  # the matcher brings jieba (and its libraries): loaded with the first FAQ
    from plugins.qa.matcher import FaqIndex

MAX_QUESTION = 500


@dataclass(frozen=True)
class Faq:
    entries: list[FaqEntry]  # the files' entries, then the answers taught in chat
    index: FaqIndex
    # Files an edit broke while the bot runs: their last good version is in use; these are
    # the new version's problems, for the group's operators.
    broken: tuple[ConfigIssue, ...] = ()
    faq_entries: int = 0  # how many come from the files


def faq_file_problems(path: Path) -> list[ConfigIssue]:
    """Every problem of a FAQ file, each at its file and line (the core's capped,
    alias-safe loader, the same checks as bot.yaml's)."""
    try:
        load_content(path, FaqFile)
    except ConfigError as exc:
        return exc.issues
    return []


def load_faq(paths: Sequence[Path], taught: Sequence[tuple[str, str]] = (),
             group_tags: tuple[str, ...] | None = None,
             synonyms: Sequence[Sequence[str]] = (), topic: str = "") -> Faq:
    """Entries with tags go only to groups sharing one of them (None: every entry).
    `topic` is the group's name: its words tell no answer from another.

    Synonyms: the shipped list (in the index), each file's, each entry's and the group's
    (`synonyms`), all merged."""
    entries: list[FaqEntry] = []
    groups: list[Sequence[str]] = [*synonyms]
    broken: list[ConfigIssue] = []
    for path in paths:
        faq_file, problems = load_content_kept(path, FaqFile)  # Q&A must not go silent
        broken += problems
        entries += [e for e in faq_file.entries
                    if group_tags is None or not e.tags or set(e.tags) & set(group_tags)]
        groups += faq_file.synonyms
    groups += [group for entry in entries for group in entry.synonyms]
    from_files = len(entries)
    entries += [FaqEntry(questions=[q], answer=a) for q, a in taught]
    variants = [(q, i) for i, entry in enumerate(entries) for q in entry.questions]
    from plugins.qa.matcher import FaqIndex  # with the first FAQ: jieba is heavy

    return Faq(entries, FaqIndex(variants, groups, topic, [e.answer for e in entries]),
               tuple(broken), from_files)


_cache: dict[tuple[object, ...], Faq] = {}


async def faq_for(session: AsyncSession, group_id: str, paths: list[Path],
                  tags: tuple[str, ...] = (),
                  synonyms: Sequence[Sequence[str]] = (), topic: str = "",
                  taught_cache: dict[str, tuple[tuple[str, str], ...]] | None = None) -> Faq:
    """The group's FAQ, built once and rebuilt only when files or taught answers change.

    The cache holds derived data keyed by its inputs, so sharing it between bots in one
    process is safe. `taught_cache` is one bot's copy of its groups' taught answers (teach
    and forget drop the group's entry), so a question does not read them every time."""
    taught = taught_cache.get(group_id) if taught_cache is not None else None
    if taught is None:
        taught = await taught_answers(session, group_id)
        if taught_cache is not None:
            taught_cache[group_id] = taught
    extra = tuple(tuple(group) for group in synonyms)
    key = (tuple((str(p), _version(p)) for p in paths), taught, tags, extra, topic)
    faq = _cache.get(key)
    if faq is None:
        if len(_cache) > 256:
            _cache.clear()
        faq = _cache[key] = load_faq(paths, taught, tags, extra, topic)
    return faq


def taught_cache(state: dict[str, Any]) -> dict[str, tuple[tuple[str, str], ...]]:
    """One bot's taught answers by group (in the Q&A plugin's state): only teaching
    (`教`, the console's answer to a 待答 question) and `忘记` change them, and each calls
    `taught_changed`."""
    cache: dict[str, tuple[tuple[str, str], ...]] = state.setdefault("taught", {})
    return cache


def taught_changed(state: dict[str, Any], group_id: str) -> None:
    taught_cache(state).pop(group_id, None)


async def taught_answers(session: AsyncSession, group_id: str) -> tuple[tuple[str, str], ...]:
    rows = (await session.execute(select(QaTaught.question, QaTaught.answer).where(
        QaTaught.group_id == group_id).order_by(QaTaught.id))).all()
    return tuple((q, a) for q, a in rows)


def _version(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:  # removed while the bot runs: its last good version answers
        return None
    return stat.st_mtime_ns, stat.st_size


@dataclass(frozen=True)
class Recent:
    """What the limits read before an answer: counted in one statement, not three."""

    repeated: bool  # the same question (key) within the repeat window
    by_member_last_minute: int
    in_group_last_hour: int


def _counted(*conditions: Any) -> Any:
    return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)


# Built once: the statement is read before every answer, and building it (not running it)
# was most of its cost. The bound values take their columns' types.
_RECENT = select(
    _counted(QaAnswer.question_key == bindparam("key"), QaAnswer.at >= bindparam("repeat")),
    _counted(QaAnswer.member_id == bindparam("member"), QaAnswer.at >= bindparam("minute")),
    _counted(QaAnswer.at >= bindparam("hour")),
).where(QaAnswer.group_id == bindparam("group"), QaAnswer.at >= bindparam("since"))


async def recent_answers(session: AsyncSession, group_id: str, member_id: str, key: str,
                         now: datetime, repeat_window: timedelta) -> Recent:
    minute, hour, repeat = (now - timedelta(minutes=1), now - timedelta(hours=1),
                            now - repeat_window)
    row = (await session.execute(_RECENT, {
        "key": key[:500], "repeat": repeat, "member": member_id, "minute": minute,
        "hour": hour, "group": group_id, "since": min(minute, hour, repeat)})).one()
    return Recent(bool(row[0]), int(row[1]), int(row[2]))


# Built once, Core rather than the ORM's unit of work: most @-mentions write one of these,
# and building the statements cost more than SQLite's work (issue 14 point 6).
_REMEMBER = insert(QaAnswer.__table__)
_PURGE = delete(QaAnswer).where(QaAnswer.group_id == bindparam("group"),
                                QaAnswer.at < bindparam("before"))
_UNANSWERED = insert(QaUnanswered.__table__)


async def remember_answer(session: AsyncSession, group_id: str, member_id: str, key: str,
                          now: datetime, *, purge: bool = True) -> None:
    await session.execute(_REMEMBER, {"group_id": group_id, "member_id": member_id,
                                      "question_key": key[:500], "at": now})
    if not purge:
        return
    # Old rows only serve the limits, the repeat window and the digest.
    await session.execute(_PURGE, {"group": group_id, "before": now - timedelta(days=30)})


async def record_unanswered(session: AsyncSession, group_id: str, member_id: str,
                            question: str, now: datetime) -> None:
    await session.execute(_UNANSWERED, {"group_id": group_id, "member_id": member_id,
                                        "question": question[:MAX_QUESTION], "asked_at": now})


async def open_questions(session: AsyncSession, group_id: str, limit: int = 20) -> list[
        QaUnanswered]:
    rows = await session.scalars(select(QaUnanswered).where(
        QaUnanswered.group_id == group_id, QaUnanswered.closed_at.is_(None))
        .order_by(QaUnanswered.asked_at).limit(limit))
    return list(rows)


async def teach(session: AsyncSession, group_id: str, question: str, answer: str, by: str,
                now: datetime, closes: list[QaUnanswered]) -> int:
    """Store (or replace) a taught answer; closes the unanswered questions it answers."""
    await session.execute(delete(QaTaught).where(QaTaught.group_id == group_id,
                                                 QaTaught.question == question))
    session.add(QaTaught(group_id=group_id, question=question[:MAX_QUESTION], answer=answer,
                         taught_by=by, at=now))
    ids = [q.id for q in closes]
    if ids:
        await session.execute(update(QaUnanswered).where(QaUnanswered.id.in_(ids))
                              .values(closed_at=now))
    return len(ids)


async def forget(session: AsyncSession, group_id: str, question: str) -> bool:
    result = await session.execute(delete(QaTaught).where(QaTaught.group_id == group_id,
                                                          QaTaught.question == question))
    return bool(result.rowcount)  # type: ignore[attr-defined]
