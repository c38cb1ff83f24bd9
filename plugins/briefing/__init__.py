"""每日早报: a daily briefing in one format, from curated files, tag content and feeds."""

from __future__ import annotations

from pathlib import Path

from bot.plugin import Job, Plugin
from plugins.briefing import handlers, models  # noqa: F401  (models: tables for migrations)
from plugins.briefing.content import TAGS_DIR, check_files
from plugins.briefing.digest import contribute
from plugins.briefing.feeds import is_url
from plugins.briefing.settings import BriefingSettings
from plugins.briefing.texts import TEXTS


def check_content(settings: BriefingSettings, config_dir: Path) -> list[str]:
    """Curated files (each problem with file and line), tag files, and local feed files."""
    base = config_dir / "config"
    paths = [base / name for name in settings.files]
    if settings.tag_content:
        paths += sorted((base / TAGS_DIR).glob("*.yaml"))
    problems = check_files(paths)
    for feed in settings.feeds:
        if not is_url(feed.url) and not (base / feed.url).is_file():
            problems.append(f"{base / feed.url}: 找不到订阅源文件 (feed file not found)")
    return problems


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
)
