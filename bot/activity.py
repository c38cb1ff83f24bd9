"""Member activity per group and local day, counted in memory and written in batches.

Every message would otherwise cost a database write on the hot path; counters are added
up in a dictionary and flushed as one upsert per batch (every few seconds in real time,
on every advance of the simulated clock, and at shutdown). The words members use (for the
digest's top keywords) are segmented at flush time, off the hot path, and only each closed
day's top words are kept.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Date, Index, Insert, Integer, String, case, delete, func, select, tuple_
from sqlalchemy.orm import Mapped, mapped_column

from bot.events import IncomingMessage, MemberJoined, MemberLeft
from bot.storage import Base, Database, UTCDateTime, dialect_insert

log = logging.getLogger("bot.activity")


class ActivityDaily(Base):
    __tablename__ = "activity_daily"
    # The digest sums each group's days: a covering index spares it every member's rows.
    __table_args__ = (Index("ix_activity_daily_group_day", "group_id", "day", "messages"),)

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    messages: Mapped[int] = mapped_column(Integer, default=0)
    characters: Mapped[int] = mapped_column(Integer, default=0)
    commands: Mapped[int] = mapped_column(Integer, default=0)
    mentions_received: Mapped[int] = mapped_column(Integer, default=0)


class MemberEvent(Base):
    """A member joined or left a group (rare: written as it happens)."""

    __tablename__ = "activity_member_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(128), index=True)
    member_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(8))  # join | leave
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActivityWord(Base):
    """How often a word was used in a group on a local day (closed days: top words only)."""

    __tablename__ = "activity_words"

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    word: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# Per group and day between two flushes: a sample is enough for the top words, and it
# bounds the memory and the segmentation work (CPU beside the message path) in a flood.
TEXTS_PER_BATCH = 20
WORDS_KEPT = 50  # per group and closed day
_STOPWORD_TEXT = (
    "我们 你们 他们 她们 它们 咱们 大家 自己 这个 那个 这些 那些 这样 那样 这里 那里 什么 怎么 "
    "怎么样 为什么 一个 一下 一些 没有 不是 就是 还是 可以 可能 应该 现在 今天 明天 昨天 知道 "
    "觉得 然后 因为 所以 但是 而且 如果 虽然 已经 还有 只是 真的 其实 感觉 时候 哈哈 哈哈哈 "
    "哈哈哈哈 嗯嗯 好的 谢谢 收到 大佬 一起 这么 那么 多少 the and you for are"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_NOT_A_WORD = re.compile(r"^[\W\d_]+$|^https?|^www|^[a-z]$", re.IGNORECASE)
_NOT_WORDS = re.compile(r"https?://\S+|www\.\S+|@\S+")  # links and @-mentions


def load_segmenter() -> None:
    """jieba with its dictionary in a memory-mapped trie (bot/segmenter.py: ~3 MB instead
    of ~60 MB, the same cuts), once per process; the first start builds the cache file."""
    from bot import segmenter  # before any `import jieba`: see bot/shims.py

    segmenter.jieba.setLogLevel(logging.WARNING)
    segmenter.install()


def keywords(texts: list[str]) -> Counter[str]:
    """Words worth showing operators: Chinese segmentation (jieba), no stop words."""
    load_segmenter()  # first: it imports jieba lightly
    import jieba

    counts: Counter[str] = Counter()
    for text in texts:
        for word in jieba.lcut(_NOT_WORDS.sub(" ", text)):  # HMM finds new words (三体)
            word = word.strip().lower()
            if len(word) >= 2 and len(word) <= 32 and word not in _STOPWORDS \
                    and not _NOT_A_WORD.match(word):
                counts[word] += 1
    return counts


@dataclass
class _Counts:
    name: str = ""
    messages: int = 0
    characters: int = 0
    commands: int = 0
    mentions_received: int = 0


Key = tuple[str, str, date]
COUNTERS = ("messages", "characters", "commands", "mentions_received")


class ActivityRecorder:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: dict[Key, _Counts] = {}
        self._texts: dict[tuple[str, date], list[str]] = {}
        self._closed_through: date | None = None  # days up to this one have had their words cut

    def record(self, message: IncomingMessage, day: date, *, command: bool) -> None:
        """Count one message of any kind on the local `day` it was sent (no I/O: this runs
        for every message); only typed words count as characters and words."""
        mine = self._counts((message.group_id, message.sender_id, day))
        mine.name = message.sender_name
        mine.messages += 1
        typed = message.typed_text  # a sticker's XML or a link card is no one's words
        mine.characters += len(typed)
        mine.commands += command
        if not message.mentions_all:  # @所有人 lists every member: no one was mentioned
            for member in set(message.mention_ids):
                self._counts((message.group_id, member, day)).mentions_received += 1
        if not command and typed:
            texts = self._texts.setdefault((message.group_id, day), [])
            if len(texts) < TEXTS_PER_BATCH:
                texts.append(typed[:500])

    def _counts(self, key: Key) -> _Counts:
        counts = self._pending.get(key)
        if counts is None:
            counts = self._pending[key] = _Counts()
        return counts

    async def record_member(self, event: MemberJoined | MemberLeft, at: datetime) -> None:
        """Joins and leaves for the digest and the segments; a failed write is logged."""
        kind = "join" if isinstance(event, MemberJoined) else "leave"
        try:
            async with self.db.transaction() as session:
                session.add(MemberEvent(group_id=event.group_id, member_id=event.member_id,
                                        name=event.member_name[:128], kind=kind, at=at))
        except Exception:
            log.warning("could not record %s of %s in %s", kind, event.member_id,
                        event.group_id, exc_info=True)

    async def flush(self) -> None:
        """Add the pending counts to the database in one statement; kept on failure.

        The words of the batch follow in a second statement (lost if that fails: they only
        feed the digest's keyword list)."""
        await self._flush_counts()
        texts, self._texts = self._texts, {}
        if texts:
            try:
                await self._flush_words(texts)
            except Exception:
                log.warning("could not write the words of %d group-days", len(texts),
                            exc_info=True)

    async def flush_counts(self) -> None:
        """The counters only: what a command reading them needs before it answers. The
        words (jieba in a thread, a second statement) wait for the next timed flush —
        they only feed the digest, and cutting them made every such command slow."""
        await self._flush_counts()

    async def _flush_counts(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        rows = [{"group_id": g, "member_id": m, "day": d, "name": c.name,
                 **{k: getattr(c, k) for k in COUNTERS}} for (g, m, d), c in pending.items()]
        try:
            async with self.db.transaction() as session:
                await session.execute(self._upsert(session.bind.dialect.name), rows)
        except Exception:
            for key, counts in pending.items():  # merge back: nothing is lost
                merged = self._counts(key)
                merged.name = merged.name or counts.name
                for counter in COUNTERS:
                    setattr(merged, counter, getattr(merged, counter) + getattr(counts, counter))
            raise

    @staticmethod
    @cache
    def _upsert(dialect: str) -> Insert:
        """Built once per dialect: building it cost more than the flush's SQL (a command
        that reads the counters flushes them first)."""
        insert = dialect_insert(dialect)
        table = ActivityDaily.__table__
        statement = insert(table)
        incoming = statement.excluded
        added = {k: table.c[k] + incoming[k] for k in COUNTERS}
        # A member seen only as mentioned comes without a name: keep the one we know.
        name = case((incoming.name == "", table.c.name), else_=incoming.name)
        return statement.on_conflict_do_update(
            index_elements=[table.c.group_id, table.c.member_id, table.c.day],
            set_={**added, "name": name},
        )

    @staticmethod
    @cache
    def _add_words(dialect: str) -> Insert:
        """Built once per dialect, like `_upsert` (its `excluded` is a new alias each time:
        a reference cycle of a dozen objects for the collector)."""
        insert = dialect_insert(dialect)(ActivityWord.__table__)
        table = ActivityWord.__table__
        return insert.on_conflict_do_update(
            index_elements=[table.c.group_id, table.c.day, table.c.word],
            set_={"count": table.c.count + insert.excluded["count"]})

    async def _flush_words(self, texts: dict[tuple[str, date], list[str]]) -> None:
        counted = await asyncio.to_thread(
            lambda: {key: keywords(batch) for key, batch in texts.items()})
        rows = [{"group_id": g, "day": d, "word": w, "count": n}
                for (g, d), words in counted.items() for w, n in words.items()]
        newest = max(d for _, d in texts)
        async with self.db.transaction() as session:
            if rows:
                await session.execute(self._add_words(session.bind.dialect.name), rows)
            # Days before yesterday are over in every time zone: keep their top words only.
            closed = newest - timedelta(days=2)
            if self._closed_through is None or closed > self._closed_through:
                since = (self._closed_through or closed - timedelta(days=30)) + timedelta(days=1)
                await session.execute(_keep_top_words(since, closed))
                self._closed_through = closed


def _keep_top_words(since: date, through: date) -> object:
    window = (ActivityWord.day >= since, ActivityWord.day <= through)
    ranked = select(
        ActivityWord.group_id, ActivityWord.day, ActivityWord.word,
        func.row_number().over(partition_by=(ActivityWord.group_id, ActivityWord.day),
                               order_by=(ActivityWord.count.desc(), ActivityWord.word))
        .label("rank"),
    ).where(*window).subquery()
    kept = select(ranked.c.group_id, ranked.c.day, ranked.c.word).where(
        ranked.c.rank <= WORDS_KEPT)
    return delete(ActivityWord).where(
        *window,
        tuple_(ActivityWord.group_id, ActivityWord.day, ActivityWord.word).not_in(kept))
