"""RSS/Atom feeds: fetched ahead of the post with a timeout, parsed with feedparser, cached.

The briefing itself only ever reads the cache (briefing_feeds), so a slow or dead feed
never delays it; a failing feed keeps its last good items.
"""

from __future__ import annotations

import asyncio
import calendar
import html
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from plugins.briefing.models import BriefingFeed

if TYPE_CHECKING:  # httpx and feedparser load with the first fetch (~0.1 s and 8 MB at start)
    import httpx

ITEMS_KEPT = 50
# Characters cached per title, so a hostile feed cannot bloat the database (the briefing
# cuts titles much shorter for display).
TITLE_KEPT = 1000
FRESH_FOR = timedelta(minutes=10)  # several groups sharing a feed fetch it once
USER_AGENT = "qunbot-briefing/1.0 (+feed reader)"
_BLOCK_TAG = re.compile(r"<\s*/?\s*(br|p|div|li|tr|h\d)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


class FeedError(Exception):
    pass


@dataclass(frozen=True)
class Fetched:
    items: list[dict[str, str]] | None  # None: not modified since the cached copy
    etag: str | None = None
    modified: str | None = None


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


async def fetch(
    source: str,
    config_dir: Path,
    timeout: float,
    *,
    etag: str | None = None,
    modified: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Fetched:
    """Fetch and parse one feed; raises FeedError with a short reason."""
    if not is_url(source):
        path = config_dir / "config" / source
        try:
            body = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise FeedError(f"cannot read {source}: {exc.strerror or exc}") from None
        return Fetched(await asyncio.to_thread(parse, body))
    import httpx

    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    try:
        async with httpx.AsyncClient(
            timeout=timeout, transport=transport, follow_redirects=True
        ) as client:
            response = await client.get(source, headers=headers)
    except httpx.TimeoutException:
        raise FeedError(f"timed out after {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FeedError(f"{type(exc).__name__}: {exc}"[:200]) from None
    if response.status_code == 304:
        return Fetched(None, etag, modified)
    if response.status_code >= 400:
        raise FeedError(f"HTTP {response.status_code}")
    items = await asyncio.to_thread(parse, response.content)
    return Fetched(items, response.headers.get("ETag"), response.headers.get("Last-Modified"))


def parse(body: bytes) -> list[dict[str, str]]:
    import feedparser

    parsed: Any = feedparser.parse(body)
    if not parsed.entries:
        reason = parsed.get("bozo_exception") if parsed.get("bozo") else "no entries"
        raise FeedError(f"not a feed ({reason})"[:200])
    items = []
    for entry in parsed.entries[:ITEMS_KEPT]:
        title = clean(entry.get("title", ""))[:TITLE_KEPT]
        if title:
            item = {"title": title, "link": str(entry.get("link", ""))[:500]}
            dated = entry.get("published_parsed") or entry.get("updated_parsed")
            if dated:  # feedparser gives UTC struct_time
                item["published"] = datetime.fromtimestamp(calendar.timegm(dated),
                                                           UTC).isoformat()
            items.append(item)
    if not items:
        raise FeedError("no titled entries")
    return items


def _same(item: dict[str, str]) -> str:
    return item.get("link") or item.get("title", "")


def first_seen(fetched: list[dict[str, str]], cached: list[dict[str, str]],
               now: datetime) -> list[dict[str, str]]:
    """The fetched items, each with `seen`: when the bot first saw it (kept from the cached
    copy). An undated item is as old as that: it must not be news forever."""
    before = {_same(item): item["seen"] for item in cached if item.get("seen")}
    return [{**item, "seen": before.get(_same(item), now.astimezone(UTC).isoformat())}
            for item in fetched]


def dated(item: dict[str, str]) -> datetime | None:
    """When an item dates from: its date, else when the bot first saw it (None: brand new,
    as old as nothing)."""
    stamp = item.get("published") or item.get("seen")
    return datetime.fromisoformat(stamp) if stamp else None


def clean(text: str) -> str:
    """Markup out, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", text))).split())


Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def refresh(
    transaction: Transaction,
    source: str,
    config_dir: Path,
    now: datetime,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
    group_id: str = "",
) -> tuple[str | None, bool]:
    """Refresh the cached copy unless it is fresh: (error or None, True if it just started
    failing). No transaction is open while the network is awaited."""
    async with transaction() as session:
        row = await session.get(BriefingFeed, source)
        fresh = (row is not None and row.tried_at is not None and row.error is None
                 and now - row.tried_at < FRESH_FOR)
        if fresh:
            return None, False
        etag, modified = (row.etag, row.modified) if row else (None, None)
    try:
        fetched = await fetch(source, config_dir, timeout, etag=etag, modified=modified,
                              transport=transport)
        error = None
    except FeedError as exc:
        fetched, error = None, str(exc)
    async with transaction() as session:
        row = await session.get(BriefingFeed, source)
        if row is None:
            row = BriefingFeed(url=source, items=[])
            session.add(row)
        row.tried_at = now
        if group_id and group_id not in (row.group_ids or []):
            row.group_ids = [*(row.group_ids or []), group_id]
        if fetched is None:
            newly_failing = row.failing_since is None
            row.error, row.failing_since = error, row.failing_since or now
            return error, newly_failing
        if fetched.items is not None:
            row.items = first_seen(fetched.items, row.items or [], now)
            row.etag, row.modified = fetched.etag, fetched.modified
        row.ok_at, row.error, row.failing_since = now, None, None
        return None, False
