"""每日早报: a daily briefing in one format, from curated files, tag content and feeds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.almanac import lunar_date
from bot.config import ContentProblem, KeyProblem
from bot.plugin import Job, Plugin
from plugins.briefing import handlers, models  # noqa: F401  (models: tables for migrations)
from plugins.briefing.content import TAGS_DIR, check_files
from plugins.briefing.digest import contribute
from plugins.briefing.feeds import is_url
from plugins.briefing.settings import BriefingSettings
from plugins.briefing.texts import TEXTS


def check_content(settings: BriefingSettings, config_dir: Path) -> list[ContentProblem]:
    """Curated files (each problem with file and line), tag files, and local feed files
    (a missing one at its `url` key's line)."""
    base = config_dir / "config"
    paths = [base / name for name in settings.files]
    if settings.tag_content:
        paths += sorted((base / TAGS_DIR).glob("*.yaml"))
    problems: list[ContentProblem] = list(check_files(paths))
    for n, feed in enumerate(settings.feeds):
        if not is_url(feed.url) and not (base / feed.url).is_file():
            problems.append(KeyProblem(("feeds", n, "url"),
                                       f"找不到订阅源文件 (feed file not found): {feed.url}"))
    return problems


def warm_up(settings: BriefingSettings, config_dir: Path) -> None:
    """The first lunar date builds lunar_python's tables (~11 ms, 0.1 MB): not on the day's
    first 早报. (The saved feed files stay parsed on first use: feedparser costs ~10 MB.)"""
    lunar_date(date.today(), "zh")


plugin: Plugin[BriefingSettings] = Plugin(
    name="briefing",
    title="每日早报",
    title_en="Morning briefing",
    settings=BriefingSettings,
    routers=[handlers.router],
    jobs=[Job("refresh", handlers.refresh_feeds, when=handlers.refresh_schedules),
          Job("post", handlers.post_briefing, when=handlers.post_schedules)],
    texts=TEXTS,
    check_content=check_content,
    digest=contribute,
    on_start=handlers.fill_empty_caches,
    warm_up=warm_up,
)
