"""Timed posts' content: text files, placeholders and topic pools drawn without repeats."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ConfigIssue, KeyProblem
from bot.config.files import TooLarge, content_file, read_text
from bot.storage import insert_if_missing
from plugins.timed_posts.models import TimedPostsDrawn
from plugins.timed_posts.settings import TimedPost, TimedPostsSettings, TopicPool


def read_lines(path: Path) -> list[str]:
    """One entry a line; blank lines and `#` comments skipped."""
    lines = read_text(path).splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def topics(pool: TopicPool, config_dir: Path) -> list[str]:
    found = list(pool.topics)
    if pool.file:
        found += read_lines(content_file(config_dir, pool.file))
    return list(dict.fromkeys(t.strip() for t in found if t.strip()))


def template(post: TimedPost, config_dir: Path) -> str:
    if post.text_file is not None:
        return read_text(content_file(config_dir, post.text_file)).strip()
    return post.text if post.text is not None else "{topic}"


def _key(topic: str) -> str:
    return hashlib.sha1(topic.encode("utf-8")).hexdigest()


async def draw(
    session: AsyncSession, group_id: str, pool: str, choices: list[str], slot: datetime
) -> str:
    """A topic the group has not had in this round; a new round starts once all were used.
    Raises ValueError when the pool is empty (its file was emptied while the bot ran).

    Seeded by group, pool and slot, so a re-run of the same slot draws the same topic."""
    if not choices:
        raise ValueError(f"topic pool {pool!r} is empty")
    keys = {_key(t): t for t in choices}
    drawn = set(await session.scalars(select(TimedPostsDrawn.topic_key).where(
        TimedPostsDrawn.group_id == group_id, TimedPostsDrawn.pool == pool)))
    remaining = [k for k in keys if k not in drawn]
    if not remaining:  # a new round; it does not open with the topic that closed the last
        last = await session.scalar(select(TimedPostsDrawn.topic_key).where(
            TimedPostsDrawn.group_id == group_id, TimedPostsDrawn.pool == pool)
            .order_by(TimedPostsDrawn.drawn_at.desc()).limit(1))
        await session.execute(delete(TimedPostsDrawn).where(
            TimedPostsDrawn.group_id == group_id, TimedPostsDrawn.pool == pool))
        remaining = [k for k in keys if k != last] or list(keys)
    pick = random.Random(f"{group_id}|{pool}|{slot.isoformat()}").choice(remaining)
    await insert_if_missing(session, TimedPostsDrawn, group_id=group_id, pool=pool,
                            topic_key=pick, drawn_at=slot)
    return keys[pick]


def unreadable(post: TimedPost, settings: TimedPostsSettings, config_dir: Path,
               exc: Exception) -> ConfigIssue | None:
    """Why a post's file could not be used when it was due, for the operators."""
    name = post.text_file or (settings.pool(post.pool).file if post.pool else None)
    if name is None:
        return None
    if isinstance(exc, FileNotFoundError):
        reason = "找不到文件 (file not found)"
    elif isinstance(exc, TooLarge):
        reason = str(exc)
    elif post.text_file is None:
        reason = "话题池是空的 (the topic pool is empty)"
    else:
        reason = f"无法读取 (cannot read): {type(exc).__name__}"
    return ConfigIssue(config_dir / "config" / name, None, "", reason)


def check_content(settings: TimedPostsSettings, config_dir: Path) -> list[KeyProblem]:
    """Each missing file or empty pool at its own key's line in bot.yaml."""
    problems = []
    base = config_dir / "config"
    for n, post in enumerate(settings.posts):
        if post.text_file and not (base / post.text_file).is_file():
            problems.append(KeyProblem(("posts", n, "text_file"),
                                       f"找不到文本文件 (text file not found): {post.text_file}"))
    for name in settings.pools:
        pool = settings.pool(name)
        if pool.file and not (base / pool.file).is_file():
            problems.append(KeyProblem(("pools", name, "file"),
                                       f"找不到话题文件 (topic file not found): {pool.file}"))
        elif not topics(pool, config_dir):
            where = ("pools", name, "file") if pool.file else ("pools", name)
            problems.append(KeyProblem(where, "话题池是空的 (the topic pool is empty)"))
    return problems
